// Bundles the Node entry into dist/server/node.mjs: plain `node` runs it without a loader,
// which starts faster and uses less memory than running the TypeScript through tsx.
// The ingest writer thread is a second entry: db-file.ts starts it from beside the bundle.
import { build } from 'esbuild';

await build({
  entryPoints: { node: 'functions/node.ts', 'writer-thread': 'functions/lib/writer-thread.ts' },
  outdir: 'dist/server',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
console.log('built dist/server/node.mjs and dist/server/writer-thread.mjs');
