// Where webhooks may go (SSRF). A municipality's webhooks reach public addresses and the networks the
// installation lists in WEBHOOK_ALLOW_NETS (a Leitstelle on the district's network); installation-wide
// admins reach anything but link-local and cloud-metadata addresses. Checked when a route is saved, and
// again on every delivery against the address actually connected to, so a name that later resolves
// elsewhere (DNS rebinding) is refused too. [issue 11, OWASP ASVS 12.6.1]
import dns from 'node:dns';
import net from 'node:net';
import { Agent, request } from 'undici';
import type { Target } from '../../alerts/channels/types.ts';
import type { FetchFn } from '../notify/http-delivery.ts';

/** Who saved the route: an installation-wide admin, or a municipality's token. */
export type EgressScope = 'installation' | 'municipality';

type Net = [string, number];
const blockList = (v4: Net[], v6: Net[]) => {
  const b = new net.BlockList();
  for (const [a, p] of v4) b.addSubnet(a, p, 'ipv4');
  for (const [a, p] of v6) b.addSubnet(a, p, 'ipv6');
  return b;
};

/** Never, for anyone: link-local, where clouds serve instance metadata and credentials. */
const LINK_LOCAL = blockList(
  [['169.254.0.0', 16]],
  [
    ['fe80::', 10],
    ['fd00:ec2::254', 128],
  ],
);

/** Loopback, private, shared, reserved, multicast: not for a municipality unless allowed. */
const NON_PUBLIC = blockList(
  [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['224.0.0.0', 3],
  ],
  [
    ['::', 128],
    ['::1', 128],
    ['fc00::', 7],
    ['ff00::', 8],
    ['100::', 64],
  ],
);

/** 16 bytes of an IPv6 address (net.isIP(s) === 6 assumed). */
function v6Bytes(ip: string): number[] {
  let s = ip;
  const m = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (m) {
    const q = m.slice(2).map(Number);
    s = `${m[1]}${((q[0] << 8) | q[1]).toString(16)}:${((q[2] << 8) | q[3]).toString(16)}`;
  }
  const [l, r] = s.split('::');
  const groups = (x: string) => (x ? x.split(':').map((h) => Number.parseInt(h, 16)) : []);
  const left = groups(l);
  const right = r === undefined ? [] : groups(r);
  const words = r === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  return words.flatMap((w) => [w >> 8, w & 255]);
}

/** The IPv4 address an IPv6 one carries (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16). */
function embeddedV4(ip: string): string | undefined {
  const b = v6Bytes(ip.toLowerCase());
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return b.slice(12).join('.');
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return b.slice(12).join('.');
  if (b[0] === 0x20 && b[1] === 0x02) return b.slice(2, 6).join('.');
  return undefined;
}

export type AddressClass = 'public' | 'private' | 'link-local';

export function classify(ip: string): AddressClass {
  const v = net.isIP(ip);
  if (v === 6) {
    const v4 = embeddedV4(ip);
    if (v4) return classify(v4);
  }
  const family = v === 6 ? 'ipv6' : 'ipv4';
  if (LINK_LOCAL.check(ip, family)) return 'link-local';
  if (NON_PUBLIC.check(ip, family)) return 'private';
  return 'public';
}

export class WebhookEgress {
  private readonly allow = new net.BlockList();
  private readonly agents = new Map<EgressScope, Agent>();

  constructor(
    allowNets: readonly string[],
    private readonly lookup: typeof dns.promises.lookup = dns.promises.lookup,
  ) {
    for (const n of allowNets) {
      const [addr, bits] = n.split('/');
      const family = net.isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      this.allow.addSubnet(addr, bits === undefined ? (family === 'ipv4' ? 32 : 128) : Number(bits), family);
    }
  }

  /** Why this address is refused for the scope, or undefined when it may be reached. */
  refuseAddress(ip: string, scope: EgressScope): string | undefined {
    const c = classify(ip);
    if (c === 'link-local') return `${ip}: a link-local or cloud-metadata address, which no webhook may reach`;
    if (c === 'public' || scope === 'installation') return undefined;
    const v4 = net.isIP(ip) === 6 ? embeddedV4(ip) : undefined;
    const a = v4 ?? ip;
    if (this.allow.check(a, net.isIP(a) === 6 ? 'ipv6' : 'ipv4')) return undefined;
    return `${ip}: a loopback, private or reserved address; a municipality's webhooks reach public addresses and the networks in WEBHOOK_ALLOW_NETS only`;
  }

