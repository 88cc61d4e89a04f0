// @ts-check
/**
 * A port for a server process about to be started on 127.0.0.1, for the tests' helpers
 * (test/helpers/processes.ts) and the bench (bench/procs.js) alike.
 */
import fs from 'node:fs';
import net from 'node:net';

/** Ports handed out in this process: never twice. */
const handedOut = new Set();

/**
 * A port free now, never handed out before in this process, and below the kernel's ephemeral range
 * (where `listen(0)` and outgoing connections take theirs). The server binds it only once started,
 * a second or more later; a port the kernel had chosen (`listen(0)`, then closed) could be chosen
 * again meanwhile. The server then fails to start, while its readiness probe is answered by the
 * other one: a bench smoke run (lanes starting servers side by side) once failed with a 401 for a
 * client just made in its server's database, which a Grantor on another's port would answer so.
 * @returns {Promise<number>}
 */
export async function freePort() {
  const below = ephemeralLow();
  for (let tries = 0; tries < 100; tries++) {
    const port = below - 1 - Math.floor(Math.random() * 10_000);
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port found below ${below}`);
}

/** The lowest port of the kernel's ephemeral range (Linux; elsewhere 32768, its default). */
function ephemeralLow() {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Math.max(12_000, low || 32_768);
  } catch {
    return 32_768;
  }
}

/**
 * Whether a server can listen on 127.0.0.1:`port` now (it listens, then closes).
 * @param {number} port
 * @returns {Promise<boolean>}
 */
function canListen(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
