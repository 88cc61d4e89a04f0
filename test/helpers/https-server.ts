/**
 * A loopback https server for outbound-fetch tests, with the throwaway certificate test/run-jest.js
 * makes for each run (its CA is trusted through NODE_EXTRA_CA_CERTS). Reach it through
 * OUTBOUND_ALLOWED_HOSTS=`localhost:PORT`: loopback is otherwise refused.
 */
import fs from 'node:fs';
import https from 'node:https';
import type http from 'node:http';

export interface TestHttpsServer {
  /** https://localhost:PORT */
  origin: string;
  /** `localhost:PORT`, for the allow-list. */
  host: string;
  port: number;
  /** Requests seen, by path. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

export async function startHttpsServer(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<TestHttpsServer> {
  const cert = process.env.TEST_TLS_CERT;
  const key = process.env.TEST_TLS_KEY;
  if (!cert || !key) throw new Error('TEST_TLS_CERT / TEST_TLS_KEY unset: run the tests through test/run-jest.js');
  const hits = new Map<string, number>();
  const sockets = new Set<import('node:net').Socket>();
  const server = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    handler(req, res);
  });
  server.on('secureConnection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    origin: `https://localhost:${port}`,
    host: `localhost:${port}`,
    port,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
