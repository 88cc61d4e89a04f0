/**
 * Fuzzing every endpoint — documents (metadata, JWKS, status list, OpenAPI), operations, the
 * authorization endpoint and the pages (login, consent, logout, connected apps, with and without
 * a session and a CSRF value), the form endpoints, the admin API, unknown paths, odd methods —
 * with generated requests, the same bytes sent to the server's own listener and to koa alone.
 *
 * Issue #10: "make the class hard to reintroduce". Properties, on both paths:
 * - never a 5xx (but 501 where the standards allow it), never a stack trace;
 * - never a stored change from a refused request (an error status, or a redirect carrying an
 *   OAuth error); failed logins are counted by design (see CHANGING_ON_REFUSAL);
 * - a refusal is the same whichever path answers it.
 * The form endpoints and the admin API have deeper fuzzers of their own (oauth-forms, admin-api).
 */
import fc from 'fast-check';
import {
  anyValue, bodyBytes, extraHeaders, formContentType, framing, pairEncoding, pathVariant, poolOrAny, separator, sometimes, unsupportedTransferCoding,
  type Pair, type PairEncoding,
} from '../helpers/fuzz-inputs.js';
import { build, type Recipe } from '../helpers/fuzz-recipe.js';
import { fuzzParameters, fuzzTimeout, report, sendBothWays } from '../helpers/fuzz-target.js';
import { API, OTHER_API, PASSWORD, REDIRECT, TOKEN_SYMBOLS } from '../helpers/fuzz-world.js';
import { useFuzzFixture } from '../helpers/fuzz-fixture.js';
import type { FuzzRequest } from '../helpers/fuzz-http.js';

const RUNS = 300;

type Part = Pick<Recipe, 'method' | 'path' | 'query' | 'body' | 'contentType' | 'authorization' | 'cookie'>;

const pairsOf = (entries: Array<[string, fc.Arbitrary<string>]>): fc.Arbitrary<Pair[]> =>
  fc.tuple(...entries.map(([name, value]) => fc.option(value.map((v): Pair => [name, v]), { nil: undefined, freq: 5 }))).map((ps) => ps.filter((p): p is Pair => p !== undefined));

