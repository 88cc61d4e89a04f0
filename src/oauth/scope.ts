import { OAuthError } from '../errors.js';
import { SCOPE_TOKEN } from '../registry/schemas.js';

/** Parses a `scope` parameter (RFC 6749 §3.3): space-delimited scope-tokens, duplicates folded. */
export function parseScope(raw: string | null | undefined): string[] | undefined {
  if (raw === null || raw === undefined) return undefined;
  const tokens = raw.split(' ').filter((t) => t !== '');
  if (tokens.length === 0 || tokens.length > 100 || tokens.some((t) => !SCOPE_TOKEN.test(t) || t.length > 128)) {
    throw new OAuthError('invalid_scope', 'scope is malformed');
  }
  return [...new Set(tokens)];
}

export function formatScope(scopes: string[]): string {
  return scopes.join(' ');
}
