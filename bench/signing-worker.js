// @ts-check
/**
 * One signing thread of the ceiling measurement. Signs Grantor-shaped RS256 access tokens
 * (same header and claims as src/tokens/access-token.ts, fresh jti each time) in a loop until
 * told time is up, and reports how many it made.
 *
 *   mode 'node': node:crypto sign() with a KeyObject, synchronous, on this thread.
 *   mode 'jose': jose SignJWT with an imported PKCS8 CryptoKey (Grantor's primitive). WebCrypto
 *                runs the RSA operation on the libuv thread pool; `inflight` signatures are
 *                kept outstanding at once (1 = strictly one after the other).
 */
import { createPrivateKey, randomUUID, sign as nodeSign } from 'node:crypto';
import { parentPort as maybeParentPort, workerData } from 'node:worker_threads';
import { importPKCS8, SignJWT } from 'jose';

if (!maybeParentPort) throw new Error('signing-worker.js runs as a worker thread (bench/signing-ceiling.js)');
const parentPort = maybeParentPort;
const { mode, pem, seconds, inflight = 1, claims: base, kid } = workerData;
const header = { alg: 'RS256', typ: 'at+jwt', kid };
const b64 = (/** @type {string} */ s) => Buffer.from(s).toString('base64url');
const headerB64 = b64(JSON.stringify(header));

/** @type {() => string | Promise<string>} */
let signOnce;
if (mode === 'node') {
  const key = createPrivateKey(pem);
  signOnce = () => {
    const input = `${headerB64}.${b64(JSON.stringify({ ...base, jti: randomUUID() }))}`;
    return `${input}.${nodeSign('sha256', Buffer.from(input), key).toString('base64url')}`;
  };
} else if (mode === 'jose') {
  const key = await importPKCS8(pem, 'RS256');
  signOnce = () => new SignJWT({ ...base, jti: randomUUID() }).setProtectedHeader(header).sign(key);
} else {
  throw new Error(`unknown signing mode ${mode}`);
}

// Warm up (JIT, key import caches) before the start signal.
for (let i = 0; i < 20; i++) await signOnce();
const sample = await signOnce();
if (sample.split('.').length !== 3) throw new Error('signing produced no compact JWS');
parentPort.postMessage({ type: 'ready' });

parentPort.once('message', async (msg) => {
  if (msg.type !== 'go') return;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let count = 0;
  if (mode === 'node') {
    while (performance.now() < deadline) {
      signOnce();
      count++;
    }
  } else {
    const lane = async () => {
      while (performance.now() < deadline) {
        await signOnce();
        count++;
      }
    };
    await Promise.all(Array.from({ length: inflight }, lane));
  }
  const elapsed = (performance.now() - t0) / 1000;
  parentPort.postMessage({ type: 'done', count, elapsed });
});
