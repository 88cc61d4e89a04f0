/**
 * Fuzzing the form endpoints — token (RFC 6749 §3.2), revocation (RFC 7009), introspection
 * (RFC 7662) — with generated requests, the same bytes sent to the server's own listener (where
 * the token endpoint's lean path answers first) and to koa alone. Each request starts from a
 * well-formed one (real credentials, real tokens, so it gets deep) and is then bent: parameters
 * dropped, repeated, renamed, revalued, encoded well or badly; content types and charsets;
 * Authorization headers right, wrong, odd or doubled; framing; compression; odd paths and methods.
 *
 * Issue #10: "make the class hard to reintroduce". Properties, on both paths:
 * - never a 5xx (but 501 for an unsupported transfer coding, RFC 9112 §6.1), never a stack trace;
 * - never a stored change from a refused request;
 * - the lean path and koa answer the same bytes alike.
 * CI runs a few hundred cases with a fixed seed; `npm run fuzz` runs many more (FUZZ_RUNS).
 */
import fc from 'fast-check';
import { build, type Recipe } from '../helpers/fuzz-recipe.js';
import {
  anyValue, applyEdits, authorizationValue, bodyBytes, edit, extraHeaders, formContentType, framing, method,
  pairEncoding, pathVariant, poolOrAny, separator, unsupportedTransferCoding, type Edit, type Pair, type PairEncoding,
} from '../helpers/fuzz-inputs.js';
import { comparable, fuzzParameters, fuzzTimeout, report, sendBothWays } from '../helpers/fuzz-target.js';
import { API, CLIENT_SYMBOLS, OTHER_API, REDIRECT, TOKEN_SYMBOLS } from '../helpers/fuzz-world.js';
import { useFuzzFixture } from '../helpers/fuzz-fixture.js';

const RUNS = 250;
const ENDPOINTS = ['/oauth/token', '/oauth/revoke', '/oauth/introspect'] as const;

const scopes = poolOrAny(['photos:read', 'photos:write', 'photos:read photos:write', 'photos:read  photos:write', 'report', 'admin', 'introspect', 'openid']);
const resources = poolOrAny([API, OTHER_API, `${API}/`, `${API}#x`, 'https://unknown.example.com', 'urn:x', '/relative']);
const tokens = poolOrAny([...TOKEN_SYMBOLS]);
const optional = (name: string, values: fc.Arbitrary<string>) => fc.option(values.map((v): Pair => [name, v]), { nil: undefined });
const present = (pairs: Array<Pair | undefined>) => pairs.filter((p): p is Pair => p !== undefined);

/** Well-formed starting points: each endpoint's real requests, with real credentials. */
const start: fc.Arbitrary<{ endpoint: (typeof ENDPOINTS)[number]; pairs: Pair[]; authorization: string[] }> = fc.oneof(
  // client_credentials with Basic, and with the secret in the body (RFC 6749 §4.4, §2.3.1)
  fc.tuple(optional('scope', scopes), optional('resource', resources), fc.constantFrom('$cc', '$cc', '$cc', '$disabled', '$admin', '$rs', '$spa')).map(([scope, resource, client]) => ({
    endpoint: '/oauth/token' as const,
    pairs: present([['grant_type', 'client_credentials'], scope, resource]),
    authorization: [`Basic ${client}`],
  })),
  fc.tuple(optional('scope', scopes), optional('resource', resources)).map(([scope, resource]) => ({
    endpoint: '/oauth/token' as const,
    pairs: present([['grant_type', 'client_credentials'], ['client_id', '$cc'], ['client_secret', '$cc.secret'], scope, resource]),
    authorization: [],
  })),
  // refresh_token by the browser app (RFC 6749 §6)
  fc.tuple(fc.oneof(fc.constant('$aliceRefresh'), tokens), optional('scope', scopes), optional('resource', resources)).map(([token, scope, resource]) => ({
    endpoint: '/oauth/token' as const,
    pairs: present([['grant_type', 'refresh_token'], ['refresh_token', token], ['client_id', '$spa'], scope, resource]),
    authorization: [],
  })),
  // authorization_code with a code that is not one (a real code is single use: its replay revokes, by design)
  fc.tuple(anyValue, fc.stringMatching(/^[A-Za-z0-9._~-]{43,128}$/)).map(([code, verifier]) => ({
    endpoint: '/oauth/token' as const,
    pairs: [['grant_type', 'authorization_code'], ['code', code], ['redirect_uri', REDIRECT], ['client_id', '$spa'], ['code_verifier', verifier]] as Pair[],
    authorization: [],
  })),
  // RFC 7009 revocation by the token's own client, or another
  fc.tuple(tokens, optional('token_type_hint', poolOrAny(['access_token', 'refresh_token', 'id_token'])), fc.constantFrom('$cc', '$spa', '$rs')).map(([token, hint, client]) => ({
    endpoint: '/oauth/revoke' as const,
    pairs: present([['token', token], hint, ...(client === '$spa' ? [['client_id', '$spa'] as Pair] : [])]),
    authorization: client === '$spa' ? [] : [`Basic ${client}`],
  })),
  // RFC 7662 introspection by the resource server, or by a client about its own tokens
  fc.tuple(tokens, optional('token_type_hint', poolOrAny(['access_token', 'refresh_token'])), fc.constantFrom('$rs', '$cc', '$admin')).map(([token, hint, client]) => ({
    endpoint: '/oauth/introspect' as const,
    pairs: present([['token', token], hint]),
    authorization: [`Basic ${client}`],
  })),
);