  /**
   * Why this URL is refused, or undefined. A host name counts by every address it resolves to; a name that
   * does not resolve now is let through (the delivery checks the address it connects to).
   */
  async refuseUrl(url: string, scope: EgressScope): Promise<string | undefined> {
    let host: string;
    try {
      host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    } catch {
      return 'not a URL';
    }
    // the URL parser has already turned decimal, octal and hex IPv4 forms (2130706433, 0x7f.1) into dotted quads
    if (net.isIP(host)) return this.refuseAddress(host, scope);
    let addrs: { address: string }[];
    try {
      addrs = await this.lookup(host, { all: true, verbatim: true });
    } catch {
      return undefined;
    }
    for (const a of addrs) {
      const why = this.refuseAddress(a.address, scope);
      if (why) return `${host} resolves to ${why}`;
    }
    return undefined;
  }

  /**
   * fetch whose connections only ever reach addresses the scope allows, whatever DNS answers meanwhile. Kept
   * alive per scope, and made with undici's plain request rather than its WHATWG fetch (streams, Request and
   * Response objects): the same POST for less CPU on the alarm's path. A redirect is answered, never followed
   * (redirect: 'manual'); a failure to connect rejects like fetch's, with the reason as `cause`.
   */
  fetchFor(scope: EgressScope): FetchFn {
    let agent = this.agents.get(scope);
    if (!agent) {
      agent = new Agent({ connect: { lookup: this.guardedLookup(scope) } });
      this.agents.set(scope, agent);
    }
    const dispatcher = agent;
    return async (url, init) => {
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(url, { method: init.method as 'POST', headers: init.headers, body: init.body, signal: init.signal, dispatcher });
      } catch (e) {
        if (init.signal?.aborted) throw e;
        throw Object.assign(new TypeError('fetch failed'), { cause: e });
      }
      const { statusCode, headers, body } = res;
      return {
        status: statusCode,
        headers: {
          get: (name: string) => {
            const v = headers[name.toLowerCase()];
            return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
          },
        },
        text: () => body.text(),
      };
    };
  }

  private guardedLookup(scope: EgressScope): net.LookupFunction {
    return (hostname, options, callback) => {
      // with all: true, dns.lookup's overload hands over every address (LookupAddress[]), never one string
      dns.lookup(hostname, { ...options, all: true }, (err: NodeJS.ErrnoException | null, list: dns.LookupAddress[]) => {
        if (err) return callback(err, '', 4);
        for (const a of list) {
          const why = this.refuseAddress(a.address, scope);
          if (why) return callback(Object.assign(new Error(`refused: ${hostname} resolves to ${why}`), { code: 'EGRESS_REFUSED' }), '', 4);
        }
        // the list when the caller asked for all addresses (undici's connect does not today)
        if (options.all) return callback(null, list);
        callback(null, list[0].address, list[0].family);
      });
    };
  }

  async close() {
    await Promise.all([...this.agents.values()].map((a) => a.close()));
  }
}

/** The webhook targets of a route body that `scope` may not reach, as field issues (`targets.0.url`): a route is
 *  refused at save with these (and every delivery checks again). The API and the console save through this. */
export async function refusedRouteTargets(
  egress: WebhookEgress,
  scope: EgressScope,
  body: { targets: Target[]; escalate?: { targets: Target[] } },
): Promise<{ path: string; message: string }[]> {
  const lists = [
    ['targets', body.targets],
    ['escalate.targets', body.escalate?.targets ?? []],
  ] as const;
  const problems: { path: string; message: string }[] = [];
  for (const [where, ts] of lists) {
    for (const [i, t] of ts.entries()) {
      const why = t.type === 'webhook' ? await egress.refuseUrl(t.url, scope) : undefined;
      if (why) problems.push({ path: `${where}.${i}.url`, message: `webhook target not allowed: ${why}` });
    }
  }
  return problems;
}
