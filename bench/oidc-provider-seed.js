// @ts-check
/**
 * Refresh tokens of node-oidc-provider (bench/oidc-provider-child.js) for its refresh-grant run,
 * seeded through its own authorization code flow like bench/browserless.js does for Grantor: a
 * cookie jar follows GET /auth → /interaction/:uid (the child's login and consent stand-in) →
 * /auth/:uid → the redirect URI with a code, then POST /token with the PKCE verifier. The session
 * and the grant are kept, so after the first flow /auth answers with a code straight away.
 */
import { randomBytes } from 'node:crypto';
import { CookieJar, pkce } from './browserless.js';

/**
 * @param {{ url: string, spaClientId: string, redirectUri: string, scope: string, resource: string }} peer
 * @param {{ count: number, concurrency?: number }} opts
 */
export async function seedOidcProviderRefreshTokens(peer, { count, concurrency = 8 }) {
  const t0 = performance.now();
  const jar = new CookieJar();
  const send = async (/** @type {string} */ url, /** @type {RequestInit} */ init = {}) => {
    const res = await fetch(new URL(url, peer.url), { ...init, headers: { ...init.headers, Cookie: jar.header() }, redirect: 'manual' });
    jar.take(res);
    await res.arrayBuffer();
    return res;
  };
  const one = async () => {
    const p = pkce();
    const q = new URLSearchParams({ response_type: 'code', client_id: peer.spaClientId, redirect_uri: peer.redirectUri, scope: peer.scope, resource: peer.resource, state: randomBytes(8).toString('base64url'), code_challenge: p.challenge, code_challenge_method: 'S256' });
    let res = await send(`/auth?${q}`);
    for (let hops = 0; ; hops++) {
      const location = res.headers.get('location');
      if (res.status < 300 || res.status > 303 || !location || hops > 6) throw new Error(`oidc-provider authorization flow: HTTP ${res.status} at hop ${hops} (location ${location})`);
      if (location.startsWith(peer.redirectUri)) {
        const back = new URL(location);
        const code = back.searchParams.get('code');
        if (!code) throw new Error(`oidc-provider authorization flow ended without a code: ${location}`);
        const token = await fetch(new URL('/token', peer.url), {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: peer.redirectUri, client_id: peer.spaClientId, code_verifier: p.verifier, resource: peer.resource }),
        });
        const text = await token.text();
        const body = token.status === 200 ? JSON.parse(text) : {};
        if (!body.refresh_token) throw new Error(`oidc-provider code redemption gave no refresh token: HTTP ${token.status} ${text.slice(0, 300)}`);
        return /** @type {string} */ (body.refresh_token);
      }
      res = await send(location);
    }
  };
  const tokens = [await one()];
  let next = 1;
  const lane = async () => {
    while (next < count) {
      next++;
      tokens.push(await one());
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return { tokens, seconds: (performance.now() - t0) / 1000 };
}
