/** What every corpus leaves out without being told: dependencies, build output, tool caches, lock files. */

const DIRS: ReadonlyMap<string, string> = new Map(
  Object.entries({
    // version control
    '.git': 'version control', '.hg': 'version control', '.svn': 'version control', '.bzr': 'version control',
    '.jj': 'version control', _darcs: 'version control',
    // dependencies and vendored trees
    node_modules: 'npm packages', bower_components: 'Bower packages', jspm_packages: 'jspm packages',
    '.pnpm-store': 'pnpm store', '.yarn': 'Yarn cache and releases', vendor: 'vendored dependencies',
    third_party: 'vendored dependencies', 'third-party': 'vendored dependencies', thirdparty: 'vendored dependencies',
    Pods: 'CocoaPods dependencies', Carthage: 'Carthage dependencies', '.bundle': 'Bundler dependencies',
    'elm-stuff': 'Elm packages', 'site-packages': 'Python packages', __pypackages__: 'Python packages',
    '.venv': 'Python virtual environment', venv: 'Python virtual environment', '.pub-cache': 'Dart packages',
    '.m2': 'Maven repository', '.ivy2': 'Ivy repository',
    // build output
    dist: 'build output', build: 'build output', out: 'build output', target: 'build output', obj: 'build output',
    '.next': 'build output', '.nuxt': 'build output', '.svelte-kit': 'build output', '.output': 'build output',
    '.vercel': 'build output', '.netlify': 'build output', '.docusaurus': 'build output', '.expo': 'build output',
    '.serverless': 'build output', _build: 'build output', '.stack-work': 'build output', 'dist-newstyle': 'build output',
    'zig-cache': 'build output', '.zig-cache': 'build output', 'zig-out': 'build output', DerivedData: 'build output',
    '.build': 'build output', CMakeFiles: 'build output', 'storybook-static': 'build output', '.angular': 'build output',
    '.dart_tool': 'build output', '.gradle': 'Gradle cache', '.terraform': 'Terraform providers',
    // caches and tool state
    __pycache__: 'Python bytecode', '.pytest_cache': 'tool cache', '.mypy_cache': 'tool cache', '.ruff_cache': 'tool cache',
    '.tox': 'tool cache', '.nox': 'tool cache', '.eggs': 'build output', '.ipynb_checkpoints': 'notebook checkpoints',
    '.cache': 'tool cache', '.parcel-cache': 'tool cache', '.turbo': 'tool cache', '.sass-cache': 'tool cache',
    '.nyc_output': 'coverage output', coverage: 'coverage output', htmlcov: 'coverage output',
    '.idea': 'editor settings', '.vs': 'editor settings', '.vscode-test': 'VS Code test downloads', '.history': 'editor history',
    '.metals': 'tool cache', '.bloop': 'tool cache',
  }),
);

const DIR_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/\.egg-info$/, 'Python build metadata'],
  [/^cmake-build-/, 'build output'],
];

/** Why a folder is left out by default, or undefined. `entries` is the folder's listing, when known. */
export function builtinDirReason(name: string, entries?: readonly string[]): string | undefined {
  const known = DIRS.get(name);
  if (known) return known;
  for (const [re, why] of DIR_PATTERNS) if (re.test(name)) return why;
  if (entries?.includes('pyvenv.cfg')) return 'Python virtual environment';
  return undefined;
}

const LOCKFILES = new Set([
  'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb', 'bun.lock', 'deno.lock',
  'Cargo.lock', 'poetry.lock', 'Pipfile.lock', 'pdm.lock', 'uv.lock', 'composer.lock', 'Gemfile.lock', 'go.sum',
  'go.work.sum', 'mix.lock', 'pubspec.lock', 'packages.lock.json', 'flake.lock', 'Package.resolved', 'Podfile.lock',
  'gradle.lockfile', 'conan.lock', 'paket.lock', 'shard.lock', 'cabal.project.freeze', 'stack.yaml.lock',
]);

export function isLockfile(name: string): boolean {
  return LOCKFILES.has(name);
}

const JUNK_FILES = new Set(['.DS_Store', 'Thumbs.db', 'desktop.ini', '.eslintcache', '.tsbuildinfo']);

export function isJunkFile(name: string): boolean {
  return JUNK_FILES.has(name) || name.endsWith('.tsbuildinfo');
}

/** Extensions of files that are binary by kind: skipped without being read. */
const BINARY_EXTENSIONS = new Set(
  (
    'png jpg jpeg gif bmp ico icns tif tiff webp avif heic psd ai eps xcf raw cr2 nef ' +
    'mp3 wav flac ogg oga opus m4a aac wma mid midi mp4 m4v mov avi mkv webm wmv flv mpg mpeg 3gp ' +
    'zip tar gz tgz bz2 xz zst lz lz4 7z rar jar war ear apk aab ipa deb rpm dmg iso img msi cab crx xpi vsix nupkg whl egg gem ' +
    'exe dll so dylib a lib o obj ko elf bin dat pdb ilk exp class pyc pyo pyd beam wasm node dex odex ' +
    'woff woff2 ttf otf eot fon pfb ' +
    'pdf doc docx xls xlsx ppt pptx odt ods odp rtf epub mobi ' +
    'sqlite sqlite3 db mdb accdb realm lmdb ldb ' +
    'parquet avro orc feather arrow npy npz pkl pickle h5 hdf5 nc mat sav rds rdata ' +
    'onnx pt pth ckpt safetensors gguf ggml tflite pb mlmodel caffemodel weights ' +
    'blend fbx glb 3ds max stl ply usdz dae ' +
    'swf fla xap unity3d pak assets lockb'
  )
    .split(' ')
    .map((e) => '.' + e.toLowerCase()),
);

export function hasBinaryExtension(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && BINARY_EXTENSIONS.has(name.slice(dot).toLowerCase());
}
