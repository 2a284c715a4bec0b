/**
 * Guards for outbound requests whose URL someone else chose (alert targets): whoever holds
 * the API token must not be able to make the server reach its own loopback, the private
 * network or a cloud metadata endpoint (docs/lifecycle-and-alerts.md). Pure checks, usable on both runtimes; the
 * DNS half is a resolver the Node server installs (the Worker has no DNS API).
 */

/** Answers every address a host name resolves to. */
export type HostResolver = (hostname: string) => Promise<string[]>;

let installedResolver: HostResolver | null = null;

/**
 * Installs the resolver used at send time when the caller passes none. The Node server
 * installs one over `node:dns`; on the Worker none is installed and only the literal host
 * is checked.
 */
export function setHostResolver(resolver: HostResolver | null): HostResolver | null {
  const previous = installedResolver;
  installedResolver = resolver;
  return previous;
}

export const hostResolver = () => installedResolver;

/** Names that reach the machine itself or a cloud metadata service without looking private. */
const REFUSED_NAMES = new Set([
  'localhost',
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);

/** IPv4 ranges that are not the public internet: [first octets as a 32-bit number, prefix length]. */
const PRIVATE_V4: readonly [number, number][] = [
  [0x00000000, 8], // 0.0.0.0/8, "this network"
  [0x0a000000, 8], // 10/8
  [0x64400000, 10], // 100.64/10, carrier-grade NAT
  [0x7f000000, 8], // 127/8, loopback
  [0xa9fe0000, 16], // 169.254/16, link-local and the metadata address
  [0xac100000, 12], // 172.16/12
  [0xc0000000, 24], // 192.0.0/24, IETF protocol assignments
  [0xc0a80000, 16], // 192.168/16
  [0xc6120000, 15], // 198.18/15, benchmarking
  [0xe0000000, 3], // 224/4 multicast, 240/4 reserved, the broadcast address
];

function parseV4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = value * 256 + n;
  }
  return value;
}

const v4Private = (value: number) =>
  PRIVATE_V4.some(
    ([base, bits]) => Math.floor(value / 2 ** (32 - bits)) === Math.floor(base / 2 ** (32 - bits)),
  );

/** The eight 16-bit groups of an IPv6 address (dotted IPv4 tail allowed), or null. */
function parseV6(text: string): number[] | null {
  let rest = text.toLowerCase();
  const zone = rest.indexOf('%');
  if (zone >= 0) rest = rest.slice(0, zone);
  const lastColon = rest.lastIndexOf(':');
  const dotted = rest.slice(lastColon + 1);
  if (dotted.includes('.')) {
    // "::ffff:127.0.0.1" is "::ffff:7f00:1" written another way.
    const v4 = parseV4(dotted);
    if (v4 === null) return null;
    rest = `${rest.slice(0, lastColon + 1)}${Math.floor(v4 / 65536).toString(16)}:${(v4 % 65536).toString(16)}`;
  }
  const halves = rest.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const back = halves.length === 2 ? groups(halves[1]!) : [];
  const known = head.length + back.length;
  if (halves.length === 1 ? known !== 8 : known > 7) return null;
  const fill = halves.length === 2 ? Array(8 - known).fill('0') : [];
  const out: number[] = [];
  for (const g of [...head, ...fill, ...back]) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
    out.push(Number.parseInt(g, 16));
  }
  return out;
}

function v6Private(g: number[]): boolean {
  const embeddedV4 = (hi: number, lo: number) => v4Private(hi * 65536 + lo);
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeros(8)) return true; // ::
  if (zeros(7) && g[7] === 1) return true; // ::1
  if (zeros(5) && g[5] === 0xffff) return embeddedV4(g[6]!, g[7]!); // ::ffff:a.b.c.d, IPv4-mapped
  if (zeros(6)) return embeddedV4(g[6]!, g[7]!); // ::a.b.c.d, IPv4-compatible (deprecated)
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))
    return embeddedV4(g[6]!, g[7]!); // NAT64
  if (g[0] === 0x2002) return embeddedV4(g[1]!, g[2]!); // 6to4
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return true; // fc00::/7, unique local (fd00:ec2::254 is AWS metadata)
  if ((first & 0xffc0) === 0xfe80 || (first & 0xffc0) === 0xfec0) return true; // link-local, site-local
  if ((first & 0xff00) === 0xff00) return true; // multicast
  return false;
}

/**
 * Whether an address literal (as DNS answers it, or a URL's hostname with or without the
 * brackets) is loopback, private, link-local, metadata or otherwise not the public internet.
 * Something that is not an address at all answers false.
 */
