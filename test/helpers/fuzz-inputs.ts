/**
 * fast-check arbitraries for hostile HTTP input, shared by the fuzz properties (test/fuzz/):
 * values (control characters, unicode, injection strings, very long ones), form bodies encoded well
 * and badly, content types with charsets, Authorization headers, extra headers, framing, and odd
 * spellings of paths. Endpoint-specific requests are built from these in each test file.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { FuzzRequest } from './fuzz-http.js';

export const FORM = 'application/x-www-form-urlencoded';

/** Values an attacker likes. No word here may look like a leak marker (see fuzz-target.ts LEAK). */
const NASTY = [
  '', ' ', '\u0000', 'a\u0000b', '\r\n', '\t', '\u0007', '\u001b[31m', '\u007f', '\u0085', '\u2028', '\u202e', '\ufeff', '\ud800', '\udfff',
  'é', 'ü', '日本', '🔑', 'Ａ', '%', '%%', '%00', '%ZZ', '%e9', '%C3', '+', '&', '=', ';', '"', "'", '\\', '/', '..', '../../etc/passwd',
  "' OR '1'='1", '1; DROP TABLE clients; --', '${jndi:ldap://127.0.0.1/a}', '{{7*7}}', '<script>alert(1)</script>', '__proto__', 'constructor',
  'null', 'undefined', 'true', '[]', '{}', '-1', '0', '1e309', '9'.repeat(30), 'NaN',
];

/** A value of any kind: ordinary, unicode, binary-ish, hostile, or very long (past any field limit). */
export const anyValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 16 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('a', 'é', '%41', '\u0000'), fc.integer({ min: 200, max: 5000 })).map(([s, n]) => s.repeat(n)) },
);

/** Mostly a value from `pool`, sometimes anything. */
export function poolOrAny(pool: readonly string[]): fc.Arbitrary<string> {
  return pool.length ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: anyValue }) : anyValue;
}

/** A value from `arb` one time in `oneIn` (by default 6), else undefined: for overriding what a request would normally carry. */
export function sometimes<T>(arb: fc.Arbitrary<T>, oneIn = 6): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
}

// ---- forms ----

export type Pair = [name: string, value: string];

/** How a pair is written: as a browser would, raw (unencoded), every byte percent-encoded, or with broken percent-encoding. */
export type PairEncoding = 'www' | 'raw' | 'percent' | 'broken';

function encodePair([name, value]: Pair, how: PairEncoding): string {
  switch (how) {
    case 'www':
      return new URLSearchParams([[name, value]]).toString();
    case 'raw':
      return `${name}=${value}`;
    case 'percent': {
      const all = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
      return `${all(name)}=${all(value)}`;
    }
    case 'broken':
      return `${new URLSearchParams([[name, value]])}%${value.length % 2 ? 'G' : 'e9'}`;
  }
}

/** A form's text from its pairs, each encoded its own way, with odd separators now and then. */
export const formText = (pairs: Array<[Pair, PairEncoding]>, separator: string, bom: boolean) =>
  `${bom ? '\ufeff' : ''}${pairs.map(([pair, how]) => encodePair(pair, how)).join(separator)}`;

export const pairEncoding: fc.Arbitrary<PairEncoding> = fc.constantFrom<PairEncoding>('www', 'www', 'www', 'www', 'raw', 'percent', 'broken');
export const separator = fc.constantFrom('&', '&', '&', '&', '&&', ';', '&amp;');

/**
 * Edits of a list of pairs: drop one, repeat one, rename one (case, spacing, brackets), replace a
 * value, add an unknown parameter. Applied in order to a well-formed starting form.
 */
export type Edit = { kind: 'drop' | 'repeat' | 'rename' | 'revalue' | 'add'; at: number; name: string; value: string };

export const edit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom<Edit['kind']>('drop', 'repeat', 'rename', 'revalue', 'add'),
  at: fc.nat(),
  name: fc.oneof(fc.constantFrom('GRANT_TYPE', 'grant_type ', ' scope', 'scope[]', 'scope[0]', 'client_id.x', '__proto__', 'constructor', '', 'a'.repeat(300), 'unknown', 'token_type_hint', 'resource', 'audience', 'state'), fc.string({ maxLength: 8 })),
  value: anyValue,
});

