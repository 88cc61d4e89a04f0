import type { z } from 'zod';
import { OAuthError } from '../errors.js';

/** Parses input with a schema, or throws invalid_request naming the first offending field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.path.length ? issue.path.join('.') : 'body';
  const message = issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message;
  throw new OAuthError('invalid_request', `${field}: ${message}`);
}
