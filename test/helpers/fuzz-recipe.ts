/**
 * A generated request before its `$symbols` are resolved (see fuzz-world.ts): what fast-check
 * generates, shrinks and prints. build() turns it into bytes with the live values of the moment.
 */
import type { FuzzRequest } from './fuzz-http.js';
import { basic, encodeBody, formText, type BodyBytes, type Pair, type PairEncoding } from './fuzz-inputs.js';
import type { FuzzWorld } from './fuzz-world.js';

export interface Recipe {
  method: string;
  path: string;
  /** Query parameters, appended to the path after `?`. */
  query?: Pair[];
  body: { kind: 'form'; pairs: Pair[] } | { kind: 'text'; text: string } | { kind: 'none' };
  /** How each pair is encoded (cycled through); the separator between pairs; a leading BOM. */
  encodings: PairEncoding[];
  separator: string;
  bom: boolean;
  contentType: string | undefined;
  /** Authorization header values: `Basic $client`, `Bearer $token`, or literal. */
  authorization: string[];
  /** A Cookie header; `$symbols` in it are resolved. */
  cookie?: string;
  extra: Array<[string, string]>;
  framing: Pick<FuzzRequest, 'framing' | 'transferCoding'>;
  bytes: BodyBytes;
}

export function build(world: FuzzWorld, r: Recipe): FuzzRequest {
  const resolve = (v: string) => v.replace(/\$[A-Za-z]+(?:\.secret)?/g, (symbol) => (symbol.endsWith('.secret') ? world.creds(symbol.slice(0, -'.secret'.length))[1] : world.resolve(symbol)));
  const encode = (pairs: Pair[], bom: boolean) => formText(pairs.map(([n, v], i): [Pair, PairEncoding] => [[n, resolve(v)], r.encodings[i % r.encodings.length]]), r.separator, bom);
  const authorization = r.authorization.map((a) => {
    const basicOf = /^Basic (\$[A-Za-z]+)$/.exec(a);
    return basicOf ? basic(world.creds(basicOf[1])) : resolve(a);
  });
  const headers: Array<[string, string]> = [
    ...(r.contentType === undefined ? [] : [['Content-Type', r.contentType] as [string, string]]),
    ...authorization.map((a): [string, string] => ['Authorization', a]),
    ...(r.cookie === undefined ? [] : [['Cookie', resolve(r.cookie)] as [string, string]]),
    ...r.extra,
  ];
  const target = r.query ? `${resolve(r.path)}?${encode(r.query, false)}` : resolve(r.path);
  const text = r.body.kind === 'form' ? encode(r.body.pairs, r.bom) : r.body.kind === 'text' ? `${r.bom ? '\ufeff' : ''}${resolve(r.body.text)}` : '';
  const framing = r.body.kind === 'none' ? { framing: 'none' as const } : r.framing;
  return { method: r.method, target, headers, ...encodeBody(text, r.bytes), ...framing };
}
