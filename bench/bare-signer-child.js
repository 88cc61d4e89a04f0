// @ts-check
/**
 * The bare signer: a node:http server that answers every POST with a freshly signed token of
 * Grantor's shape (same header and claims, RS256 on the libuv pool with node:crypto's callback
 * sign(), as Grantor does) and does nothing else: no client authentication, no validation, no
 * metrics. It is the upper bound of any HTTP token server on this machine under this load
 * generator, measured beside Grantor so the report can say how much of it Grantor reaches.
 */
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import http from 'node:http';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const issuer = `http://127.0.0.1:${process.env.PORT}`;
const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: 'bare-signer-kid' })).toString('base64url');

const server = http.createServer((req, res) => {
  if (req.method !== 'POST') return res.end('ok');
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    const form = new URLSearchParams(body);
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: issuer, sub: 'bare-client', aud: form.get('resource'), exp: now + 600, iat: now, jti: randomUUID(),
      client_id: 'bare-client', scope: form.get('scope'), grant_id: '1b4e28ba-2fa1-4d2e-883f-0016d3cca427',
      status: { status_list: { idx: 0, uri: `${issuer}/statuslists/1` } },
    };
    const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    sign('sha256', Buffer.from(input), privateKey, (err, signature) => {
      const answer = JSON.stringify({ access_token: `${input}.${signature.toString('base64url')}`, token_type: 'Bearer', expires_in: 600, scope: form.get('scope') });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(answer);
    });
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.({ ready: true }));
process.on('SIGTERM', () => process.exit(0));
