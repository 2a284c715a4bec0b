import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig, loadEnv, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * A Content-Security-Policy for the built page: scripts only from the dashboard's own
 * origin, API calls only to the API. Report text is rendered as text anyway; this is the
 * second line should a rendering bug ever slip through.
 */
function contentSecurityPolicy(apiBase: string): Plugin {
  const api = apiBase ? new URL(apiBase).origin : '';
  const policy = [
    "default-src 'self'",
    "script-src 'self'",
    `connect-src 'self'${api ? ` ${api}` : ''}`,
    "img-src 'self' data:",
    // uPlot and Preact set element styles from script.
    "style-src 'self' 'unsafe-inline'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
  return {
    name: 'log-center-csp',
    apply: 'build',
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content: policy },
        injectTo: 'head-prepend',
      },
    ],
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
    plugins: [preact(), contentSecurityPolicy(env.VITE_API_BASE_URL ?? '')],
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
