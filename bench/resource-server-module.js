// @ts-check
/** Grantor's resource-server module as built (dist/src/resource-server/index.js), imported in the bench process. */
import fs from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MODULE = fileURLToPath(new URL('../dist/src/resource-server/index.js', import.meta.url));

/** @returns {Promise<typeof import('../src/resource-server/index.js')>} */
export async function loadResourceServerModule() {
  if (!fs.existsSync(MODULE)) throw new Error(`${MODULE} is missing: run \`npm run build\` first (npm run bench does)`);
  return import(pathToFileURL(MODULE).href);
}

/**
 * The claims of a compact JWS, unverified (to read grant_id).
 * @param {string} token
 * @returns {Record<string, any>}
 */
export function claimsOf(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

/**
 * POST /oauth/token client_credentials with client_secret_basic; resolves to the access token.
 * @param {string} baseUrl
 * @param {{ clientId: string, clientSecret: string, scope: string, resource?: string }} client
 * @returns {Promise<string>}
 */
export async function clientCredentialsToken(baseUrl, { clientId, clientSecret, scope, resource }) {
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
  /** @type {Record<string, string>} */
  const form = { grant_type: 'client_credentials', scope };
  if (resource) form.resource = resource;
  const res = await fetch(`${baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`client_credentials for ${clientId} (scope ${scope}) answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text).access_token;
}
