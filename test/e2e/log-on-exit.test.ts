import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runProcess, startServerProcess, ROOT } from '../helpers/processes.js';

/**
 * Issue #14 item 1: the log is written to stdout in batches (lib/batched-output.ts) so that the
 * access log costs issuance less than 5 %. Batching must not lose a line: whatever was logged
 * before the process ends — by process.exit (the SIGTERM path), an uncaught exception, or in a
 * WORKERS=2 worker — is on stdout afterwards.
 */
describe('the batched log loses no line on exit', () => {
  let cwd: string;
  beforeAll(() => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'grantor-log-exit-'));
  });
  afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

  /** A process that logs `lines` lines through Grantor's logger (built, dist/), then ends as told. */
  async function logThenEnd(lines: number, end: string) {
    const script = path.join(cwd, `log-then-end-${Math.random().toString(36).slice(2)}.mjs`);
    fs.writeFileSync(
      script,
      `import { createLogger } from ${JSON.stringify(path.join(ROOT, 'dist/src/deps.js'))};\n` +
        `const logger = createLogger('info');\n` +
        `for (let i = 0; i < ${lines}; i++) logger.info({ i }, 'line');\n` +
        `${end}\n`,
    );
    const run = await runProcess([script], { cwd });
    const logged = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { i: number; msg: string });
    return { code: run.code, stderr: run.stderr, indexes: logged.map((l) => l.i) };
  }
  const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);

  it('writes every line logged before an uncaught exception (fewer lines than one batch, and many batches)', async () => {
    for (const n of [3, 2000]) {
      const run = await logThenEnd(n, `throw new Error('crash');`);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('crash');
      expect(run.indexes).toEqual(upTo(n));
    }
  });

  it('writes every line logged before an uncaught exception thrown later, from a timer', async () => {
    const run = await logThenEnd(5, `setTimeout(() => { throw new Error('crash later'); }, 1);`);
    expect(run.code).toBe(1);
    expect(run.indexes).toEqual(upTo(5));
  });

  it('writes every line logged before process.exit', async () => {
    for (const n of [1, 2000]) {
      const run = await logThenEnd(n, 'process.exit(3);');
      expect(run.code).toBe(3);
      expect(run.indexes).toEqual(upTo(n));
    }
  });

  it('writes a quiet process\'s lines without waiting for a full batch or the exit', async () => {
    const run = await logThenEnd(2, `await new Promise((r) => setTimeout(r, 1000)); process.kill(process.pid, 'SIGKILL');`);
    expect(run.indexes).toEqual(upTo(2));
  });

  it('does not hang on exit when nobody reads stdout any more (EPIPE)', async () => {
    const script = path.join(cwd, 'closed-stdout.mjs');
    fs.writeFileSync(script, `import { createLogger } from ${JSON.stringify(path.join(ROOT, 'dist/src/deps.js'))};\nconst logger = createLogger('info');\nfor (let i = 0; i < 5000; i++) logger.info({ i }, 'line');\nprocess.exit(4);\n`);
    // `head -c 1` reads one byte and closes the pipe; the writer must then give up, not spin.
    const run = await runProcess(['-e', `const { execSync } = require('node:child_process'); try { execSync(${JSON.stringify(`"${process.execPath}" ${script} | head -c 1 > /dev/null`)}, { shell: '/bin/bash', timeout: 10000 }); } catch (e) { process.exit(e.signal ? 9 : 0); }`], { cwd });
    expect(run.code).toBe(0);
  });

  it('keeps working when nobody reads stdout any more: a broken stdout ends the logging, not the process', async () => {
    const script = path.join(cwd, 'stdout-closed-while-running.mjs');
    // Logs, lets `head -c 1` close the pipe, logs on for a while (EPIPE in the writer thread), then ends
    // by itself with its own exit code.
    fs.writeFileSync(
      script,
      `import { createLogger } from ${JSON.stringify(path.join(ROOT, 'dist/src/deps.js'))};\n` +
        `const logger = createLogger('info');\n` +
        `for (let round = 0; round < 20; round++) { for (let i = 0; i < 500; i++) logger.info({ i }, 'line'); await new Promise((r) => setTimeout(r, 50)); }\n` +
        `process.exit(5);\n`,
    );
    const run = await runProcess(['-e', `const { spawnSync } = require('node:child_process'); const r = spawnSync('/bin/bash', ['-c', ${JSON.stringify(`"${process.execPath}" ${script} 2>&1 | head -c 1 > /dev/null; echo "\${PIPESTATUS[0]}"`)}], { encoding: 'utf8', timeout: 20000 }); process.stdout.write(r.stdout);`], { cwd });
    // The exit status is the script's own (5), not a crash's (1) nor a signal's.
    expect(run.stdout.trim()).toBe('5');
  });

  it.each([['1 process', {}], ['WORKERS=2', { WORKERS: '2' }]])('keeps every access-log line of a server stopped by SIGTERM (%s)', async (_label, env: Record<string, string>) => {
    const server = await startServerProcess({
      cwd,
      env: { ...env, DATABASE_URL: `sqlite:${path.join(cwd, `g-${Object.keys(env).length}.sqlite`)}`, KEY_ENCRYPTION_SECRET: 'log on exit test secret' },
      // Every worker up before the SIGTERM: one still starting would be killed before it could log.
      listening: env.WORKERS ? 2 : 1,
    });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${server.url}/.well-known/jwks.json`, { headers: { connection: 'close' } });
      await res.arrayBuffer();
      ids.push(res.headers.get('x-request-id')!);
    }
    expect(await server.stop()).toBe(0);
    const logged = server
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; requestId?: string });
    const requests = logged.filter((l) => l.msg === 'request').map((l) => l.requestId);
    expect(requests.sort()).toEqual([...ids].sort());
    expect(logged.filter((l) => l.msg === 'stopped')).toHaveLength(env.WORKERS ? 2 : 1);
  });
});
