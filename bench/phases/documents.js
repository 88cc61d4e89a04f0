// @ts-check
/**
 * Phase 3: Grantor GET /.well-known/jwks.json, /.well-known/oauth-authorization-server and
 * /statuslists/1 (plain and gzip), each side by side at the reference concurrency: through koa (the
 * same GET with a query string, `?via=koa`, which the lean route leaves to koa) and from prepared
 * bytes on the lean route. On the Grantor of phase 2.
 */
import { VIA_KOA } from '../load-runs.js';

/** The GETs: label, path, request headers. */
const DOCUMENTS = /** @type {const} */ ([
  ['/.well-known/jwks.json', '/.well-known/jwks.json', {}],
  ['/.well-known/oauth-authorization-server', '/.well-known/oauth-authorization-server', {}],
  ['/statuslists/1', '/statuslists/1', {}],
  ['/statuslists/1 (gzip)', '/statuslists/1', { 'accept-encoding': 'gzip, deflate, br' }],
]);

/**
 * One row per document: its run through koa and its run on the lean route.
 * @param {{ grantor: import('../types.js').GrantorServer, tools: import('../types.js').LoadTools, connections: number, seconds: number }} o
 */
export async function measureDocuments({ grantor, tools, connections, seconds }) {
  tools.log('3/9 Grantor well-known documents and the status list: through koa, then from prepared bytes');
  const documents = [];
  for (const [label, docPath, headers] of DOCUMENTS) {
    const req = (/** @type {string} */ query) => ({ url: `${grantor.url}${docPath}${query}`, method: 'GET', headers });
    const koa = await tools.load(grantor, `GET ${label} via koa`, req(VIA_KOA), connections, seconds);
    const lean = await tools.load(grantor, `GET ${label}`, req(''), connections, seconds);
    documents.push({ label, koa, lean });
  }
  return documents;
}
