/**
 * npm run preview:dashboard [-- wrangler pages dev options]: the Pages build served as Pages
 * serves it (static files, SPA fallback, `_headers`), with the dashboard's own configuration only.
 *
 * Why not plain `cd dashboard && wrangler pages dev`: with no Pages Functions, wrangler serves the
 * build through its shim, node_modules/wrangler/templates/pages-shim.ts, and looks for the Worker
 * configuration upward from that file's folder. From the repository's node_modules the first one
 * it meets is the API Worker's wrangler.toml, so the preview got the API's D1 binding, its vars and
 * the root .dev.vars (secrets included). `--config` cannot redirect it: Pages refuses one custom path.
 *
 * Here wrangler is started through dashboard/node_modules, a link to the repository's
 * node_modules, with symlinks preserved: the shim's folder is then
 * dashboard/node_modules/wrangler/templates, and the first configuration above it is
 * dashboard/wrangler.toml. Nothing is copied or installed twice.
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dashboard = join(root, 'dashboard');
const link = join(dashboard, 'node_modules');

const args = process.argv.slice(2);
// A directory given as the first argument is served instead of dashboard/dist (wrangler runs in
// dashboard/, so it gets the absolute path).
const given = args[0] && !args[0].startsWith('-');
if (given) args[0] = resolve(args[0]);
const directory = given ? args[0] : join(dashboard, 'dist');
if (!existsSync(join(directory, 'index.html'))) {
  console.error(
    `No dashboard build in ${directory}: run \`npm run build:dashboard\` first (with VITE_API_BASE_URL).`,
  );
  process.exit(1);
}
if (!lstatSync(link, { throwIfNoEntry: false })) symlinkSync(join('..', 'node_modules'), link, 'dir');
else if (!lstatSync(link).isSymbolicLink()) {
  console.error(`${link} exists and is not a link to ../node_modules; remove it and run again.`);
  process.exit(1);
}

const child = spawn(
  process.execPath,
  [
    '--preserve-symlinks',
    '--preserve-symlinks-main',
    join('node_modules', 'wrangler', 'bin', 'wrangler.js'),
    'pages',
    'dev',
    ...args,
  ],
  { cwd: dashboard, stdio: 'inherit' },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
