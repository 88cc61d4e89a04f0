import { calculateJwkThumbprint } from 'jose';
import { checkDpopProof, createProofKeyCache, normalizeHtu } from '../../src/resource-server/dpop-proof.js';
import { dpopKey, proof } from '../helpers/dpop.js';

const URL_ = 'https://api.example.com/things';
const now = () => Math.floor(Date.now() / 1000);

describe('checkDpopProof (RFC 9449 §4.3), shared by the token endpoint and the resource-server module', () => {
  it('computes the RFC 7638 thumbprint of every key type, as jose does', async () => {
    for (const alg of ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA']) {
      const key = await dpopKey(alg);
      const checked = await checkDpopProof(await proof(key, 'GET', URL_), { method: 'GET', url: URL_, now: now() });
      expect({ alg, jkt: checked.jkt }).toEqual({ alg, jkt: await calculateJwkThumbprint(key.publicJwk, 'sha256') });
    }
  });

  it('refuses a jwk whose type does not fit the alg (an RSA key under ES256)', async () => {
    const ec = await dpopKey('ES256');
    const rsa = await dpopKey('RS256');
    const forged = await proof(ec, 'GET', URL_, { header: { jwk: rsa.publicJwk } });
    await expect(checkDpopProof(forged, { method: 'GET', url: URL_, now: now() })).rejects.toMatchObject({ code: 'invalid_dpop_proof' });
  });

  it('keeps imported keys in a bounded cache: the oldest goes first', async () => {
    const cache = createProofKeyCache(2);
    const keys = await Promise.all([dpopKey(), dpopKey(), dpopKey()]);
    for (const k of keys) await checkDpopProof(await proof(k, 'GET', URL_), { method: 'GET', url: URL_, now: now(), keys: cache });
    expect(cache.get(`ES256 ${keys[0].jkt}`)).toBeUndefined();
    expect(cache.get(`ES256 ${keys[2].jkt}`)).toBeDefined();
    // A cached key still verifies only its own signatures.
    const other = await dpopKey();
    const forged = await proof(keys[2], 'GET', URL_, { signWith: other.privateKey });
    await expect(checkDpopProof(forged, { method: 'GET', url: URL_, now: now(), keys: cache })).rejects.toMatchObject({ code: 'invalid_dpop_proof' });
  });

  it('normalises htu: case of scheme and host, default port, query, fragment, percent-encoding case', () => {
    expect(normalizeHtu('HTTPS://API.example.com:443/things?x=1#y')).toBe(URL_);
    expect(normalizeHtu('https://api.example.com/a%2fb')).toBe(normalizeHtu('https://api.example.com/a%2Fb'));
    expect(normalizeHtu('https://user:pw@api.example.com/things')).toBeUndefined();
    expect(normalizeHtu('javascript:alert(1)')).toBeUndefined();
  });
});
