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
 * koa-bodyparser hands over the raw text and URLSearchParams parses it, so parameter names stay
 * literal (no qs nesting of `a[b]` or `a.b`). Empty values count as omitted (§3.1); a repeated
 * parameter is refused (§3.1, §3.2), and so is malformed percent-encoding (§5.2 "otherwise
 * malformed"), which URLSearchParams would otherwise pass on silently altered.
 */
export function readForm(opts: ReadFormOptions) {
  const repeatable = new Set(opts.repeatable ?? []);
  const readText = bodyParser({
    enableTypes: ['text'],
    extendTypes: { text: ['application/x-www-form-urlencoded'] },
    textLimit: `${opts.limit}b`,
    encoding: 'utf-8',
  });
  return async function readFormMiddleware(ctx: Context, next: Next): Promise<void> {
    if (!ctx.is('application/x-www-form-urlencoded')) {
      throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
    }
    try {
      await readText(ctx, async () => undefined);
    } catch (err) {
      throw bodyReadError(err);
    }
    const text = typeof ctx.request.body === 'string' ? ctx.request.body : '';
    const form = parseForm(text, repeatable);
    ctx.state.form = form;
    await next();
  };
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
  return new OAuthError('invalid_request', 'the request body could not be decoded', { detail: (err as Error)?.message });
}
