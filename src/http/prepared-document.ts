import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/** One encoding of a document: its bytes and the whole header sets of its 200 and 304 answers. */
interface PreparedVariant {
  body: Buffer;
  etag: string;
  /** The document's headers with this variant's ETag, type and length (and encoding). */
  headers: Readonly<Record<string, string>>;
  /** The document's headers with this variant's ETag: what a 304 carries. */
  notModified: Readonly<Record<string, string>>;
}

/**
 * A document served on GET (the JWKS, the metadata, the status list) serialised once per version:
 * its bytes, ETag, Content-Length and headers are computed here, not per request. Every request
 * then only picks a variant and compares ETags (answerPrepared()), on the lean path and on koa alike.
 */
export interface PreparedDocument {
  /** The source it was made from, so its owner can tell when to make a new one. */
  readonly source: unknown;
  readonly identity: PreparedVariant;
  /** Present when the document is offered gzip-encoded (RFC 9110 §8.4.1). */
  readonly gzip?: PreparedVariant;
  /** Headers of every answer, 200 and 304 alike (Cache-Control, CORS, Vary). */
  readonly headers: Readonly<Record<string, string>>;
}

export interface PrepareOptions {
  source: unknown;
  body: string;
  contentType: string;
  headers: Record<string, string>;
  /** The ETag of the identity bytes; by default a hash of them. */
  etag?: string;
  /** Also prepare a gzip variant; its ETag is the identity ETag marked `-gzip` (RFC 9110 §8.8.3: one per encoding). */
  gzip?: boolean;
}

/** An ETag for `bytes`: a truncated SHA-256, the shape every Grantor document has used. */
export function etagOf(bytes: string | Buffer): string {
  return `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;
}

export function prepareDocument(opts: PrepareOptions): PreparedDocument {
  const etag = opts.etag ?? etagOf(opts.body);
  const variant = (body: Buffer, tag: string, extra: Record<string, string> = {}): PreparedVariant => ({
    body,
    etag: tag,
    headers: { ...opts.headers, ETag: tag, 'Content-Type': opts.contentType, ...extra, 'Content-Length': String(body.length) },
    notModified: { ...opts.headers, ETag: tag },
  });
  return {
    source: opts.source,
    identity: variant(Buffer.from(opts.body), etag),
    gzip: opts.gzip ? variant(gzipSync(opts.body), `${etag.slice(0, -1)}-gzip"`, { 'Content-Encoding': 'gzip' }) : undefined,
    headers: opts.headers,
  };
}

/** What a GET or HEAD of a prepared document gets: status, headers and (for GET 200) the bytes. */
export interface PreparedAnswer {
  status: 200 | 304;
  headers: Readonly<Record<string, string>>;
  body: Buffer | undefined;
}

/**
 * The one decision of every prepared GET. `encoding` is what content negotiation chose (see
 * simpleGzipChoice() and koa's acceptsEncodings()). A 304 carries the variant's ETag and the
 * document's headers but no type or length, as koa answers it; HEAD gets a 200's headers and no body.
 *
 * The If-None-Match check is done here rather than with koa's `ctx.fresh`, which gives up whenever
 * the request says `Cache-Control: no-cache` — and fetch() adds that to every conditional request.
 * That directive is for caches (RFC 9111 §5.2.1.4); the origin may still say "not modified".
 * Weak comparison (RFC 9110 §13.1.2).
 */
export function answerPrepared(doc: PreparedDocument, request: { method: string; ifNoneMatch: string | undefined; encoding: 'gzip' | 'identity' }): PreparedAnswer {
  const variant = request.encoding === 'gzip' && doc.gzip ? doc.gzip : doc.identity;
  if (request.ifNoneMatch && matchesEtag(request.ifNoneMatch, variant.etag)) {
    return { status: 304, headers: variant.notModified, body: undefined };
  }
  return { status: 200, headers: variant.headers, body: request.method === 'HEAD' ? undefined : variant.body };
}

function matchesEtag(header: string, etag: string): boolean {
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.trim() === '*' || header.split(',').some((tag) => opaque(tag) === opaque(etag));
}

const PLAIN_CODINGS = /^[\s,A-Za-z0-9*-]*$/;

/**
 * Content negotiation (RFC 9110 §12.5.3) between gzip and identity for an Accept-Encoding made of
 * plain codings without weights that does not name identity (`gzip, deflate, br`, what clients
 * send): gzip when it or `*` is named. Any other header (weights, `identity` named: then the order
 * decides) is not decided here (undefined): the lean path leaves such a request to koa, whose
 * acceptsEncodings() decides it.
 */
export function simpleGzipChoice(header: string | undefined): 'gzip' | 'identity' | undefined {
  if (header === undefined || header.trim() === '') return 'identity';
  if (!PLAIN_CODINGS.test(header)) return undefined;
  let gzip = false;
  for (const coding of header.split(',')) {
    const c = coding.trim().toLowerCase();
    if (c === 'identity') return undefined;
    if (c === 'gzip' || c === '*') gzip = true;
  }
  return gzip ? 'gzip' : 'identity';
}
