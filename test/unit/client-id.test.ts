import { newClientId } from '../../src/lib/random.js';

describe('newClientId', () => {
  // Regression: a client_id beginning with `-` (1 in 64 of the random ones) made
  // `grantor clients update <client_id>` fail with "unknown option" (a CI run of
  // private-key-jwt-keys.test.ts drew one).
  it('never begins with "-", so a command line takes it as an argument', () => {
    const ids = Array.from({ length: 20_000 }, () => newClientId());
    expect(ids.filter((id) => id.startsWith('-'))).toEqual([]);
  });

  it('is 16 random bytes, base64url: 22 characters, all different', () => {
    const ids = Array.from({ length: 1000 }, () => newClientId());
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
