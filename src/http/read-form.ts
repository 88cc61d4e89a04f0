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
 * parameter is refused (§3.1, §3.2).
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
    await readText(ctx, async () => undefined);
    const text = typeof ctx.request.body === 'string' ? ctx.request.body : '';
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
    ctx.state.form = form;
    await next();
  };
}

/** A parameter name made safe to echo in an error description. */
export function printable(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
}
