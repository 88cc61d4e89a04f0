import dns from 'node:dns';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { refusedAddress } from './address-policy.js';

/** Resolves a host name to every address it has (default: the system resolver, dns.lookup). */
export type Resolve = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export interface OutboundOptions {
  /**
   * OUTBOUND_ALLOWED_HOSTS: `host` or `host:port` entries (lowercase) admitted past the address
   * checks — named internal services. https is still required.
   */
  allowedHosts: ReadonlySet<string>;
  /** Total time for one fetch, connect to last byte (ms). */
  timeoutMs: number;
  /** Largest body accepted (bytes). */
  maxBytes: number;
  /** The Accept header sent. */
  accept?: string;
  /** Name resolution (tests point names at chosen addresses). */
  resolve?: Resolve;
}

export interface FetchedDocument {
  body: Buffer;
  contentType: string | undefined;
  cacheControl: string | undefined;
}

export type FetchOutcome = { ok: true; document: FetchedDocument } | { ok: false; reason: string };

const systemResolve: Resolve = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/**
 * GETs a document from a URL someone else named, defensively: https only; the name is resolved
 * once, every address it resolves to is checked (one refused address refuses the name), and the
 * connection goes to the checked address (no second lookup for a rebinding resolver to answer);
 * redirects are not followed; the body is cut off at `maxBytes` and the whole exchange at
 * `timeoutMs`. Failures come back as `{ ok: false, reason }` for the caller to pin on whoever
 * named the URL; the reason is for the log.
 *
 * @example
 * const r = await fetchDocument('https://app.example/client.json', { allowedHosts: new Set(), timeoutMs: 5000, maxBytes: 5120 });
 * if (r.ok) JSON.parse(r.document.body.toString('utf8'));
 */
export async function fetchDocument(rawUrl: string, opts: OutboundOptions): Promise<FetchOutcome> {
  const target = outboundTarget(rawUrl, opts);
  if (!target.ok) return target;
  const { url, lookup } = target;

  return new Promise<FetchOutcome>((resolvePromise) => {
    let settled = false;
    const finish = (outcome: FetchOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolvePromise(outcome);
    };
    const req = https.request(url, {
      method: 'GET',
      lookup,
      headers: { accept: opts.accept ?? 'application/json', 'accept-encoding': 'identity' },
      agent: false, // no pooled socket: every fetch resolves and checks afresh
    });
    const timer = setTimeout(() => finish({ ok: false, reason: `no complete answer within ${opts.timeoutMs} ms` }), opts.timeoutMs);
    req.on('error', (err) => finish({ ok: false, reason: failureReason(err) }));
    req.on('response', (res) => {
      // No redirect is followed: the document is where it was said to be, or nowhere.
      if (res.statusCode !== 200) return finish({ ok: false, reason: `status ${res.statusCode}` });
      const declared = Number(res.headers['content-length']);
      if (declared > opts.maxBytes) return finish({ ok: false, reason: `larger than ${opts.maxBytes} bytes` });
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > opts.maxBytes) return finish({ ok: false, reason: `larger than ${opts.maxBytes} bytes` });
        chunks.push(chunk);
      });
      res.on('end', () =>
        finish({
          ok: true,
          document: { body: Buffer.concat(chunks), contentType: res.headers['content-type'], cacheControl: res.headers['cache-control'] },
        }),
      );
      res.on('error', (err) => finish({ ok: false, reason: `fetch failed: ${err.message}` }));
    });
    req.end();
  });
}

/**
 * The checks every outbound request on someone else's word makes before it connects (fetches
 * here, SET pushes in post-set.ts): https only, no credentials in the URL, an IP literal checked
 * at once, a name checked as it resolves — every address (one refused address refuses the name)
 * — and the connection pinned to the checked address by the returned `lookup`. OUTBOUND_ALLOWED_HOSTS
 * entries skip the address checks, never the https requirement.
 */
export function outboundTarget(rawUrl: string, opts: Pick<OutboundOptions, 'allowedHosts' | 'resolve'>): { ok: true; url: URL; lookup: LookupFunction } | { ok: false; reason: string } {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  if (url.protocol !== 'https:') return { ok: false, reason: 'not https' };
  if (url.username || url.password) return { ok: false, reason: 'credentials in the URL' };
  const hostname = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || '443';
  const allowed = opts.allowedHosts.has(hostname) || opts.allowedHosts.has(`${hostname}:${port}`) || opts.allowedHosts.has(`[${hostname}]:${port}`);
  // An IP literal is never looked up, so it is checked here; names are checked as they resolve.
  if (isIP(hostname) && !allowed) {
    const why = refusedAddress(hostname);
    if (why) return { ok: false, reason: `address refused: ${why}` };
  }

  const resolve = opts.resolve ?? systemResolve;
  const lookup: LookupFunction = (name, options, callback) => {
    resolve(name)
      .then((addresses) => {
        if (addresses.length === 0) throw new Error(`${name} has no address`);
        if (!allowed) {
          for (const a of addresses) {
            const why = refusedAddress(a.address);
            if (why) throw new RefusedAddress(`address refused: ${a.address} is ${why}`);
          }
        }
        const chosen = addresses[0];
        // The connection is made to exactly this, already checked, address.
        if (options.all) (callback as (err: null, list: typeof addresses) => void)(null, [chosen]);
        else callback(null, chosen.address, chosen.family);
      })
      .catch((err: Error) => callback(err as NodeJS.ErrnoException, '', 0));
  };
  return { ok: true, url, lookup };
}

/** The reason an outbound request failed, for the log. */
export function failureReason(err: Error): string {
  return err instanceof RefusedAddress ? err.message : `fetch failed: ${err.message}`;
}

class RefusedAddress extends Error {}

/** OUTBOUND_ALLOWED_HOSTS as a set of lowercase `host` / `host:port` entries. */
export function parseAllowedHosts(raw: string): Set<string> {
  return new Set(
    raw
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
}
