import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BundleSize, bundleSizes } from './build';

/**
 * What a browser downloads on the first visit to a build: index.html, the scripts and styles it
 * names (entry, modulepreload links, stylesheets), and every module those scripts import
 * statically, followed to the end. Dynamic `import()` targets are left out: they are fetched
 * when a page needs them.
 */
export function initialFiles(dir: string): Set<string> {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const files = new Set<string>(['index.html']);
  const queue: string[] = [];
  for (const match of html.matchAll(/<(?:script|link)\b[^>]*?(?:src|href)="\/?(assets\/[^"]+)"/g)) {
    queue.push(match[1]!);
  }
  while (queue.length) {
    const file = queue.shift()!;
    if (files.has(file)) continue;
    files.add(file);
    if (!file.endsWith('.js')) continue;
    const code = readFileSync(join(dir, file), 'utf8');
    // Minified static imports: `import{a as b}from"./x.js"`, `import"./x.css"`; never `import(`.
    for (const match of code.matchAll(/(?:\bfrom|\bimport)\s*["']\.\/([^"']+)["']/g)) {
      queue.push(`assets/${match[1]}`);
    }
  }
  return files;
}

export interface BundleReport {
  initial: BundleSize[];
  lazy: BundleSize[];
  initialGzip: number;
}

export function bundleReport(dir: string): BundleReport {
  const first = initialFiles(dir);
  const sizes = bundleSizes(dir);
  const initial = sizes.filter((f) => first.has(f.file));
  return {
    initial,
    lazy: sizes.filter((f) => !first.has(f.file)),
    initialGzip: initial.reduce((sum, f) => sum + f.gzip, 0),
  };
}
