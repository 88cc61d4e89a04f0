/**
 * HTTP requests that fetch() will not make: no Content-Type at all, chunked bodies, conditional
 * requests without the `Cache-Control: no-cache` the Fetch standard adds to them, raw header bytes.
 */
import http from 'node:http';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json(): any;
}

export interface RawRequestInit {
  method?: string;
  headers?: Record<string, string | string[]>;
  /** Written in one piece (Content-Length set by the caller or by Node), or chunk by chunk (chunked). */
  body?: string | Buffer | Array<string | Buffer>;
}

export function rawRequest(baseUrl: string, path: string, init: RawRequestInit = {}): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method: init.method ?? 'GET', path, headers: init.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (Array.isArray(init.body)) {
      for (const chunk of init.body) req.write(chunk);
      req.end();
    } else {
      req.end(init.body);
    }
  });
}
