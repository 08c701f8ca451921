// Bundles: the extension host, the worker thread and the CLI (Node), and the webview app (browser).
// Native packages stay external and ship in node_modules inside the .vsix.
'use strict';
const path = require('node:path');
const fs = require('node:fs');

// @tensorflow/tfjs-node-gpu is external too but never in the .vsix: the optional training engine, required only when
// asked for (src/runtime/tfjsLoader.ts), from wherever the user installed it; usually absent.
const NATIVE = ['onnxruntime-node', 'webgpu', '@tensorflow/tfjs-node-gpu'];

/** @type {(env: unknown, argv: { mode?: string }) => import('webpack').Configuration[]} */
module.exports = (_env, argv) => {
  const production = argv.mode === 'production';
  const common = {
    mode: production ? 'production' : 'development',
    devtool: production ? 'source-map' : 'eval-cheap-module-source-map',
    resolve: { extensions: ['.ts', '.js'], conditionNames: ['node', 'require', 'import', 'default'] },
    module: {
      rules: [{ test: /\.ts$/, exclude: /node_modules/, loader: 'esbuild-loader', options: { target: 'es2022' } }],
    },
    infrastructureLogging: { level: 'warn' },
    stats: 'errors-warnings',
    performance: { hints: false },
  };
  const node = {
    ...common,
    target: 'node20',
    // createRequire stays Node's: the tfjs-node-gpu loader loads the package from npm's global folder, a path known
    // only at run time (src/runtime/tfjsLoader.ts), which webpack's own handling would replace with `undefined`.
    module: { ...common.module, parser: { javascript: { createRequire: false } } },
    devtool: production ? 'source-map' : 'source-map',
    output: { path: path.resolve(__dirname, 'dist'), filename: '[name].js', libraryTarget: 'commonjs2', clean: false },
    externals: [{ vscode: 'commonjs vscode' }, ...NATIVE.map((n) => ({ [n]: `commonjs ${n}` }))],
    node: { __dirname: false, __filename: false },
  };
  const configs = [
    { ...node, name: 'extension', entry: { extension: './src/extension.ts' } },
    { ...node, name: 'worker', entry: { worker: './src/train/worker.ts' } },
    { ...node, name: 'cli', entry: { cli: './src/cli/entry.ts' } },
  ];
  if (fs.existsSync(path.join(__dirname, 'webview-ui', 'src', 'main.ts'))) {
    configs.push({
      ...common,
      name: 'webview',
      target: 'web',
      // The webview's CSP allows no eval (so no eval source maps), and lit must resolve to its browser build.
      devtool: 'source-map',
      resolve: { extensions: ['.ts', '.js'], conditionNames: ['browser', 'import', 'default'] },
      entry: { webview: './webview-ui/src/main.ts', monitor: './webview-ui/src/monitor/main.ts' },
      output: { path: path.resolve(__dirname, 'dist'), filename: '[name].js' },
      plugins: [
        {
          // uPlot's stylesheet, next to the monitor bundle (the webview loads it as dist/monitor.css).
          apply: (compiler) =>
            compiler.hooks.afterEmit.tap('CopyUplotCss', () => {
              fs.copyFileSync(require.resolve('uplot/dist/uPlot.min.css'), path.resolve(__dirname, 'dist', 'monitor.css'));
            }),
        },
      ],
    });
  }
  return configs;
};
