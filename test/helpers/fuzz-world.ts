/**
 * The registered things the fuzz properties aim at, so generated requests get deep: an API, a
 * confidential client, a browser app with a person's grant (access and refresh token), a resource
 * server that may introspect, a disabled client, an admin client, and tokens of a revoked grant.
 * Generated requests name live values symbolically (`$aliceRefresh`), resolved when a request is
 * sent: a fuzz case that revokes a grant through the API it fuzzes is followed by heal(), which
 * gets fresh tokens, so later cases still reach past the credential checks.
 */
import { decodeJwt } from 'jose';
import { revokeGrant } from '../../src/revocation/revoke-grant.js';
import { hashSecret } from '../../src/lib/secret.js';
import { findGrant } from '../../src/store/grants.js';
import { findSession } from '../../src/store/sessions.js';
import { updateClient } from '../../src/registry/clients.js';
import { createUser } from '../../src/registry/users.js';
import { Person } from './browserless.js';
import { API, delegatedFixture, delegatedTokens, PASSWORD, REDIRECT, signIn, type Creds } from './delegated.js';
import { signingInput, tamper, unsignedJwt } from './hostile.js';
import type { TestApp } from './test-app.js';

export { API, REDIRECT, PASSWORD };
export const OTHER_API = 'https://other.example.com';

/** Symbols generated requests may carry in place of a live value. */
export const TOKEN_SYMBOLS = ['$ccAccess', '$aliceAccess', '$aliceRefresh', '$adminAccess', '$revokedAccess', '$revokedRefresh', '$revokedAdmin', '$forged', '$tampered', '$truncated'] as const;
export const CLIENT_SYMBOLS = ['$cc', '$spa', '$rs', '$disabled', '$admin', '$revokedAdminClient'] as const;
/** alice's signed-in session (cookie value), a CSRF value, the grant ids of alice's live grant and of the revoked one. */
export const PAGE_SYMBOLS = ['$session', '$csrf', '$aliceGrant', '$revokedGrant', '$aliceId'] as const;
/** A CSRF value of the right shape (43 base64url characters): double submission compares cookie and field only. */
const CSRF = 'fuzzCsrfValue0fuzzCsrfValue0fuzzCsrfValue0x';

export interface FuzzWorld {
  cc: Creds;
  spa: Creds;
  rs: Creds;
  disabled: Creds;
  admin: Creds;
  alice: { id: string; username: string };
  /** The live value of a `$symbol` (a token, or a client's id), or the value itself when it names none. */
  resolve(value: string): string;
  /** `[client_id, secret]` of a `$client` symbol. */
  creds(symbol: string): readonly [string, string];
  /** Makes `symbol` stand for `value` from now on (e.g. the id of something a test registered). */
  define(symbol: string, value: string): void;
  /** Fresh tokens for every fixture grant a fuzz case revoked (nothing un-revokes a grant), a fresh session if it was ended. */
  heal(): Promise<void>;
}

export async function buildWorld(app: TestApp): Promise<FuzzWorld> {
  const { spa, rs, alice } = await delegatedFixture(app);
  await app.resource({ identifier: OTHER_API, name: 'Other', scopes: [{ name: 'report' }] });
  const cc = await app.client({ name: 'reporting job', scopes: ['photos:read', 'photos:write'] });
  const disabled = await app.client({ name: 'switched off', scopes: ['photos:read'] });
  await updateClient(app.deps, disabled.client_id, { disabled: true });
  const admin = await app.client({ name: 'ops', scopes: ['admin'] });
  const revokedAdminClient = await app.client({ name: 'former ops', scopes: ['admin'] });
  await createUser(app.deps, { username: 'bob', password: PASSWORD });

  const ccToken = async (creds: Creds, scope: string) => {
    const res = await app.token({ grant_type: 'client_credentials', scope }, { basic: [creds.client_id, creds.client_secret] });
    if (res.status !== 200) throw new Error(`fixture token: ${res.status} ${await res.text()}`);
    return (await res.json()).access_token as string;
  };
  const grantOf = (jwt: string) => (decodeJwt(jwt) as { grant_id: string }).grant_id;

  // A grant revoked before the fuzz starts: its tokens must be refused everywhere.
  const bob = await delegatedTokens(app, new Person(app.url), spa.client_id, { username: 'bob' });
  await revokeGrant(app.deps, bob.grant_id, { reason: 'fuzz fixture', by: 'test' });
  const revokedAdmin = await ccToken(revokedAdminClient, 'admin');
  await revokeGrant(app.deps, grantOf(revokedAdmin), { reason: 'fuzz fixture', by: 'test' });

  const live: Record<string, string> = { $csrf: CSRF, $revokedGrant: bob.grant_id, $aliceId: alice.id };
  const refill = async () => {
    const a = await delegatedTokens(app, new Person(app.url), spa.client_id, { scope: 'photos:read photos:write' });
    live.$aliceAccess = a.access_token;
    live.$aliceRefresh = a.refresh_token;
    live.$aliceGrant = a.grant_id;
  };
  const signInAlice = async () => {
    const person = new Person(app.url);
    const res = await signIn(person, 'alice');
    if (res.status !== 303) throw new Error(`fixture sign-in: ${res.status}`);
    live.$session = person.jar.cookies.get('grantor_session') ?? '';
  };
  await refill();
  await signInAlice();
  live.$ccAccess = await ccToken(cc, 'photos:read');
  live.$adminAccess = await ccToken(admin, 'admin');

  const fixed: Record<string, string> = {
    $revokedAccess: bob.access_token,
    $revokedRefresh: bob.refresh_token,
    $revokedAdmin: revokedAdmin,
    // alg none with the admin token's claims; a real token with its claims edited; a cut one.
    $forged: unsignedJwt({ alg: 'none', typ: 'at+jwt' }, decodeJwt(live.$adminAccess)),
    $tampered: tamper(live.$adminAccess, (c) => ({ ...c, scope: 'admin', client_id: cc.client_id })),
    $truncated: signingInput({ alg: 'RS256', typ: 'at+jwt' }, { sub: 'x' }),
  };
  const clients: Record<string, Creds> = { $cc: cc, $spa: spa, $rs: rs, $disabled: disabled, $admin: admin, $revokedAdminClient: revokedAdminClient };

  return {
    cc,
    spa,
    rs,
    disabled,
    admin,
    alice,
    resolve(value) {
      if (!value.startsWith('$')) return value;
      return live[value] ?? fixed[value] ?? clients[value]?.client_id ?? value;
    },
    define(symbol, value) {
      live[symbol] = value;
    },
    creds(symbol) {
      const c = clients[symbol];
      return c ? [c.client_id, c.client_secret] : [symbol, ''];
    },
    async heal() {
      const revoked = async (jwt: string) => (await findGrant(app.deps.db, grantOf(jwt)))?.revokedAt !== null;
      if (await revoked(live.$aliceAccess)) await refill();
      if (await revoked(live.$ccAccess)) live.$ccAccess = await ccToken(cc, 'photos:read');
      if (await revoked(live.$adminAccess)) live.$adminAccess = await ccToken(admin, 'admin');
      if (!(await findSession(app.deps.db, hashSecret(live.$session), app.deps.clock.now()))) await signInAlice();
    },
  };
}
