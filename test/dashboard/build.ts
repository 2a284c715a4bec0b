import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const DIST = join(ROOT, 'dashboard', 'dist');
const VITE = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');

/** `vite build` of the dashboard, as `npm run build:dashboard` runs it. */
export function buildDashboard(options: { outDir?: string; apiBase?: string } = {}) {
  execFileSync(
    process.execPath,
    [
      VITE,
      'build',
      '--config',
      'dashboard/vite.config.ts',
      '--logLevel',
      'warn',
      ...(options.outDir ? ['--outDir', options.outDir, '--emptyOutDir'] : []),
    ],
    {
      cwd: ROOT,
      env: { ...process.env, VITE_API_BASE_URL: options.apiBase ?? '' },
      stdio: 'pipe',
    },
  );
}

export interface BundleSize {
  file: string;
  bytes: number;
  gzip: number;
}

/** gzip (level 9) size of every file a browser may download from a build. */
export function bundleSizes(dir: string): BundleSize[] {
  const files = ['index.html', ...readdirSync(join(dir, 'assets')).map((f) => `assets/${f}`)];
  return files
    .filter((f) => /\.(html|js|css)$/.test(f))
    .map((file) => {
      const content = readFileSync(join(dir, file));
      return { file, bytes: content.length, gzip: gzipSync(content, { level: 9 }).length };
    });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
};

/**
 * A static host with a single-page fallback, standing in for Cloudflare Pages: the
 * dashboard on one origin, the API on another.
 */
export async function serveStatic(dir: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = path.startsWith('/assets/') ? join(dir, path) : join(dir, 'index.html');
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
