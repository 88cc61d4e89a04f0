// @ts-check
/**
 * Shared Signals receivers for bench/ssf-cost.js, in a process of their own so that their work does
 * not count in Grantor's CPU: each one a resource server written with jose only (no module of
 * Grantor's), as in any language — client_credentials for scope `ssf`, a poll stream (RFC 8936)
 * for the bench API, then long polls that acknowledge what they verified. Each receiver names its
 * own address in X-Forwarded-For (Grantor runs behind TRUST_PROXY=127.0.0.1, as in every phase), so
 * that 100 receivers are 100 callers, not one address past its rate limit.
 *
 * IPC (bench/child-rpc.js): `start {url, audience, creds: [{clientId, clientSecret}]}` → resolves
 * once every receiver holds its first long poll; `arrivals` → `{[grantId]: [epoch ms, …]}` of every
 * verified session-revoked SET, and errors; `stop` → polls ended, streams deleted.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';

const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const clock = () => performance.timeOrigin + performance.now();

/**
 * @typedef {{ address: string, abort: AbortController, token: string, streamId: string, configurationEndpoint: string,
 *   polling: Promise<void> | undefined }} Receiver
 */

/** @type {Receiver[]} */
let receivers = [];
/** @type {Record<string, number[]>} grant id → when each receiver had its SET */
let arrivals = {};
/** @type {string[]} */
let errors = [];

/**
 * One call of a receiver's; resolves to the answer's JSON.
 * @param {Receiver} r
 * @param {string} method
 * @param {string} url
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
async function call(r, method, url, body) {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${r.token}`, 'content-type': 'application/json', 'x-forwarded-for': r.address },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: r.abort.signal,
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * @param {{ url: string, audience: string, jwks: ReturnType<typeof createRemoteJWKSet> }} grantor
 * @param {{ clientId: string, clientSecret: string }} client
 * @param {number} i
 */
async function startReceiver({ url, audience, jwks }, { clientId, clientSecret }, i) {
  /** @type {Receiver} */
  const r = { address: `10.77.${i >> 8}.${i & 255}`, abort: new AbortController(), token: '', streamId: '', configurationEndpoint: '', polling: undefined };
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
  const tokenRes = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': r.address },
    body: 'grant_type=client_credentials&scope=ssf',
  });
  if (tokenRes.status !== 200) throw new Error(`ssf token: ${tokenRes.status} ${await tokenRes.text()}`);
  r.token = (await tokenRes.json()).access_token;
  const config = await (await fetch(`${url}/.well-known/ssf-configuration`)).json();
  const stream = await call(r, 'POST', config.configuration_endpoint, { delivery: { method: 'urn:ietf:rfc:8936' }, aud: audience });
  r.streamId = stream.stream_id;
  r.configurationEndpoint = config.configuration_endpoint;
  // The first poll answers at once (nothing queued); the loop then holds long polls.
  await call(r, 'POST', stream.delivery.endpoint_url, { returnImmediately: true });
  r.polling = (async () => {
    /** @type {string[]} */
    let ack = [];
    while (!r.abort.signal.aborted) {
      try {
        const answer = await call(r, 'POST', stream.delivery.endpoint_url, { maxEvents: 100, ...(ack.length ? { ack } : {}) });
        const at = clock();
        ack = [];
        for (const [jti, set] of Object.entries(/** @type {Record<string, string>} */ (answer.sets ?? {}))) {
          // RFC 8417 / SSF 1.0 §4.1: signature by the issuer's key, typ, iss, aud; then the event.
          const { payload } = await jwtVerify(set, jwks, { issuer: url, audience, typ: 'secevent+jwt', algorithms: ['RS256'] });
          const claims = /** @type {{ events?: Record<string, unknown>, sub_id: { id: string } }} */ (/** @type {unknown} */ (payload));
          if (claims.events?.[SESSION_REVOKED]) (arrivals[claims.sub_id.id] ??= []).push(at);
          ack.push(jti);
        }
      } catch (/** @type {any} */ err) {
        if (r.abort.signal.aborted) break;
        errors.push(String(err?.message ?? err));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  })();
  return r;
}

/**
 * @typedef {{ id: number, cmd: 'start', url: string, audience: string, creds: Array<{ clientId: string, clientSecret: string }> }
 *   | { id: number, cmd: 'arrivals' | 'stop' }} Message
 */

process.on('message', async (/** @type {Message} */ msg) => {
  try {
    let result;
    if (msg.cmd === 'start') {
      const jwks = createRemoteJWKSet(new URL(`${msg.url}/.well-known/jwks.json`));
      const made = [];
      for (let i = 0; i < msg.creds.length; i += 10) made.push(...(await Promise.all(msg.creds.slice(i, i + 10).map((c, j) => startReceiver({ url: msg.url, audience: msg.audience, jwks }, c, i + j)))));
      receivers = made;
      arrivals = {};
      errors = [];
      result = { receivers: receivers.length };
    } else if (msg.cmd === 'arrivals') {
      result = { arrivals, errors: errors.slice(0, 5), errorCount: errors.length };
    } else if (msg.cmd === 'stop') {
      for (const r of receivers) r.abort.abort();
      await Promise.all(receivers.map((r) => r.polling));
      // The streams go, so that later revocations queue nothing for them.
      for (const r of receivers) {
        const res = await fetch(`${r.configurationEndpoint}?stream_id=${encodeURIComponent(r.streamId)}`, { method: 'DELETE', headers: { authorization: `Bearer ${r.token}`, 'x-forwarded-for': r.address } });
        if (res.status !== 204) errors.push(`DELETE stream: ${res.status}`);
      }
      result = { stopped: receivers.length, errors: errors.slice(0, 5) };
      receivers = [];
    }
    process.send?.({ id: msg.id, result });
  } catch (/** @type {any} */ err) {
    process.send?.({ id: msg.id, error: String(err?.stack ?? err) });
  }
});
process.send?.({ ready: true });