/** What happens to the Authorization header: kept, dropped, replaced, or a second one added. */
type AuthChange = { kind: 'keep' } | { kind: 'drop' } | { kind: 'replace' | 'add'; value: string };
const authValue = fc.oneof(
  fc.constantFrom(...CLIENT_SYMBOLS).map((c) => `Basic ${c}`),
  fc.constantFrom(...TOKEN_SYMBOLS).map((t) => `Bearer ${t}`),
  authorizationValue([['x', 'y']], ['garbage']),
);
const authChange: fc.Arbitrary<AuthChange> = fc.oneof(
  { weight: 8, arbitrary: fc.constant({ kind: 'keep' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'drop' as const }) },
  { weight: 2, arbitrary: authValue.map((value) => ({ kind: 'replace' as const, value })) },
  { weight: 1, arbitrary: authValue.map((value) => ({ kind: 'add' as const, value })) },
);

const recipe: fc.Arbitrary<Recipe> = fc
  .record({
    start,
    edits: fc.oneof({ weight: 3, arbitrary: fc.constant<Edit[]>([]) }, { weight: 2, arbitrary: fc.array(edit, { minLength: 1, maxLength: 3 }) }),
    encodings: fc.oneof({ weight: 5, arbitrary: fc.constant<PairEncoding[]>(['www']) }, { weight: 1, arbitrary: fc.array(pairEncoding, { minLength: 1, maxLength: 8 }) }),
    separator,
    bom: fc.oneof({ weight: 15, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    contentType: formContentType,
    auth: authChange,
    extra: fc.oneof({ weight: 2, arbitrary: fc.constant<Array<[string, string]>>([]) }, { weight: 1, arbitrary: extraHeaders }),
    framing,
    bytes: bodyBytes,
    otherEndpoint: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...ENDPOINTS) }),
    method: method('POST'),
  })
  .chain((r) =>
    pathVariant(r.otherEndpoint ?? r.start.endpoint).map(
      (path): Recipe => ({
        path,
        method: r.method,
        body: { kind: 'form', pairs: applyEdits(r.start.pairs, r.edits) },
        encodings: r.encodings,
        separator: r.separator,
        bom: r.bom,
        contentType: r.contentType,
        authorization:
          r.auth.kind === 'keep' ? r.start.authorization :
          r.auth.kind === 'drop' ? [] :
          r.auth.kind === 'replace' ? [r.auth.value] : [...r.start.authorization, r.auth.value],
        extra: r.extra,
        framing: r.framing,
        bytes: r.bytes,
      }),
    ),
  );

describe('fuzz: the token, revocation and introspection endpoints (issue #10)', () => {
  const fx = useFuzzFixture();

  it(
    'never answers a 5xx or a stack trace, and a refused request changes nothing stored, on either path',
    async () => {
      await fc.assert(
        fc.asyncProperty(recipe, async (r) => {
          await fx.world.heal();
          const req = build(fx.world, r);
          const { listener, koa, failures } = await sendBothWays(fx.target, req, { may501: unsupportedTransferCoding(req) });
          if (failures.length) throw new Error(report(req, { listener, koa }, failures));
        }),
        fuzzParameters(RUNS),
      );
    },
    fuzzTimeout(RUNS),
  );

  it(
    'answers the same bytes alike through the lean path and through koa',
    async () => {
      await fc.assert(
        fc.asyncProperty(recipe, async (r) => {
          await fx.world.heal();
          const req = build(fx.world, r);
          const { listener, koa } = await fx.target.both(req);
          const [a, b] = [comparable(listener), comparable(koa)];
          if (JSON.stringify(a) !== JSON.stringify(b)) {
            throw new Error(report(req, { listener, koa }, ['the two paths answered differently', `listener: ${JSON.stringify(a)}`, `koa:      ${JSON.stringify(b)}`]));
          }
        }),
        fuzzParameters(RUNS),
      );
    },
    fuzzTimeout(RUNS),
  );
});

