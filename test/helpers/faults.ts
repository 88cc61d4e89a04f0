import type { Logger } from 'pino';

/** Throws: a metrics recorder or logger method that fails. */
export function failing(): never {
  throw new Error('broken');
}

/** A logger every method of which throws (the access log line fails too: it has no stream). */
export const throwingLogger = { isLevelEnabled: () => true, info: failing, error: failing, warn: failing, debug: failing } as unknown as Logger;

/**
 * Records uncaught exceptions and unhandled rejections during each test of the describe block it
 * is called in (they would otherwise end the process or pass unseen): read `errors` in the test.
 */
export function recordUncaught(): { readonly errors: unknown[] } {
  const seen = { errors: [] as unknown[] };
  const record = (err: unknown) => void seen.errors.push(err);
  beforeEach(() => {
    seen.errors.length = 0;
    process.on('uncaughtException', record);
    process.on('unhandledRejection', record);
  });
  afterEach(() => {
    process.off('uncaughtException', record);
    process.off('unhandledRejection', record);
  });
  return seen;
}
