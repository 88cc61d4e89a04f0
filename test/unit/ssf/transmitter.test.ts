import { retryDelay } from '../../../src/ssf/dispatcher.js';
import { initiatingEntity } from '../../../src/ssf/set.js';

describe('push retry backoff (RFC 8935 §2.3 leaves it to the transmitter)', () => {
  it('doubles from 1 s, with jitter between half and all of the step', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(n, 300, () => 0.999))).toEqual([1, 2, 4, 8, 16]);
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(n, 300, () => 0))).toEqual([1, 1, 2, 4, 8]);
  });

  it('never waits longer than SSF_PUSH_RETRY_MAX, however many attempts failed', () => {
    expect(retryDelay(9, 300, () => 0.999)).toBe(256);
    expect(retryDelay(10, 300, () => 0.999)).toBe(300);
    expect(retryDelay(10_000, 300, () => 0.999)).toBe(300);
  });
});

describe('CAEP initiating_entity from who revoked', () => {
  it.each([
    ['admin:rs-admin', 'admin'],
    ['cli', 'admin'],
    ['user:42', 'user'],
    ['client:app', 'user'],
    ['system', 'system'],
    ['anything else', 'policy'],
  ])('%s → %s', (by, entity) => {
    expect(initiatingEntity(by)).toBe(entity);
  });
});

describe('SSF configuration location (SSF 1.0 §7.2)', () => {
  it('appends the issuer\'s path to /.well-known/ssf-configuration', async () => {
    const { ssfConfigurationPath } = await import('../../../src/ssf/configuration.js');
    expect(ssfConfigurationPath({ issuer: 'https://auth.example.com' })).toBe('/.well-known/ssf-configuration');
    expect(ssfConfigurationPath({ issuer: 'https://auth.example.com/' })).toBe('/.well-known/ssf-configuration');
    expect(ssfConfigurationPath({ issuer: 'https://example.com/tenant/a' })).toBe('/.well-known/ssf-configuration/tenant/a');
  });
});
