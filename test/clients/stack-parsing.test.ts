import { describe, expect, it } from 'vitest';
import { displayPath as browserPath, parseStack as parseBrowserStack } from '../../clients/browser/index';
import {
  culpritFrame,
  displayPath as nodePath,
  parseStack as parseNodeStack,
} from '../../clients/node/index';

// Stacks as each engine prints them for the same code.
const chrome = [
  'TypeError: Cannot read properties of undefined (reading "total")',
  '    at renderCart (https://shop.example.com/assets/cart.js:118:23)',
  '    at async Promise.all (index 0)',
  '    at new Checkout (https://shop.example.com/assets/app.js?v=91:7:5)',
  '    at eval (eval at compile (https://shop.example.com/assets/app.js:3:1), <anonymous>:1:1)',
  '    at https://cdn.example.net/lib/vendor.js:1:2045',
].join('\n');

const firefox = [
  'renderCart@https://shop.example.com/assets/cart.js:118:23',
  'Checkout@https://shop.example.com/assets/app.js?v=91:7:5',
  '@https://shop.example.com/assets/app.js line 3 > eval:1:1',
  '@https://cdn.example.net/lib/vendor.js:1:2045',
  '',
].join('\n');

const safari = [
  'renderCart@https://shop.example.com/assets/cart.js:118:23',
  'Checkout@https://shop.example.com/assets/app.js?v=91:7:5',
  'global code@https://cdn.example.net/lib/vendor.js:1:2045',
  'forEach@[native code]',
].join('\n');

describe('browser stack parsing', () => {
  const expected = [
    { file: 'https://shop.example.com/assets/cart.js', line: 118, column: 23 },
    { file: 'https://shop.example.com/assets/app.js?v=91', line: 7, column: 5 },
    { file: 'https://cdn.example.net/lib/vendor.js', line: 1, column: 2045 },
  ];

  it.each([
    ['Chrome', chrome],
    ['Firefox', firefox],
    ['Safari', safari],
  ])('reads file, line and column from %s frames and skips eval and native ones', (_engine, stack) => {
    expect(parseBrowserStack(stack).map(({ file, line, column }) => ({ file, line, column }))).toEqual(
      expected,
    );
  });

  it('keeps the function names', () => {
    expect(parseBrowserStack(chrome).map((f) => f.function)).toEqual(['renderCart', 'new Checkout', null]);
    expect(parseBrowserStack(firefox).map((f) => f.function)).toEqual(['renderCart', 'Checkout', null]);
  });

  it('reports the page own scripts by path and others by full address, without query', () => {
    const origin = 'https://shop.example.com';
    expect(browserPath('https://shop.example.com/assets/app.js?v=91#x', origin)).toBe('/assets/app.js');
    expect(browserPath('https://cdn.example.net/lib/vendor.js?v=2', origin)).toBe(
      'https://cdn.example.net/lib/vendor.js',
    );
    expect(browserPath('webpack-internal:///./src/cart.ts', origin)).toBe(
      'webpack-internal:///./src/cart.ts',
    );
  });
});

describe('Node stack parsing', () => {
  const stack = [
    'Error: connect ECONNREFUSED 127.0.0.1:5432',
    '    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)',
    '    at Client._connect (/srv/api/node_modules/pg/lib/client.js:132:11)',
    '    at async loadUser (file:///srv/api/src/users/load.mjs:14:3)',
    '    at async /srv/api/src/server.js:40:7',
  ].join('\n');

  it('picks the first frame of the application, not Node internals or dependencies', () => {
    const frames = parseNodeStack(stack);
    expect(frames).toHaveLength(4);
    expect(culpritFrame(frames)).toMatchObject({ file: 'file:///srv/api/src/users/load.mjs', line: 14 });
  });

  it('falls back to a dependency frame when the application has none', () => {
    const frames = parseNodeStack(stack.split('\n').slice(0, 3).join('\n'));
    expect(culpritFrame(frames)).toMatchObject({ file: '/srv/api/node_modules/pg/lib/client.js', line: 132 });
  });

  it('makes paths under the root relative and leaves others alone', () => {
    expect(nodePath('file:///srv/api/src/users/load.mjs', '/srv/api')).toBe('src/users/load.mjs');
    expect(nodePath('/srv/api/src/server.js', '/srv/api')).toBe('src/server.js');
    expect(nodePath('/opt/shared/lib.js', '/srv/api')).toBe('/opt/shared/lib.js');
    expect(nodePath('node:net', '/srv/api')).toBe('node:net');
  });
});
