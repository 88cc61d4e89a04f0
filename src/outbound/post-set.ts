import https from 'node:https';
import { failureReason, outboundTarget, type OutboundOptions } from './fetch-document.js';

/** How a push ended: the receiver's status (and its short JSON body, for the log), or no answer at all. */
export type PostOutcome = { answered: true; status: number; body: string } | { answered: false; reason: string; refused: boolean };

/** The receiver's answer is read up to this many bytes (an RFC 8935 §2.3 error is a small JSON object). */
const MAX_ANSWER_BYTES = 4096;

/**
 * POSTs a Security Event Token to a push receiver (RFC 8935 §2): `Content-Type:
 * application/secevent+jwt`, `Accept: application/json`, and the stream's Authorization header
 * when it has one. The same address checks as every outbound request (outboundTarget: https only,
 * the resolved address checked and pinned, OUTBOUND_ALLOWED_HOSTS admitting named hosts); no
 * redirect followed (a 3xx is an answer like any other), the answer cut at 4 KiB, the whole
 * exchange at `timeoutMs`. `refused` says the address itself was refused (no point retrying soon).
 */
export async function postSet(rawUrl: string, set: string, opts: Pick<OutboundOptions, 'allowedHosts' | 'timeoutMs' | 'resolve'> & { authorization?: string }): Promise<PostOutcome> {
  const target = outboundTarget(rawUrl, opts);
  if (!target.ok) return { answered: false, reason: target.reason, refused: true };
  const { url, lookup } = target;
  const body = Buffer.from(set, 'ascii');
  return new Promise<PostOutcome>((resolvePromise) => {
    let settled = false;
    const finish = (outcome: PostOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolvePromise(outcome);
    };
    const headers: Record<string, string> = {
      'content-type': 'application/secevent+jwt',
      accept: 'application/json',
      'content-length': String(body.length),
    };
    if (opts.authorization) headers.authorization = opts.authorization;
    const req = https.request(url, { method: 'POST', lookup, headers, agent: false });
    const timer = setTimeout(() => finish({ answered: false, reason: `no complete answer within ${opts.timeoutMs} ms`, refused: false }), opts.timeoutMs);
    req.on('error', (err) => finish({ answered: false, reason: failureReason(err), refused: /address refused/.test(failureReason(err)) }));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size >= MAX_ANSWER_BYTES) return;
        size += chunk.length;
        chunks.push(chunk);
      });
      res.on('end', () => finish({ answered: true, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_ANSWER_BYTES) }));
      res.on('error', (err) => finish({ answered: false, reason: `answer failed: ${err.message}`, refused: false }));
    });
    req.end(body);
  });
}

/**
 * Whether Grantor would push to this URL now: the checks of every push (https, no credentials,
 * the resolved addresses), made when a stream is created or changed, so a refused receiver is a
 * 400 to the one who named it rather than a silent failure later.
 */
export async function checkPushEndpoint(rawUrl: string, opts: Pick<OutboundOptions, 'allowedHosts' | 'resolve'>): Promise<{ ok: true } | { ok: false; reason: string }> {
  const target = outboundTarget(rawUrl, opts);
  if (!target.ok) return target;
  const host = target.url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    target.lookup(host, {}, (err) => resolve(err ? { ok: false, reason: failureReason(err) } : { ok: true }));
  });
}