/** An authorization request's parameters (RFC 6749 §4.1.1, RFC 7636 §4.3, RFC 8707), mostly valid. */
const authorizeParams = pairsOf([
  ['response_type', poolOrAny(['code', 'code', 'code', 'code', 'code', 'token', 'code token'])],
  ['client_id', poolOrAny(['$spa', '$spa', '$spa', '$spa', '$spa', '$spa', '$cc', '$disabled', 'unknown'])],
  ['redirect_uri', poolOrAny([REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, `${REDIRECT}/`, 'https://evil.example/cb', `${REDIRECT}?x=1`, 'HTTPS://app.example.com/callback'])],
  ['scope', poolOrAny(['photos:read', 'photos:read photos:write', 'photos:delete', 'report', 'admin'])],
  ['state', anyValue],
  ['code_challenge', poolOrAny(['E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', 'short', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM!'])],
  ['code_challenge_method', poolOrAny(['S256', 'S256', 'S256', 'S256', 'plain', 's256'])],
  ['resource', poolOrAny([API, OTHER_API, `${API}#x`, 'not a uri'])],
  ['prompt', poolOrAny(['none', 'login', 'consent', 'login consent', 'select_account'])],
]);

const cookie = fc.oneof(
  { weight: 8, arbitrary: fc.constant('grantor_session=$session; grantor_csrf=$csrf') },
  { weight: 1, arbitrary: fc.constant('grantor_csrf=$csrf') },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom('grantor_session=', `grantor_session=${'x'.repeat(200)}`, 'grantor_session=$session; grantor_session=other', 'grantor_csrf=short', 'grantor_session="$session"', 'a=b; =c; ;') },
  { weight: 1, arbitrary: anyValue.map((v) => `grantor_session=${v}; grantor_csrf=${v}`) },
);
const csrf = poolOrAny(['$csrf', '$csrf', '$csrf', '$csrf', '$csrf', '$csrf', 'fuzzCsrfValue0fuzzCsrfValue0fuzzCsrfValue0y', '']);
const form = (pairs: fc.Arbitrary<Pair[]>) => pairs.map((p): Recipe['body'] => ({ kind: 'form', pairs: p }));
const none: Recipe['body'] = { kind: 'none' };
const get = (path: string, extra: Partial<Part> = {}): fc.Arbitrary<Part> => fc.constant({ method: 'GET', path, body: none, contentType: undefined, authorization: [], ...extra });

/** Each endpoint's own requests (before the generic bending below). */
const endpoint: fc.Arbitrary<Part> = fc.oneof(
  // documents and operations
  get('/.well-known/oauth-authorization-server'),
  get('/.well-known/jwks.json'),
  get('/statuslists/1'),
  anyValue.map((t): Part => ({ method: 'GET', path: '/statuslists/1', query: [['time', t]], body: none, contentType: undefined, authorization: [] })),
  get('/openapi.json'),
  get('/healthz'),
  get('/readyz'),
  get('/metrics'),
  get('/assets/grantor.css'),
  // the authorization endpoint and the pages
  fc.tuple(authorizeParams, cookie).map(([query, c]): Part => ({ method: 'GET', path: '/oauth/authorize', query, cookie: c, body: none, contentType: undefined, authorization: [] })),
  fc.tuple(form(fc.tuple(authorizeParams, csrf, poolOrAny(['allow', 'deny', 'maybe'])).map(([ps, token, decision]) => [['csrf', token] as Pair, ['decision', decision] as Pair, ...ps])), cookie).map(
    ([body, c]): Part => ({ method: 'POST', path: '/oauth/authorize', body, cookie: c, contentType: 'application/x-www-form-urlencoded', authorization: [] }),
  ),
  fc.tuple(poolOrAny(['/account', '/oauth/authorize?client_id=$spa', 'https://evil.example', '//evil.example', '/\\evil.example']), cookie).map(
    ([to, c]): Part => ({ method: 'GET', path: '/login', query: [['return_to', to]], cookie: c, body: none, contentType: undefined, authorization: [] }),
  ),
  fc.tuple(pairsOf([['csrf', csrf], ['username', poolOrAny(['alice', 'alice', 'ALICE', 'bob', 'nobody', 'alice\u0000', 'a'.repeat(100)])], ['password', poolOrAny([PASSWORD, PASSWORD, 'wrong password', ''])], ['return_to', poolOrAny(['/account', '//evil.example', '/oauth/authorize?x=\u00e9'])]]), cookie).map(
    ([pairs, c]): Part => ({ method: 'POST', path: '/login', body: { kind: 'form', pairs }, cookie: c, contentType: 'application/x-www-form-urlencoded', authorization: [] }),
  ),
  fc.tuple(pairsOf([['csrf', csrf]]), cookie).map(([pairs, c]): Part => ({ method: 'POST', path: '/logout', body: { kind: 'form', pairs }, cookie: c, contentType: 'application/x-www-form-urlencoded', authorization: [] })),
  fc.tuple(fc.option(fc.constant<Pair[]>([['revoked', '1']]), { nil: undefined }), cookie).map(([query, c]): Part => ({ method: 'GET', path: '/account', query, cookie: c, body: none, contentType: undefined, authorization: [] })),
  fc.tuple(poolOrAny(['$aliceGrant', '$revokedGrant', 'unknown', '..', '%2e%2e']), pairsOf([['csrf', csrf]]), cookie).map(
    ([id, pairs, c]): Part => ({ method: 'POST', path: `/account/grants/${id}/revoke`, body: { kind: 'form', pairs }, cookie: c, contentType: 'application/x-www-form-urlencoded', authorization: [] }),
  ),
  // the form endpoints, shallowly (oauth-forms.test.ts goes deep)
  fc.tuple(fc.constantFrom('/oauth/token', '/oauth/revoke', '/oauth/introspect'), pairsOf([['grant_type', poolOrAny(['client_credentials', 'refresh_token'])], ['token', poolOrAny([...TOKEN_SYMBOLS])], ['client_id', poolOrAny(['$spa', '$cc'])]])).map(
    ([path, pairs]): Part => ({ method: 'POST', path, body: { kind: 'form', pairs }, contentType: 'application/x-www-form-urlencoded', authorization: ['Basic $cc'] }),
  ),
  // the admin API, shallowly (admin-api.test.ts goes deep)
  fc.tuple(fc.constantFrom('/admin/clients', '/admin/resources', '/admin/users', '/admin/grants', '/admin/keys', '/admin/revocations', '/admin/clients/$cc', '/admin/grants/$aliceGrant'), fc.constantFrom<string[]>([], ['Bearer $adminAccess'], ['Bearer $ccAccess'], ['Bearer $revokedAdmin'])).map(
    ([path, authorization]): Part => ({ method: 'GET', path, body: none, contentType: undefined, authorization }),
  ),
  // nothing there
  fc.constantFrom('/', '/favicon.ico', '/.well-known/', '/.well-known/openid-configuration', '/oauth', '/admin', '/admin/', '/statuslists/2', '/statuslists/1/x', '/assets/', '/account/grants').chain((path) => get(path)),
  fc.webPath().map((path): Part => ({ method: 'GET', path: path || '/', body: none, contentType: undefined, authorization: [] })),
);

const recipe: fc.Arbitrary<Recipe> = fc
  .record({
    part: endpoint,
    method: sometimes(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'post')),
    encodings: fc.oneof({ weight: 5, arbitrary: fc.constant<PairEncoding[]>(['www']) }, { weight: 1, arbitrary: fc.array(pairEncoding, { minLength: 1, maxLength: 8 }) }),
    separator,
    bom: fc.oneof({ weight: 15, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    contentType: sometimes(formContentType),
    authorization: sometimes(fc.constantFrom<string[]>(['Bearer $adminAccess'], ['Basic $cc'], ['Bearer garbage'], ['Bearer $adminAccess', 'Bearer garbage'])),
    extra: fc.oneof({ weight: 2, arbitrary: fc.constant<Array<[string, string]>>([]) }, { weight: 1, arbitrary: extraHeaders }),
    framing,
    bytes: bodyBytes,
  })
  .chain((r) =>
    pathVariant(r.part.path).map(
      (path): Recipe => ({
        ...r.part,
        path,
        // Another method now and then (the parts' own bodies stay; a GET with a body is a case too).
        method: r.method ?? r.part.method,
        encodings: r.encodings,
        separator: r.separator,
        bom: r.bom,
        contentType: r.contentType ?? r.part.contentType,
        authorization: r.authorization ?? r.part.authorization,
        extra: r.extra,
        framing: r.framing,
        bytes: r.bytes,
      }),
    ),
  );

/** 501 Not Implemented is right for an unsupported transfer coding (RFC 9112 §6.1) and a historical status list (status list draft §8.4). */
const may501 = (r: Recipe, req: FuzzRequest) => unsupportedTransferCoding(req) || (/\/statuslists\/1/i.test(r.path) && !!r.query?.some(([n]) => n === 'time'));

describe('fuzz: every endpoint (issue #10)', () => {
  const fx = useFuzzFixture();

  /**
   * Failed logins are counted (login_failures) and, with the clock frozen, never age out: cleared
   * before each send, so both paths see the same count and the fixture's own sign-in still works.
   */
  const forgetFailedLogins = () => fx.target.app.deps.db('login_failures').delete();

  it(
    'never answers a 5xx or a stack trace, a refusal changes nothing stored, and both paths refuse alike',
    async () => {
      await fc.assert(
        fc.asyncProperty(recipe, async (r) => {
          await fx.world.heal();
          const req = build(fx.world, r);
          const { listener, koa, failures } = await sendBothWays(fx.target, req, { may501: may501(r, req), beforeEach: forgetFailedLogins });
          if (failures.length) throw new Error(report(req, { listener, koa }, failures));
        }),
        fuzzParameters(RUNS),
      );
    },
    fuzzTimeout(RUNS),
  );
});