export function isPrivateAddress(address: string): boolean {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const v4 = parseV4(bare);
  if (v4 !== null) return v4Private(v4);
  if (!bare.includes(':')) return false;
  const v6 = parseV6(bare);
  // Unparseable yet colon-bearing: not something we can vouch for.
  return v6 === null ? true : v6Private(v6);
}

/** Whether a URL's hostname names this machine or a metadata service, as a name or as an address. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (REFUSED_NAMES.has(host) || host.endsWith('.localhost')) return true;
  return isPrivateAddress(host);
}

export type TargetProblem = 'invalid' | 'scheme' | 'private';

export const PROBLEM_TEXT: Record<TargetProblem, string> = {
  invalid: 'must be a valid URL',
  scheme: 'must be an http or https URL',
  private: 'points to a loopback, private, link-local or metadata address',
};

/**
 * What is wrong with a target URL as written, or null. `new URL()` canonicalises the numeric
 * IPv4 forms (2130706433, 0x7f000001, 017700000001, 127.1) to dotted quads first, so they are
 * judged as the address they are.
 */
export function targetProblem(url: string, allowPrivate = false): TargetProblem | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'invalid';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'scheme';
  if (!allowPrivate && isPrivateHost(parsed.hostname)) return 'private';
  return null;
}

/**
 * What is wrong with an SMTP relay URL (`smtp://` or `smtps://`) as written, or null: the same
 * private-address rule as an http target.
 */
export function smtpTargetProblem(url: string, allowPrivate = false): TargetProblem | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'invalid';
  }
  if (!parsed.hostname) return 'invalid';
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') return 'scheme';
  if (!allowPrivate && isPrivateHost(parsed.hostname)) return 'private';
  return null;
}

/**
 * The addresses a host may be reached at, checked: the literal host, then every address the
 * installed (or given) resolver answers. A caller that connects to one of `addresses` itself
 * cannot be led elsewhere by a second DNS answer. `addresses` is empty when the host is not
 * resolved here (private targets allowed, or no resolver): connect by name then.
 */
export async function checkHostAtSend(
  hostname: string,
  options: { allowPrivate?: boolean; resolve?: HostResolver | null },
): Promise<{ ok: true; addresses: string[] } | { ok: false; problem: TargetProblem; detail: string }> {
  if (options.allowPrivate) return { ok: true, addresses: [] };
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (isPrivateHost(bare)) return { ok: false, problem: 'private', detail: `target ${PROBLEM_TEXT.private}` };
  if (parseV4(bare) !== null || bare.includes(':')) return { ok: true, addresses: [bare] };
  const resolve = options.resolve === undefined ? installedResolver : options.resolve;
  if (!resolve) return { ok: true, addresses: [] };
  const addresses = await resolve(bare);
  const inside = addresses.find((a) => isPrivateAddress(a));
  if (inside !== undefined) return { ok: false, problem: 'private', detail: `${bare} resolves to ${inside}` };
  return { ok: true, addresses };
}

/**
 * The target checked where it will be sent: the literal host, then, when a resolver is
 * available, every address the name resolves to. A name with one private address among
 * public ones is refused, since the connection may pick any of them.
 *
 * Trade-off: fetch resolves the name again when it connects, so a receiver with a very short
 * TTL could answer a public address here and a private one a moment later (DNS rebinding).
 * Closing that needs a connector that dials the checked address itself; the check here still
 * stops every target that plainly resolves inside, which is the common case and the one the
 * API token holder controls.
 */
export async function checkTargetAtSend(
  url: string,
  options: { allowPrivate?: boolean; resolve?: HostResolver | null },
): Promise<{ ok: true } | { ok: false; problem: TargetProblem; detail: string }> {
  const problem = targetProblem(url, options.allowPrivate);
  if (problem) return { ok: false, problem, detail: `target ${PROBLEM_TEXT[problem]}` };
  if (options.allowPrivate) return { ok: true };
  const resolve = options.resolve === undefined ? installedResolver : options.resolve;
  const { hostname } = new URL(url);
  if (!resolve || parseV4(hostname) !== null || hostname.startsWith('[')) return { ok: true };
  const addresses = await resolve(hostname);
  const inside = addresses.find((a) => isPrivateAddress(a));
  if (inside !== undefined)
    return { ok: false, problem: 'private', detail: `${hostname} resolves to ${inside}` };
  return { ok: true };
}
