import { currentDpopNonce, dpopNonceValid, NONCE_WINDOW } from '../../src/oauth/dpop-nonce.js';

describe('DPoP nonces (RFC 9449 §8): stateless, by time window', () => {
  const secret = 'a server secret shared through the database';
  const t = 1_800_000_000;

  it('accepts a nonce in its own window and the next', () => {
    const nonce = currentDpopNonce(secret, t);
    expect(dpopNonceValid(secret, nonce, t)).toBe(true);
    expect(dpopNonceValid(secret, nonce, t + NONCE_WINDOW)).toBe(true);
  });

  it('refuses a nonce two windows old, one made with another secret, and anything not a string', () => {
    expect(dpopNonceValid(secret, currentDpopNonce(secret, t), t + 2 * NONCE_WINDOW)).toBe(false);
    expect(dpopNonceValid(secret, currentDpopNonce('another secret', t), t)).toBe(false);
    expect(dpopNonceValid(secret, 42, t)).toBe(false);
    expect(dpopNonceValid(secret, undefined, t)).toBe(false);
  });
});
