import { OAuthError } from '../errors.js';

/**
 * The one place database driver errors become protocol outcomes (never a 500 for the client's
 * input, never a leaked driver message):
 * - input the database cannot store or compare (PostgreSQL refuses NUL bytes and bad encodings) → 400;
 * - contention (SQLite busy or locked, PostgreSQL serialization failure or deadlock) → 503, retry.
 * Anything else is left alone and becomes a logged server_error.
 */
export function mapDriverError(err: unknown): OAuthError | undefined {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string') return undefined;
  switch (code) {
    case '22021': // character_not_in_repertoire (e.g. NUL in UTF-8 text)
    case '22P05': // untranslatable_character
    case '22001': // string_data_right_truncation
    case '22003': // numeric_value_out_of_range
    case '22P02': // invalid_text_representation
      return new OAuthError('invalid_request', 'a parameter holds a value that cannot be processed', { detail: `driver ${code}` });
    case '40001': // serialization_failure
    case '40P01': // deadlock_detected
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return new OAuthError('temporarily_unavailable', 'the server is busy; retry the request', { detail: `driver ${code}`, headers: { 'Retry-After': '1' } });
    default:
      return undefined;
  }
}
