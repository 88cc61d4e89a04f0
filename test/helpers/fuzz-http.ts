/**
 * HTTP at the byte level for the fuzz harness (test/fuzz/): a generated request is turned into
 * exact bytes once, written to a socket as they are (no client library fixing them up), and the
 * first answer is read back by its own framing, so the same bytes can be sent to two servers and
 * the two answers compared. See test/helpers/fuzz-target.ts for the servers.
 */
import net from 'node:net';

/** A request as the fuzzer generates it; toBytes() makes the wire form. */
export interface FuzzRequest {
  method: string;
  /** The request target exactly as sent: path and query, odd ones included. */
  target: string;
  /** Header lines in order; a name may repeat. Host is added first unless one is given. */
  headers: Array<[string, string]>;
  body: string;
  /** How the body's characters become bytes (latin1: one byte per char, e.g. an ISO-8859-1 form). */
  bodyCharset: 'utf8' | 'latin1';
  /**
   * How the body is framed (RFC 9112 §6): `length` adds Content-Length, `chunked` adds
   * `Transfer-Encoding: <transferCoding>` and chunked framing, `none` sends no body and no framing.
   */
  framing: 'length' | 'chunked' | 'none';
  /** The Transfer-Encoding value with `chunked` framing (`chunked`, `gzip, chunked`, …). */
  transferCoding?: string;
}

export interface FuzzAnswer {
  status: number;
  /** Header names lower-cased, in order; a name may repeat. */
  headers: Array<[string, string]>;
  body: Buffer;
}

/** The request's bytes, identical for every server it is sent to. */
export function toBytes(req: FuzzRequest, host: string): Buffer {
  const lines = [`${req.method} ${req.target} HTTP/1.1`];
  if (!req.headers.some(([name]) => name.toLowerCase() === 'host')) lines.push(`Host: ${host}`);
  for (const [name, value] of req.headers) lines.push(`${name}: ${value}`);
  const body = Buffer.from(req.body, req.bodyCharset);
  let payload = Buffer.alloc(0);
  if (req.framing === 'length') {
    lines.push(`Content-Length: ${body.length}`);
    payload = body;
  } else if (req.framing === 'chunked') {
    lines.push(`Transfer-Encoding: ${req.transferCoding ?? 'chunked'}`);
    // Two chunks when there is something to split, so a reader must join them.
    const half = body.length >> 1;
    const chunks = [body.subarray(0, half), body.subarray(half)].filter((c) => c.length > 0);
    payload = Buffer.concat([...chunks.flatMap((c) => [Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')]), Buffer.from('0\r\n\r\n')]);
  }
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
}

/** The request as one printable line (what a failure report shows: paste it into `printf '%b' … | nc`). */
export function describeRequest(req: FuzzRequest): string {
  return JSON.stringify(toBytes(req, '127.0.0.1').toString('latin1'));
}

/** A guard against a server that never answers; not a speed assertion (answers take milliseconds). */
const NO_ANSWER_MS = 15_000;

/**
 * Writes `bytes` to 127.0.0.1:`port` and reads the first final answer (1xx interim answers, e.g.
 * 100 Continue, are skipped). The answer ends where its own framing says: Content-Length,
 * chunked, or the connection closing; a HEAD answer, 204 and 304 have no body.
 */
export function sendBytes(port: number, bytes: Buffer, method: string): Promise<FuzzAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let closed = false;
    const timer = setTimeout(() => finish(new Error(`no answer within ${NO_ANSWER_MS} ms`)), NO_ANSWER_MS);
    function finish(result: FuzzAnswer | Error) {
      clearTimeout(timer);
      socket.destroy();
      if (result instanceof Error) reject(result);
      else resolve(result);
    }
    function tryParse() {
      let parsed: FuzzAnswer | 'more' | Error;
      try {
        parsed = parseAnswer(received, method, closed);
      } catch (err) {
        parsed = err as Error;
      }
      if (parsed !== 'more') finish(parsed);
      else if (closed) finish(new Error(`connection closed before a whole answer: ${JSON.stringify(received.toString('latin1').slice(0, 300))}`));
    }
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      tryParse();
    });
    socket.on('end', () => {
      closed = true;
      tryParse();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A server may reset the connection after answering a request it refused (e.g. one it cannot frame).
      closed = true;
      if (received.length > 0) tryParse();
      else finish(err);
    });
    socket.write(bytes);
  });
}

/** One final answer from the start of `data`, or 'more' when it has not all arrived yet. */
function parseAnswer(data: Buffer, method: string, closed: boolean): FuzzAnswer | 'more' {
  let offset = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', offset);
    if (end < 0) return 'more';
    const head = data.subarray(offset, end).toString('latin1').split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
    if (!status) throw new Error(`not an HTTP answer: ${JSON.stringify(head[0])}`);
    const code = Number(status[1]);
    const headers = head.slice(1).map((line): [string, string] => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    });
    offset = end + 4;
    if (code >= 100 && code < 200) continue;
    const header = (name: string) => headers.find(([n]) => n === name)?.[1];
    if (method === 'HEAD' || code === 204 || code === 304) return { status: code, headers, body: Buffer.alloc(0) };
    if (/chunked/i.test(header('transfer-encoding') ?? '')) {
      const body = dechunk(data.subarray(offset));
      return body === 'more' ? 'more' : { status: code, headers, body };
    }
    const length = header('content-length');
    if (length !== undefined) {
      const n = Number(length);
      if (data.length - offset < n) return 'more';
      return { status: code, headers, body: data.subarray(offset, offset + n) };
    }
    return closed ? { status: code, headers, body: data.subarray(offset) } : 'more';
  }
}

function dechunk(data: Buffer): Buffer | 'more' {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) return 'more';
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (Number.isNaN(size)) throw new Error('bad chunk size in an answer');
    if (size === 0) return data.indexOf('\r\n', eol + 2) < 0 ? 'more' : Buffer.concat(parts);
    if (data.length < eol + 2 + size + 2) return 'more';
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}
