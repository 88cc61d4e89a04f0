/**
 * node-oidc-provider publishes no types; bench/oidc-provider-child.js (the peer the bench measures)
 * is its only user here, through the few calls it makes.
 */
declare module 'oidc-provider';
