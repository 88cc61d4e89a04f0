import bodyParser from 'koa-bodyparser';
import type { Context, Next } from 'koa';
import { OAuthError } from '../errors.js';
import { bodyReadError } from './read-form.js';

/**
 * The first member name that appears twice in one object of a JSON text (already parsed, so
 * well-formed), or undefined. JSON.parse keeps the last of duplicates while other parsers keep
 * the first; a body that two parsers would read differently is refused instead (RFC 8259 §4:
 * names SHOULD be unique). Escapes are decoded, so "a" and "\u0061" are the same name.
 */
export function duplicateMember(text: string): string | undefined {
  const objects: Array<Set<string> | null> = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const names = objects[objects.length - 1];
      if (names && expectName) {
        const name = JSON.parse(text.slice(i, j + 1)) as string;
        if (names.has(name)) return name;
        names.add(name);
        expectName = false;
      }
      i = j;
    } else if (c === '{') {
      objects.push(new Set());
      expectName = true;
    } else if (c === '[') {
      objects.push(null);
    } else if (c === '}' || c === ']') {
      objects.pop();
    } else if (c === ',') {
      expectName = objects[objects.length - 1] instanceof Set;
    }
  }
  return undefined;
}

/**
 * Reads a JSON body for the admin API and registration; other content types are refused with
 * 415. `refuseDuplicateMembers`: an object naming a member twice is refused with 400.
 */
export function readJson(opts: { limit: number; refuseDuplicateMembers?: boolean }) {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: `${opts.limit}b`, strict: true });
  return async function readJsonMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.request.length || ctx.get('Transfer-Encoding')) {
      if (!ctx.is('application/json')) {
        throw new OAuthError('invalid_request', 'the body must be application/json', { status: 415 });
      }
      try {
        await parse(ctx, async () => undefined);
      } catch (err) {
        throw bodyReadError(err);
      }
      const raw = (ctx.request as { rawBody?: unknown }).rawBody;
      const twice = opts.refuseDuplicateMembers && typeof raw === 'string' ? duplicateMember(raw) : undefined;
      if (twice !== undefined) throw new OAuthError('invalid_request', `the JSON body names a member twice: ${JSON.stringify(twice.slice(0, 64))}`);
    }
    await next();
  };
}
