// Bundles the monitor into one ESM file that runs on plain Node 20, so the runtime image needs
// neither node_modules nor a TypeScript loader. Used by monitor/Dockerfile and by the test that
// runs the bundle. Usage: node monitor/build.mjs [outfile]
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const outfile = process.argv[2] ?? fileURLToPath(new URL('./dist/monitor.mjs', import.meta.url));

await build({
  entryPoints: [fileURLToPath(new URL('./src/main.ts', import.meta.url))],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  // Some of the Kubernetes client's dependencies are CommonJS and call require() for Node built-ins,
  // which an ESM bundle lacks until it is provided.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
});