export function applyEdits(pairs: Pair[], edits: Edit[]): Pair[] {
  const out = [...pairs];
  for (const e of edits) {
    const i = out.length ? e.at % out.length : 0;
    if (e.kind === 'drop' && out.length) out.splice(i, 1);
    else if (e.kind === 'repeat' && out.length) out.splice(i, 0, [out[i][0], e.value.length % 2 ? out[i][1] : e.value]);
    else if (e.kind === 'rename' && out.length) out[i] = [e.name, out[i][1]];
    else if (e.kind === 'revalue' && out.length) out[i] = [out[i][0], e.value];
    else out.splice(i, 0, [e.name, e.value]);
  }
  return out;
}

// ---- headers ----

export const formContentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 12, arbitrary: fc.constant(FORM) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      `${FORM}; charset=utf-8`, `${FORM}; charset=UTF-8`, `${FORM};charset="utf-8"`, `${FORM}; charset=iso-8859-1`, `${FORM}; charset=utf-16`,
      `${FORM}; charset=`, `${FORM}; boundary=x`, `${FORM} `, ` ${FORM}`, 'APPLICATION/X-WWW-FORM-URLENCODED', `${FORM}, application/json`,
      'application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencodedx', '', '*/*', 'application/*',
    ),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

/** Credentials to put in a Basic header: `[id, secret]`. */
export type Creds = readonly [string, string];

const base64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** application/x-www-form-urlencoded encoding of one value (lone surrogates become U+FFFD). */
const formEncode = (s: string) => new URLSearchParams([['', s]]).toString().slice(1);

/** RFC 6749 §2.3.1: Basic with the form-encoded id and secret. */
export const basic = ([id, secret]: Creds) => `Basic ${base64(`${formEncode(id)}:${formEncode(secret)}`)}`;

/** Authorization values: Basic with given credentials (right, wrong, oddly spelled), Bearer tokens, garbage. */
export function authorizationValue(creds: readonly Creds[], tokens: readonly string[]): fc.Arbitrary<string> {
  const someCreds = creds.length ? fc.constantFrom(...creds) : fc.constant<Creds>(['x', 'y']);
  return fc.oneof(
    { weight: 6, arbitrary: someCreds.map(basic) },
    { weight: 2, arbitrary: fc.tuple(someCreds, anyValue).map(([[id], secret]) => basic([id, secret])) },
    { weight: 1, arbitrary: someCreds.map(([id, secret]) => `Basic ${base64(`${id}:${secret}`)}`) },
    { weight: 1, arbitrary: someCreds.map((c) => `basic ${basic(c).slice('Basic '.length)}`) },
    { weight: 1, arbitrary: fc.tuple(anyValue, anyValue).map(([a, b]) => `Basic ${base64(`${a}:${b}`)}`) },
    { weight: 1, arbitrary: fc.constantFrom('Basic', 'Basic ', 'Basic ===', 'Basic !!!!', `Basic ${base64('no-colon')}`, `Basic ${base64(':')}`, `Basic ${base64('%zz:%zz')}`, 'Digest x', 'Bearer', 'Negotiate YQ==') },
    { weight: 3, arbitrary: (tokens.length ? fc.constantFrom(...tokens) : anyValue).map((t) => `Bearer ${t}`) },
    { weight: 1, arbitrary: (tokens.length ? fc.constantFrom(...tokens) : anyValue).map((t) => `bearer  ${t}`) },
    { weight: 1, arbitrary: anyValue.map((t) => `Bearer ${t}`) },
  );
}

