/** Frameworks a folder uses, read from its dependency manifests. */
import { parse as parseToml } from 'smol-toml';

/** Dependency name → framework, per ecosystem. Only names that say something about how the code is written. */
const NPM: Record<string, string> = {
  react: 'React', 'react-native': 'React Native', next: 'Next.js', vue: 'Vue', nuxt: 'Nuxt', '@angular/core': 'Angular',
  svelte: 'Svelte', '@sveltejs/kit': 'SvelteKit', 'solid-js': 'Solid', preact: 'Preact', lit: 'Lit', astro: 'Astro',
  '@remix-run/react': 'Remix', gatsby: 'Gatsby', express: 'Express', koa: 'Koa', fastify: 'Fastify', hono: 'Hono',
  '@nestjs/core': 'NestJS', '@hapi/hapi': 'hapi', electron: 'Electron', '@tauri-apps/api': 'Tauri',
  'socket.io': 'Socket.IO', graphql: 'GraphQL', '@apollo/server': 'Apollo', '@trpc/server': 'tRPC', prisma: 'Prisma',
  '@prisma/client': 'Prisma', typeorm: 'TypeORM', sequelize: 'Sequelize', mongoose: 'Mongoose', 'drizzle-orm': 'Drizzle',
  redux: 'Redux', '@reduxjs/toolkit': 'Redux', mobx: 'MobX', rxjs: 'RxJS', tailwindcss: 'Tailwind CSS',
  'styled-components': 'styled-components', '@emotion/react': 'Emotion', '@mui/material': 'MUI', jquery: 'jQuery',
  three: 'three.js', d3: 'D3', jest: 'Jest', vitest: 'Vitest', mocha: 'Mocha', '@playwright/test': 'Playwright',
  cypress: 'Cypress', webpack: 'webpack', vite: 'Vite', esbuild: 'esbuild', rollup: 'Rollup', typescript: 'TypeScript',
  '@tensorflow/tfjs': 'TensorFlow.js', 'onnxruntime-node': 'ONNX Runtime', '@vscode/test-electron': 'VS Code extension',
  'zod': 'Zod', 'lodash': 'Lodash', 'axios': 'Axios',
};

const PYTHON: Record<string, string> = {
  django: 'Django', flask: 'Flask', fastapi: 'FastAPI', starlette: 'Starlette', tornado: 'Tornado', aiohttp: 'aiohttp',
  pyramid: 'Pyramid', sqlalchemy: 'SQLAlchemy', pydantic: 'Pydantic', celery: 'Celery', numpy: 'NumPy', pandas: 'pandas',
  scipy: 'SciPy', 'scikit-learn': 'scikit-learn', torch: 'PyTorch', tensorflow: 'TensorFlow', jax: 'JAX', keras: 'Keras',
  transformers: 'Transformers', pytest: 'pytest', matplotlib: 'Matplotlib', streamlit: 'Streamlit', click: 'Click',
  typer: 'Typer', requests: 'Requests', httpx: 'HTTPX', scrapy: 'Scrapy', 'pyside6': 'Qt for Python', pyqt5: 'PyQt',
  langchain: 'LangChain', polars: 'Polars', onnxruntime: 'ONNX Runtime',
};

const GO: Record<string, string> = {
  'github.com/gin-gonic/gin': 'Gin', 'github.com/labstack/echo': 'Echo', 'github.com/gofiber/fiber': 'Fiber',
  'github.com/gorilla/mux': 'Gorilla', 'github.com/go-chi/chi': 'chi', 'github.com/spf13/cobra': 'Cobra',
  'google.golang.org/grpc': 'gRPC', 'gorm.io/gorm': 'GORM', 'k8s.io/client-go': 'Kubernetes client',
  'github.com/stretchr/testify': 'testify',
};

const RUST: Record<string, string> = {
  tokio: 'Tokio', 'actix-web': 'Actix Web', axum: 'axum', rocket: 'Rocket', warp: 'warp', serde: 'Serde', diesel: 'Diesel',
  sqlx: 'SQLx', bevy: 'Bevy', clap: 'clap', tauri: 'Tauri', 'wasm-bindgen': 'wasm-bindgen', tonic: 'tonic', leptos: 'Leptos',
  yew: 'Yew', rayon: 'Rayon',
};

