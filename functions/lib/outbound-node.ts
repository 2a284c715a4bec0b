/** The Node half of the outbound guard: DNS answers, so a name is judged by where it leads. */
import { lookup } from 'node:dns/promises';
import type { HostResolver } from './outbound';

/** Every address the system resolver gives for a name, IPv4 and IPv6 alike. */
export const lookupAll: HostResolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((answer) => answer.address);
