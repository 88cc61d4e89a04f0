/** Starts the real compiled server and CLI (dist/, built by `npm test`) as child processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../free-port.js';

/** A loopback port for a server process about to start (test/free-port.js, which the bench shares). */
export { freePort };
export const ROOT = path.resolve('.');
const SERVER = path.join(ROOT, 'dist/src/main.js');
const CLI = path.join(ROOT, 'bin/grantor.js');

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `grantor` (the built server) as a process of its own; resolves once `listening` of its
 * processes (default 1; with WORKERS=n, n workers) said they listen. A SIGTERM sent before a worker
 * has started kills that worker before it could handle the signal.
 */
export async function startServerProcess(opts: { cwd: string; env?: Record<string, string>; listening?: number }): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [SERVER], {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  // 'close', not 'exit': the output is whole only once the pipes close (with WORKERS, the last
  // worker's lines can still be in the pipe when the primary has exited).
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 15000);
    const check = () => {
      if (out.split('Grantor listening').length - 1 >= (opts.listening ?? 1)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs a command to completion and returns its exit code and output. */
export function runProcess(args: string[], opts: { cwd: string; env?: Record<string, string>; input?: string }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: opts.cwd, env: { PATH: process.env.PATH ?? '', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(opts.input ?? '');
    // 'close', not 'exit': 'exit' can come before the last of stdout has been read, and a test
    // then sees the answer cut short (seen under load: an empty stdout from a CLI that printed).
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the `grantor` CLI. */
export function runCliProcess(args: string[], opts: { cwd: string; env?: Record<string, string>; input?: string }) {
  return runProcess([CLI, ...args], opts);
}
