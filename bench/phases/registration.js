// @ts-check
/**
 * Phase 7c: dynamic client registration (RFC 7591) under REGISTRATION=open: registrations per
 * second. The per-address registration limit and the cap are off (one load generator address would
 * hit them at once); the access log is on, as operators run it.
 */
import { LIMITS_OFF, startGrantor } from '../grantor-server.js';
import { BenchBroken } from '../load-runs.js';

/** @param {{ tools: import('../types.js').LoadTools, connections: number, seconds: number }} o */
export async function measureRegistration({ tools, connections, seconds }) {
  tools.log(`7c/9 dynamic client registration (REGISTRATION=open; registration limit and cap off) at c=${connections}`);
  const grantor = await startGrantor({ env: { ...LIMITS_OFF, REGISTRATION: 'open', REGISTRATION_RATE_LIMIT: '0', REGISTRATION_MAX_CLIENTS: '0' } });
  try {
    const req = {
      url: `${grantor.url}/oauth/register`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'bench agent', redirect_uris: ['http://127.0.0.1:33418/callback'], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none' }),
    };
    const sample = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body });
    if (sample.status !== 201) throw new BenchBroken(`registration answered ${sample.status}: ${await sample.text()}\n${grantor.logs()}`);
    await tools.warmUp(grantor, req);
    return await tools.load(grantor, 'POST /oauth/register', req, connections, seconds);
  } finally {
    await grantor.stop();
  }
}
