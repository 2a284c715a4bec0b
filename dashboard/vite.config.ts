import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig, loadEnv, type Plugin } from 'vite';
import { pagesHeadersFile } from '../functions/middleware/headers';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The Cloudflare Pages `_headers` file: the same security headers the Node server sends with
 * the dashboard (functions/middleware/headers.ts), with the API's origin allowed for
 * `connect-src`. Written by the build rather than kept in `public/` because that origin is
 * only known at build time. Headers, not a <meta> policy: a meta policy cannot forbid framing.
 */
function pagesHeaders(apiBase: string): Plugin {
  return {
    name: 'log-center-pages-headers',
    apply: 'build',
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: '_headers', source: pagesHeadersFile(apiBase) });
    },
  };
}

export default defineConfig(({ command, mode }) => {
  // A build is what the server and Pages serve. A NODE_ENV left over from the shell or a test
  // runner (vitest sets "test") would otherwise make it a development build with the Preact
  // devtools bridge in it; Vite reads NODE_ENV after loading this file.
  if (command === 'build') process.env.NODE_ENV = 'production';
  const env = loadEnv(mode, root, 'VITE_');
  return {
    root,
    plugins: [preact(), pagesHeaders(env.VITE_API_BASE_URL ?? '')],
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      target: 'es2022',
      // Every browser this dashboard targets has modulepreload; the polyfill is dead weight.
      modulePreload: { polyfill: false },
    },
    server: {
      // `npm run dev` serves the API on 8002; the dev server forwards API calls to it.
      proxy: { '/api': process.env.LOG_CENTER_URL ?? 'http://127.0.0.1:8002' },
    },
  };
});
