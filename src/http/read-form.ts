import { isUtf8 } from 'node:buffer';
import bodyParser from 'koa-bodyparser';
import type { Context, Next } from 'koa';
import { OAuthError } from '../errors.js';

export interface ReadFormOptions {
  /** Largest body in bytes. */
  limit: number;
  /** Parameters that may legitimately repeat (RFC 8707 `resource`). */
  repeatable?: string[];
}

/**
 * Reads an `application/x-www-form-urlencoded` body (RFC 6749 §3.2) into `ctx.state.form`.
 * koa-bodyparser hands over the raw bytes (inflated if Content-Encoding says so), decodeFormBody()
 * makes them text and URLSearchParams parses it, so parameter names stay literal (no qs nesting of
 * `a[b]` or `a.b`). Empty values count as omitted (§3.1); a repeated parameter is refused (§3.1,
 * §3.2), and so is malformed percent-encoding (§5.2 "otherwise malformed"), which URLSearchParams
 * would otherwise pass on silently altered. The lean token path uses the same formTypeError(),
 * decodeFormBody() and parseForm().
 */
export function readForm(opts: ReadFormOptions) {
  const repeatable = new Set(opts.repeatable ?? []);
  const readText = bodyParser({
    enableTypes: ['text'],
    extendTypes: { text: ['application/x-www-form-urlencoded'] },
    textLimit: `${opts.limit}b`,
    // No decoding here: the bytes go to decodeFormBody(), as on the lean path.
    encoding: null as unknown as string,
  });
  return async function readFormMiddleware(ctx: Context, next: Next): Promise<void> {
    const refused = formTypeError(ctx.get('Content-Type'));
    if (refused) throw refused;
    try {
      await readText(ctx, async () => undefined);
    } catch (err) {
      throw bodyReadError(err);
    }
    const bytes: unknown = ctx.request.body;
    const form = parseForm(decodeFormBody(Buffer.isBuffer(bytes) ? bytes : Buffer.alloc(0)), repeatable);
    ctx.state.form = form;
    await next();
  };
}

const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * A form body's Content-Type: `application/x-www-form-urlencoded`, with `charset=utf-8` or no
 * charset (RFC 6749 Appendix B: the form is UTF-8; a body labelled otherwise, e.g. iso-8859-1,
 * would be read as something it is not). Other parameters are ignored. Returns the refusal
 * (400 invalid_request, standards: anything but a form is invalid_request) or undefined.
 */
export function formTypeError(contentType: string | undefined): OAuthError | undefined {
  if (contentType === FORM_TYPE) return undefined;
  const [type, ...params] = (contentType ?? '').split(';');
  if (type.trim().toLowerCase() !== FORM_TYPE) {
    return new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  for (const param of params) {
    const eq = param.indexOf('=');
    if (param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    const charset = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (charset !== 'utf-8') return new OAuthError('invalid_request', 'the form body must be UTF-8 (charset=utf-8 or none)');
  }
  return undefined;
}

/**
 * A form body's bytes as text: UTF-8 (RFC 6749 Appendix B), without a byte order mark. A BOM is
 * not part of a form (WHATWG URL's form parser would make it part of the first name, silently
 * losing that parameter), so it is refused outright, as are bytes that are not UTF-8.
 */
export function decodeFormBody(bytes: Buffer): string {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new OAuthError('invalid_request', 'the body starts with a byte order mark');
  }
  if (!isUtf8(bytes)) throw new OAuthError('invalid_request', 'the body is not UTF-8');
  return bytes.toString('utf8');
}

/**
 * Parses a form body by the rules above: literal names, empty values omitted, repeats refused
 * unless `repeatable`, malformed percent-encoding refused. Shared with the lean token path.
 */
export function parseForm(text: string, repeatable: ReadonlySet<string>): URLSearchParams {
  if (!wellEncoded(text)) {
    throw new OAuthError('invalid_request', 'the body has malformed percent-encoding');
  }
  const form = new URLSearchParams();
  const seen = new Set<string>();
  for (const [name, value] of new URLSearchParams(text)) {
    if (value === '') continue;
    if (seen.has(name) && !repeatable.has(name)) {
      throw new OAuthError('invalid_request', `parameter ${printable(name)} is repeated`);
    }
    seen.add(name);
    form.append(name, value);
  }
  return form;
}

/**
 * A parameter name for an error description: plain names (every OAuth parameter is one) are
 * named; anything else is not echoed (RFC 6749 §3.1 ignores unknown parameters, never reflects them).
 */
export function printable(name: string): string {
  return /^[A-Za-z0-9_.-]{1,64}$/.test(name) ? name : '(unnamed)';
}

/**
 * RFC 3986 §2.1: every `%` starts two hex digits, and the decoded octets are UTF-8 (WHATWG form
 * parsing would keep a stray `%` and turn bad UTF-8 into U+FFFD without a word).
 */
function wellEncoded(text: string): boolean {
  if (!text.includes('%')) return true;
  for (const pair of text.split('&')) {
    try {
      decodeURIComponent(pair.replace(/\+/g, ' '));
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * A body the reader could not decode is the client's fault: a body labelled gzip that is not
 * (zlib errors carry no HTTP status) → invalid_request. HTTP errors (413, 415, 400) pass as they are.
 */
export function bodyReadError(err: unknown): unknown {
  if (typeof (err as { status?: unknown })?.status === 'number') return err;
  // The decoder's kind of failure (zlib's code), never a message that could quote the body.
  const code = (err as { code?: unknown })?.code;
  return new OAuthError('invalid_request', 'the request body could not be decoded', { detail: typeof code === 'string' ? code : 'undecodable body' });
}
