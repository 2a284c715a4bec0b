import { describe, expect, it, vi } from 'vitest';
import { checkTargetAtSend, isPrivateAddress, targetProblem } from '../../functions/lib/outbound';
import { post } from '../../functions/services/alerts/outbox';

// The address rules of docs/lifecycle-and-alerts.md, without a server: what a URL as written points at, and what
// a name resolves to at send time.

const REFUSED = [
  'http://127.0.0.1:6379/',
  'http://127.1/',
  'http://2130706433/',
  'http://0x7f000001/',
  'http://017700000001/',
  'http://localhost/',
  'http://LOCALHOST./',
  'http://api.localhost/',
  'http://0.0.0.0/',
  'http://10.1.2.3/',
  'http://172.16.0.1/',
  'http://172.31.255.255/',
  'http://192.168.1.10/',
  'http://100.64.0.1/',
  'http://169.254.169.254/latest/meta-data/',
  'http://metadata.google.internal/computeMetadata/v1/',
  'http://metadata/',
  'http://[::1]/',
  'http://[::]/',
  'http://[fd00:ec2::254]/',
  'http://[fc00::1]/',
  'http://[fe80::1]/',
  'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:a9fe:a9fe]/',
  'https://[64:ff9b::a9fe:a9fe]/',
];

const ALLOWED = [
  'https://hooks.slack.com/services/T000/B000/XXXX',
  'http://alerts.example.com:8080/hook',
  'http://8.8.8.8/',
  'http://172.32.0.1/',
  'http://[2606:4700::1111]/',
  'http://localhost.example.com/',
];

describe('alert target URLs as written', () => {
  it.each(REFUSED)('refuses %s', (url) => {
    expect(targetProblem(url)).toBe('private');
    expect(targetProblem(url, true)).toBeNull();
  });

  it.each(ALLOWED)('accepts %s', (url) => {
    expect(targetProblem(url)).toBeNull();
  });

  it.each([
    'file:///etc/passwd',
    'gopher://127.0.0.1:6379/_INFO',
    'data:text/plain,hi',
    'javascript:alert(1)',
    'ftp://x.example/',
  ])('refuses the scheme of %s, even with private targets allowed', (url) => {
    expect(targetProblem(url, true)).toBe('scheme');
  });

  it('judges addresses as DNS answers them', () => {
    for (const address of [
      '127.0.0.1',
      '10.0.0.5',
      '::1',
      '::ffff:192.168.0.1',
      'fe80::1%eth0',
      'fd00:ec2::254',
    ])
      expect(isPrivateAddress(address), address).toBe(true);
    for (const address of ['93.184.216.34', '2606:4700::1111', '::ffff:8.8.8.8'])
      expect(isPrivateAddress(address), address).toBe(false);
  });
});

describe('alert targets at send time', () => {
  it('refuses a name that resolves to a private address, any one of its addresses', async () => {
    const inside = vi.fn(async () => ['127.0.0.1']);
    expect(await checkTargetAtSend('http://hooks.example.com/x', { resolve: inside })).toMatchObject({
      ok: false,
      problem: 'private',
    });
    expect(inside).toHaveBeenCalledWith('hooks.example.com');
    const mixed = async () => ['93.184.216.34', '10.0.0.7'];
    expect((await checkTargetAtSend('http://hooks.example.com/x', { resolve: mixed })).ok).toBe(false);
    const outside = async () => ['93.184.216.34', '2606:4700::1111'];
    expect((await checkTargetAtSend('http://hooks.example.com/x', { resolve: outside })).ok).toBe(true);
  });

  it('checks the literal host only when there is no resolver (the Worker)', async () => {
    expect((await checkTargetAtSend('http://hooks.example.com/x', { resolve: null })).ok).toBe(true);
    expect((await checkTargetAtSend('http://0x7f000001/x', { resolve: null })).ok).toBe(false);
  });

  it('skips the checks when private targets are allowed', async () => {
    const resolve = vi.fn(async () => ['127.0.0.1']);
    expect((await checkTargetAtSend('http://hooks.example.com/', { allowPrivate: true, resolve })).ok).toBe(
      true,
    );
    expect(resolve).not.toHaveBeenCalled();
  });

  it('never posts to a refused target, and says only that it was refused', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>();
    const outcome = await post(
      'http://hooks.example.com/x',
      {},
      { fetch, timeoutMs: 1_000, resolve: async () => ['169.254.169.254'] },
    );
    expect(fetch).not.toHaveBeenCalled();
    expect(outcome).toMatchObject({ ok: false, error: 'target refused: private address' });
  });

  it('asks fetch not to follow redirects and counts a 3xx as a failure', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(
      async () => new Response('moved', { status: 302, headers: { Location: 'http://169.254.169.254/' } }),
    );
    const outcome = await post('http://8.8.8.8/x', {}, { fetch, timeoutMs: 1_000, resolve: null });
    expect(fetch.mock.calls[0]![1]).toMatchObject({ redirect: 'manual' });
    expect(outcome).toMatchObject({ ok: false });
    expect(outcome.ok || outcome.error).toMatch(/^HTTP 302/);
  });

  it('keeps the status of a refusal and nothing of the body', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(
      async () => new Response('root:x:0:0:secret', { status: 500 }),
    );
    const outcome = await post('http://8.8.8.8/x', {}, { fetch, timeoutMs: 1_000, resolve: null });
    expect(outcome).toEqual({ ok: false, error: 'HTTP 500', detail: 'HTTP 500' });
  });

  it('answers a generic error for a network failure, the detail for the log only', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(async () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    });
    const outcome = await post('http://8.8.8.8:6379/x', {}, { fetch, timeoutMs: 1_000, resolve: null });
    expect(outcome).toEqual({ ok: false, error: 'delivery failed', detail: 'ECONNREFUSED' });
  });
});
