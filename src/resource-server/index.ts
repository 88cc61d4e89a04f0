/**
 * Grantor's resource-server module (`grantor/resource-server`): verify Grantor access tokens in a
 * Node API, revocation included, with no call to Grantor per request. Imports only jose and Node.
 */
export { createVerifier, type AccessTokenPayload, type DpopOptions, type DpopReplayCache, type ResourceRequest, type Verifier, type VerifierOptions } from './verify.js';
export { requireToken, revocationReceiver, type KoaLikeContext, type KoaReceiverContext, type RequireTokenOptions } from './koa.js';
export { type RevocationEventsOptions, type RevocationState } from './revocation-events.js';
export { type HeaderBag, type SetAnswer } from './push-receiver.js';
export { SESSION_REVOKED, VERIFICATION, type SetErrorCode } from './security-event.js';
export { type SsfCredentials } from './ssf-client.js';
export { ResourceServerError, type ResourceServerErrorCode } from './errors.js';
export {
  createProtectedResourceMetadata,
  serveProtectedResourceMetadata,
  PROTECTED_RESOURCE_METADATA_SUFFIX,
  type KoaMetadataContext,
  type MetadataAnswer,
  type ProtectedResourceMetadata,
  type ProtectedResourceMetadataOptions,
} from './metadata.js';
