/**
 * Tools for hostile-input tests: one assertion for an RFC 6749 §5.2 / RFC 6750 §3 error answer,
 * row counts to prove nothing was stored, and JWT forgery by hand (jose refuses to build most of
 * what an attacker sends).
 */
import { createHmac, webcrypto } from 'node:crypto';
import type { CryptoKey } from 'jose';
import type { TestApp } from './test-app.js';
import type { RawResponse } from './raw-http.js';

/** Markers of a leaked stack trace, file path or database error. */
const LEAK = /\n\s+at |node_modules|\/work\/|\.ts:\d+|SQLITE|sqlite3|knex|TypeError|SyntaxError|ReferenceError/;

type AnyResponse = Pick<Response, 'status' | 'headers' | 'text'> | RawResponse;

export interface ErrorAnswer {
  status: number;
  body: { error: string; error_description: string };
  text: string;
  header(name: string): string | null;
}

/** Reads any response (fetch or raw) into status, text and a header getter. */
export async function readAnswer(res: AnyResponse): Promise<{ status: number; text: string; header(name: string): string | null }> {
  if ('json' in res && typeof (res as RawResponse).text === 'string') {
    const raw = res as RawResponse;
    return {
      status: raw.status,
      text: raw.text,
      header: (name) => {
        const v = raw.headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : String(v);
      },
    };
  }
  const f = res as Response;
  return { status: f.status, text: await f.text(), header: (name) => f.headers.get(name) };
}

/**
 * Asserts an error answer: the exact status, `Content-Type: application/json`, a body of exactly
 * `{error, error_description}` with the exact code, and nothing that looks like a stack trace.
 */
export async function expectError(res: AnyResponse, status: number, code: string): Promise<ErrorAnswer> {
  const answer = await readAnswer(res);
  const context = `${answer.status} ${answer.text.slice(0, 300)}`;
  expect({ status: answer.status, context }).toEqual({ status, context });
  expect(answer.header('content-type')).toMatch(/^application\/json(;|$)/);
  const body = JSON.parse(answer.text);
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
  expect(body.error).toBe(code);
  expect(typeof body.error_description).toBe('string');
  expect(body.error_description.length).toBeGreaterThan(0);
  expect(answer.text).not.toMatch(LEAK);
  return { ...answer, body };
}

/** Row counts of every table an attack could write to. */
export async function counts(app: TestApp): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['clients', 'resources', 'grants']) {
    const [{ n }] = await app.deps.db(table).count({ n: '*' });
    out[table] = Number(n);
  }
  return out;
}

// ---- JWTs by hand ----

export const b64u = (input: string | Buffer | Uint8Array | object): string =>
  Buffer.from(typeof input === 'string' || input instanceof Uint8Array ? input : JSON.stringify(input)).toString('base64url');

/** header.payload, both JSON-encoded (or taken as raw strings). */
export const signingInput = (header: object | string, payload: object | string): string =>
  `${b64u(typeof header === 'string' ? header : JSON.stringify(header))}.${b64u(typeof payload === 'string' ? payload : JSON.stringify(payload))}`;

/** An `alg: none` style token: no signature at all. */
export const unsignedJwt = (header: object, payload: object, signature = ''): string => `${signingInput(header, payload)}.${signature}`;

/** HS256 with an arbitrary secret (e.g. the server's public key), the classic key-confusion forgery. */
export function hs256Jwt(header: object, payload: object, secret: string | Buffer): string {
  const input = signingInput(header, payload);
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** RS256 over whatever header and payload are given, with any RSASSA-PKCS1-v1_5 SHA-256 private key. */
export async function rs256Jwt(privateKey: CryptoKey, header: object | string, payload: object | string): Promise<string> {
  const input = signingInput(header, payload);
  const signature = await webcrypto.subtle.sign('RSASSA-PKCS1-v1_5', privateKey as unknown as webcrypto.CryptoKey, Buffer.from(input));
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

/** Replaces the payload of a signed JWT, keeping its header and signature. */
export function tamper(jwt: string, change: (claims: Record<string, unknown>) => Record<string, unknown>): string {
  const [h, p, s] = jwt.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  return `${h}.${b64u(change(claims))}.${s}`;
}