const JVM: Record<string, string> = {
  'spring-boot': 'Spring Boot', 'spring-core': 'Spring', 'spring-webmvc': 'Spring MVC', quarkus: 'Quarkus',
  micronaut: 'Micronaut', junit: 'JUnit', 'junit-jupiter': 'JUnit', hibernate: 'Hibernate', ktor: 'Ktor',
  'kotlinx-coroutines': 'Kotlin coroutines', 'com.android.application': 'Android', 'com.android.library': 'Android',
  androidx: 'AndroidX', 'jakarta.': 'Jakarta EE', lombok: 'Lombok', vertx: 'Vert.x',
};

const RUBY: Record<string, string> = { rails: 'Rails', sinatra: 'Sinatra', rspec: 'RSpec', hanami: 'Hanami' };
const PHP: Record<string, string> = { 'laravel/framework': 'Laravel', 'symfony/symfony': 'Symfony', 'symfony/framework-bundle': 'Symfony', 'slim/slim': 'Slim', 'phpunit/phpunit': 'PHPUnit' };
const DART: Record<string, string> = { flutter: 'Flutter', riverpod: 'Riverpod', bloc: 'Bloc' };
const ELIXIR: Record<string, string> = { phoenix: 'Phoenix', ecto: 'Ecto', phoenix_live_view: 'Phoenix LiveView' };
const DOTNET: Record<string, string> = {
  'Microsoft.AspNetCore': 'ASP.NET Core', 'Microsoft.EntityFrameworkCore': 'Entity Framework Core', xunit: 'xUnit',
  NUnit: 'NUnit', 'Microsoft.Maui': '.NET MAUI', Avalonia: 'Avalonia',
};

export const MANIFESTS = new Set([
  'package.json', 'requirements.txt', 'requirements-dev.txt', 'pyproject.toml', 'Pipfile', 'setup.py', 'setup.cfg',
  'go.mod', 'Cargo.toml', 'pom.xml', 'build.gradle', 'build.gradle.kts', 'Gemfile', 'composer.json', 'pubspec.yaml',
  'mix.exs', 'deno.json', 'deno.jsonc',
]);

export function isManifest(name: string): boolean {
  return MANIFESTS.has(name) || name.endsWith('.csproj') || name.endsWith('.fsproj') || /^requirements.*\.txt$/.test(name);
}

function lookup(table: Record<string, string>, dep: string, prefix = false): string | undefined {
  const exact = table[dep];
  if (exact) return exact;
  if (prefix) for (const [k, v] of Object.entries(table)) if (dep.startsWith(k)) return v;
  return undefined;
}

