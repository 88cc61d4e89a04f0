import type { Knex } from 'knex';

export interface AuthorizationCodeRow {
  codeHash: string;
  clientId: string;
  userId: string;
  grantId: string;
  redirectUri: string;
  redirectUriSent: boolean;
  codeChallenge: string | null;
  /** RFC 9449 §10: the DPoP key thumbprint the authorization request named (`dpop_jkt`). */
  dpopJkt: string | null;
  scope: string;
  resource: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export async function insertCode(db: Knex, c: AuthorizationCodeRow): Promise<void> {
  await db('authorization_codes').insert({
    code_hash: c.codeHash,
    client_id: c.clientId,
    user_id: c.userId,
    grant_id: c.grantId,
    redirect_uri: c.redirectUri,
    redirect_uri_sent: c.redirectUriSent,
    code_challenge: c.codeChallenge,
    dpop_jkt: c.dpopJkt,
    scope: c.scope,
    resource: c.resource,
    created_at: c.createdAt,
    expires_at: c.expiresAt,
    used_at: null,
  });
}

export async function findCode(db: Knex, codeHash: string): Promise<AuthorizationCodeRow | undefined> {
  const r = await db('authorization_codes').where({ code_hash: codeHash }).first();
  if (!r) return undefined;
  return {
    codeHash: r.code_hash,
    clientId: r.client_id,
    userId: r.user_id,
    grantId: r.grant_id,
    redirectUri: r.redirect_uri,
    redirectUriSent: Boolean(r.redirect_uri_sent),
    codeChallenge: r.code_challenge,
    dpopJkt: r.dpop_jkt ?? null,
    scope: r.scope,
    resource: r.resource,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    usedAt: r.used_at === null ? null : Number(r.used_at),
  };
}

/** Single use, decided by the database: of two redemptions exactly one gets true. */
export async function consumeCode(db: Knex, codeHash: string, at: number): Promise<boolean> {
  return (await db('authorization_codes').where({ code_hash: codeHash }).whereNull('used_at').update({ used_at: at })) === 1;
}
