import type { Config } from '../config.js';
import { JWKS_PATH } from '../keys/routes.js';
import { POLL, PUSH } from './set.js';
import { STATUS_PATH, STREAMS_PATH, VERIFY_PATH } from './streams.js';

/**
 * SSF 1.0 §7.2: the configuration is at `/.well-known/ssf-configuration`, with the issuer's path
 * (if any) appended, as RFC 8414 §3.1 places metadata.
 */
export function ssfConfigurationPath(config: Pick<Config, 'issuer'>): string {
  const path = new URL(config.issuer).pathname.replace(/\/+$/, '');
  return `/.well-known/ssf-configuration${path}`;
}

/** SSF 1.0 §7.1: the transmitter configuration metadata. */
export function ssfConfiguration(config: Pick<Config, 'issuer' | 'baseUrl'>): Record<string, unknown> {
  return {
    spec_version: '1_0',
    issuer: config.issuer,
    jwks_uri: `${config.baseUrl}${JWKS_PATH}`,
    delivery_methods_supported: [PUSH, POLL],
    configuration_endpoint: `${config.baseUrl}${STREAMS_PATH}`,
    status_endpoint: `${config.baseUrl}${STATUS_PATH}`,
    verification_endpoint: `${config.baseUrl}${VERIFY_PATH}`,
    // SSF 1.0 §7.1.1: stream management takes OAuth 2 access tokens (scope `ssf`).
    authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6749' }],
    // Every grant revocation of a stream's audience is sent: no subjects to add.
    default_subjects: 'ALL',
  };
}
