// Bundles the Node entry into dist/server/node.mjs: plain `node` runs it without a loader,
// which starts faster and uses less memory than running the TypeScript through tsx.
// The ingest writer thread and the read thread are entries of their own: db-file.ts starts
// them from beside the bundle.
import { build } from 'esbuild';

await build({
  entryPoints: {
    node: 'functions/node.ts',
    'writer-thread': 'functions/lib/writer-thread.ts',
    'reader-thread': 'functions/lib/reader-thread.ts',
  },
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
console.log('built dist/server/node.mjs, writer-thread.mjs and reader-thread.mjs');