function pythonName(spec: string): string {
  return spec.trim().split(/[\s<>=!~;[@(]/)[0]!.toLowerCase().replace(/_/g, '-');
}

/** Dependency names from a manifest's text. Malformed manifests yield nothing rather than failing the walk. */
function dependencies(name: string, text: string): Array<[Record<string, string>, string, boolean]> {
  const out: Array<[Record<string, string>, string, boolean]> = [];
  const add = (table: Record<string, string>, deps: Iterable<string>, prefix = false) => {
    for (const d of deps) out.push([table, d, prefix]);
  };
  try {
    if (name === 'package.json' || name === 'composer.json') {
      const pkg = JSON.parse(text) as Record<string, unknown>;
      const keys = ['dependencies', 'devDependencies', 'peerDependencies', 'require', 'require-dev'];
      const names = keys.flatMap((k) => Object.keys((pkg[k] as Record<string, unknown> | undefined) ?? {}));
      add(name === 'package.json' ? NPM : PHP, names);
      if (name === 'package.json' && (pkg.engines as Record<string, unknown> | undefined)?.vscode) add(NPM, ['@vscode/test-electron']);
    } else if (name === 'deno.json' || name === 'deno.jsonc') {
      add(NPM, [...text.matchAll(/"(?:npm:)?(@?[a-z0-9@/._-]+)@/g)].map((m) => m[1]!));
    } else if (/^requirements.*\.txt$/.test(name)) {
      add(PYTHON, text.split('\n').filter((l) => l.trim() && !/^\s*[#-]/.test(l)).map(pythonName));
    } else if (name === 'pyproject.toml' || name === 'Pipfile') {
      const t = parseToml(text) as Record<string, any>;
      const specs: string[] = [
        ...(t.project?.dependencies ?? []),
        ...Object.values<string[]>(t.project?.['optional-dependencies'] ?? {}).flat(),
        ...Object.values<string[]>(t['dependency-groups'] ?? {}).flat().filter((x) => typeof x === 'string'),
        ...Object.keys(t.tool?.poetry?.dependencies ?? {}),
        ...Object.keys(t.tool?.poetry?.['dev-dependencies'] ?? {}),
        ...Object.values<Record<string, unknown>>(t.tool?.poetry?.group ?? {}).flatMap((g: any) => Object.keys(g?.dependencies ?? {})),
        ...Object.keys(t.packages ?? {}),
        ...Object.keys(t['dev-packages'] ?? {}),
      ];
      add(PYTHON, specs.map(pythonName));
    } else if (name === 'setup.py') {
      const block = /(?:install_requires|tests_require|extras_require)\s*=\s*[[{]([\s\S]*?)[\]}]/.exec(text)?.[1] ?? '';
      add(PYTHON, [...block.matchAll(/["']([^"']+)["']/g)].map((m) => pythonName(m[1]!)));
    } else if (name === 'setup.cfg') {
      const block = /^install_requires\s*=\s*\n((?:[ \t]+\S.*\n?)*)/m.exec(text)?.[1] ?? '';
      add(PYTHON, block.split('\n').filter((l) => l.trim()).map(pythonName));
    } else if (name === 'go.mod') {
      add(GO, [...text.matchAll(/^\s*(?:require\s+)?([a-z0-9.-]+\.[a-z]+\/[^\s]+)\s+v/gm)].map((m) => m[1]!), true);
    } else if (name === 'Cargo.toml') {
      const t = parseToml(text) as Record<string, any>;
      add(RUST, [
        ...Object.keys(t.dependencies ?? {}),
        ...Object.keys(t['dev-dependencies'] ?? {}),
        ...Object.keys(t.workspace?.dependencies ?? {}),
      ]);
    } else if (name === 'pom.xml') {
      add(JVM, [...text.matchAll(/<artifactId>\s*([^<\s]+)\s*<\/artifactId>/g)].map((m) => m[1]!), true);
    } else if (name === 'build.gradle' || name === 'build.gradle.kts') {
      add(JVM, [...text.matchAll(/["']([\w.-]+):([\w.-]+)(?::[^"']*)?["']/g)].flatMap((m) => [m[1]!, m[2]!]), true);
      add(JVM, [...text.matchAll(/id\s*\(?\s*["']([\w.-]+)["']/g)].map((m) => m[1]!), true);
    } else if (name === 'Gemfile') {
      add(RUBY, [...text.matchAll(/^\s*gem\s+["']([\w-]+)["']/gm)].map((m) => m[1]!));
    } else if (name === 'pubspec.yaml') {
      add(DART, [...text.matchAll(/^\s{2}(\w+):/gm)].map((m) => m[1]!));
    } else if (name === 'mix.exs') {
      add(ELIXIR, [...text.matchAll(/\{\s*:(\w+)\s*,/g)].map((m) => m[1]!));
    } else if (name.endsWith('.csproj') || name.endsWith('.fsproj')) {
      add(DOTNET, [...text.matchAll(/<PackageReference\s+Include="([^"]+)"/g)].map((m) => m[1]!), true);
      if (/Sdk="Microsoft\.NET\.Sdk\.Web"/.test(text)) add(DOTNET, ['Microsoft.AspNetCore']);
    }
  } catch {
    // A manifest that does not parse names no frameworks; the file itself is still judged as code.
  }
  return out;
}

/** Framework names a manifest declares, sorted and unique. */
export function frameworksInManifest(name: string, text: string): string[] {
  const found = new Set<string>();
  for (const [table, dep, prefix] of dependencies(name, text)) {
    const fw = lookup(table, dep, prefix);
    if (fw) found.add(fw);
  }
  return [...found].sort();
}
