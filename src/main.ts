/**
 * loadConfig → buildDeps → createApp → listen; SIGTERM/SIGINT: stop accepting, drain, close the
 * database. With WORKERS > 1 the primary process prepares the database and keys once, then forks
 * that many workers that share the port (node:cluster) and forwards signals to them.
 */
import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { createServers } from './app.js';
import { ConfigError, describeDatabase, loadConfig } from './config.js';
import { buildDeps } from './deps.js';
import { lowerHelperThreads } from './lib/thread-pool.js';

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.workers > 1 && cluster.isPrimary) return supervise(config.workers);
  const deps = await buildDeps(config);
  const { logger } = deps;
  const { main: server, ops } = createServers(deps);
  const port = await listen(server, config.port, config.host);
  const lowered = lowerHelperThreads(config.helperThreadNice);
  if (ops && config.ops) {
    const opsPort = await listen(ops, config.ops.port, config.ops.host);
    logger.info({ opsPort }, `operations (/metrics, /healthz, /readyz) on http://${config.ops.host}:${opsPort}`);
  }
  logger.info(
    {
      port,
      issuer: config.issuer,
      database: describeDatabase(config.database),
      keysDir: config.keysDir,
      signingKid: deps.keyRing.signingKey().kid,
      keyGenerated: deps.keyGenerated,
      helperThreads: { nice: config.helperThreadNice, lowered },
      keyEncryption: deps.keyEncryption,
    },
    `Grantor listening on http://${config.host}:${port} (issuer ${config.issuer})`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
    ops?.close();
    ops?.closeAllConnections();
    // Held long polls (src/ssf/poll.ts) answer now rather than at their timeout.
    deps.ssf.stop();
    server.close(async () => {
      await deps.close();
      logger.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => {
      logger.warn('requests still in flight after 10 s; exiting');
      process.exit(1);
    }, 10_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** Listens and resolves with the port (PORT=0 picks one). */
async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}

/** The primary of WORKERS > 1: migrate and make the first key once, fork, forward SIGTERM, wait. */
async function supervise(workers: number): Promise<void> {
  const prepared = await buildDeps(loadConfig());
  await prepared.close();
  let stopping = false;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    process.stderr.write(`grantor: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`);
    cluster.fork();
  });
  const stop = (signal: NodeJS.Signals) => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    setTimeout(() => process.exit(1), 15_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGTERM'));
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`grantor: ${err.message}\n`);
  } else {
    process.stderr.write(`grantor: failed to start: ${(err as Error).message}\n`);
  }
  process.exit(1);
});
