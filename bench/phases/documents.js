// @ts-check
/**
 * Phase 3: Grantor GET /.well-known/jwks.json, /.well-known/oauth-authorization-server and
 * /statuslists/1 (plain and gzip), each back to back at the reference concurrency: Grantor as issue
 * #14 was filed (bench/as-filed.js: "today's rate" of its item 4), today's server through koa (the
 * same GET with a query string, `?via=koa`, which the lean route leaves to koa), and from prepared
 * bytes on the lean route. Today's server is the Grantor of phase 2.
 */
import { buildAsFiled, startAsFiled } from '../as-filed.js';
import { VIA_KOA } from '../load-runs.js';

/** The GETs: label, path, request headers. */
const DOCUMENTS = /** @type {const} */ ([
  ['/.well-known/jwks.json', '/.well-known/jwks.json', {}],
  ['/.well-known/oauth-authorization-server', '/.well-known/oauth-authorization-server', {}],
  ['/statuslists/1', '/statuslists/1', {}],
  ['/statuslists/1 (gzip)', '/statuslists/1', { 'accept-encoding': 'gzip, deflate, br' }],
]);

/**
 * One row per document: its run as filed (null when that server is not built: `asFiledSkipped`
 * says why), through koa and on the lean route.
 * @param {{ grantor: import('../types.js').GrantorServer, tools: import('../types.js').LoadTools, connections: number, seconds: number }} o
 */
export async function measureDocuments({ grantor, tools, connections, seconds }) {
  tools.log('3/9 Grantor well-known documents and the status list: as issue #14 was filed, through koa, then from prepared bytes');
  const tree = await buildAsFiled();
  const asFiled = 'dir' in tree ? await startAsFiled({ dir: tree.dir }) : null;
  if ('skipped' in tree) tools.log(`  ${tree.skipped}`);
  const rows = [];
  try {
    for (const [label, docPath, headers] of DOCUMENTS) {
      const req = (/** @type {string} */ base, /** @type {string} */ query) => ({ url: `${base}${docPath}${query}`, method: 'GET', headers });
      const filed = asFiled ? await tools.load(asFiled, `GET ${label} as filed`, req(asFiled.url, ''), connections, seconds) : null;
      const koa = await tools.load(grantor, `GET ${label} via koa`, req(grantor.url, VIA_KOA), connections, seconds);
      const lean = await tools.load(grantor, `GET ${label}`, req(grantor.url, ''), connections, seconds);
      rows.push({ label, asFiled: filed, koa, lean });
    }
  } finally {
    await asFiled?.stop();
  }
  return { rows, asFiledSkipped: 'skipped' in tree ? tree.skipped : null };
}