/** Header lines beside the ones that matter to an endpoint: CORS, encodings, proxies, caching, anything. */
export const extraHeaders: fc.Arbitrary<Array<[string, string]>> = fc.array(
  fc.oneof(
    fc.constantFrom<[string, string]>(
      ['Origin', 'https://app.example.com'], ['Origin', 'https://evil.example'], ['Origin', 'null'],
      ['Content-Encoding', 'gzip'], ['Content-Encoding', 'identity'], ['Content-Encoding', 'br'], ['Content-Encoding', 'gzip, gzip'],
      ['X-Forwarded-For', '203.0.113.9'], ['X-Forwarded-For', 'garbage, 1.2.3.4'], ['X-Forwarded-Proto', 'https'],
      ['Accept', 'application/json'], ['Accept', 'text/html'], ['Accept', '*/*;q=0'], ['Accept-Encoding', 'gzip'], ['Accept-Encoding', 'identity;q=0'],
      ['If-None-Match', '*'], ['If-None-Match', '"x"'], ['If-Modified-Since', 'Thu, 01 Jan 1970 00:00:00 GMT'],
      ['X-Request-Id', 'trace-42'], ['X-Request-Id', '<script>'], ['Expect', '100-continue'], ['Cookie', 'a=b'], ['Cookie', '=; ;;'],
      ['Access-Control-Request-Method', 'POST'], ['Connection', 'close'], ['Range', 'bytes=0-1'], ['Content-Language', 'fr'],
      // RFC 9449 proofs that are not (a real one is single use, so it could not be sent both ways alike).
      ['DPoP', 'not-a-proof'], ['DPoP', 'e30.e30.e30'], ['DPoP', 'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIn19.e30.AAAA'], ['DPoP', 'a.b.c, d.e.f'],
    ),
    fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/), fc.string({ maxLength: 24 })),
  ),
  { maxLength: 3 },
);

// ---- framing and bodies ----

/** How a body travels: Content-Length (the usual), chunked, or chunked under another transfer coding first. */
export const framing: fc.Arbitrary<Pick<FuzzRequest, 'framing' | 'transferCoding'>> = fc.oneof(
  { weight: 8, arbitrary: fc.constant({ framing: 'length' as const }) },
  { weight: 2, arbitrary: fc.constant({ framing: 'chunked' as const, transferCoding: 'chunked' }) },
  { weight: 1, arbitrary: fc.constantFrom('gzip, chunked', 'identity, chunked', 'Chunked', 'chunked, chunked', 'x-custom, chunked').map((te) => ({ framing: 'chunked' as const, transferCoding: te })) },
);

/** Whether a transfer coding other than chunked is asked for: RFC 9112 §6.1 lets a server answer 501 to it. */
export const unsupportedTransferCoding = (req: FuzzRequest) => req.framing === 'chunked' && !/^\s*chunked\s*$/i.test(req.transferCoding ?? 'chunked');

/** The body as sent: UTF-8, ISO-8859-1 bytes, or gzip-compressed (bytes carried as latin1 characters). */
export type BodyBytes = 'utf8' | 'latin1' | 'gzip';
export const bodyBytes: fc.Arbitrary<BodyBytes> = fc.constantFrom<BodyBytes>('utf8', 'utf8', 'utf8', 'utf8', 'utf8', 'latin1', 'gzip');

export function encodeBody(text: string, how: BodyBytes): Pick<FuzzRequest, 'body' | 'bodyCharset'> {
  if (how === 'gzip') return { body: gzipSync(Buffer.from(text, 'utf8')).toString('latin1'), bodyCharset: 'latin1' };
  return { body: text, bodyCharset: how };
}

// ---- paths ----

/** Other spellings of `path`: case, slashes, dot segments, encodings, queries, fragments. */
export function pathVariant(path: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant(path) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        path.toUpperCase(), `${path}/`, `/${path}`, path.replace(/\/([^/]*)$/, '//$1'), path.replace(/\/([^/]*)$/, '/./$1'), `${path}/..${path}`,
        path.replace(/[a-z]$/, (c) => `%${c.charCodeAt(0).toString(16)}`), `${path}%20`, `${path};x=1`, `${path}?`, `${path}?x=1`, `${path}?grant_type=client_credentials`,
        `${path}#`, `${path}?a=%ZZ`, `${path}\u00e9`, `${path}%00`, `http://127.0.0.1${path}`, `*`,
      ),
    },
  );
}

/** Methods node's parser takes, in any mix, mostly the expected one. */
export function method(expected: string): fc.Arbitrary<string> {
  return fc.oneof({ weight: 10, arbitrary: fc.constant(expected) }, { weight: 2, arbitrary: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'post') });
}
