import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runProcess, startServerProcess, ROOT } from '../helpers/processes.js';

/**
 * Issue #14: once it listens, a serving process lowers the priority of its threads other than the
 * event loop (HELPER_THREAD_NICE, default 5; src/lib/thread-pool.ts), so a pool thread woken for a
 * signature runs beside the event loop instead of taking its core. Linux only: read from /proc.
 */
const onLinux = process.platform === 'linux';

/** The nice value of each of `pid`'s threads (field 19 of /proc/<pid>/task/<tid>/stat). */
function niceOfThreads(pid: number): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // After the command's closing parenthesis: field 3 onwards; nice is field 19.
    nice.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19 - 3]));
  }
  return nice;
}

(onLinux ? describe : describe.skip)('helper threads at a lower priority than the event loop', () => {
  let cwd: string;
  beforeAll(() => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'grantor-nice-'));
  });
  afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

  async function threadsOf(env: Record<string, string>) {
    const server = await startServerProcess({ cwd, env: { DATABASE_URL: 'sqlite::memory:', KEYS_DIR: path.join(cwd, 'keys'), ...env } });
    try {
      // A request served: the process listens, its threads exist.
      expect((await fetch(`${server.url}/.well-known/oauth-authorization-server`)).status).toBe(200);
      const pid = server.child.pid!;
      const nice = niceOfThreads(pid);
      return { main: nice.get(pid), others: [...nice].filter(([tid]) => tid !== pid).map(([, n]) => n), log: server.output() };
    } finally {
      await server.stop();
    }
  }

  it('runs the event loop at the process’s priority and every other thread at nice 5 by default', async () => {
    const t = await threadsOf({});
    expect(t.main).toBe(0);
    // libuv's pool (8 threads here), the log's writer, V8's helpers.
    expect(t.others.length).toBeGreaterThanOrEqual(8);
    expect(new Set(t.others)).toEqual(new Set([5]));
    expect(t.log).toMatch(/"helperThreads":\{"nice":5,"lowered":\d+\}/);
  });

  it('leaves every thread alone with HELPER_THREAD_NICE=0, and takes another value', async () => {
    expect(new Set((await threadsOf({ HELPER_THREAD_NICE: '0' })).others)).toEqual(new Set([0]));
    const t = await threadsOf({ HELPER_THREAD_NICE: '10' });
    expect([t.main, new Set(t.others)]).toEqual([0, new Set([10])]);
  });

  it('refuses a value outside 0–19 before serving', async () => {
    for (const bad of ['20', '-1', 'high']) {
      const run = await runProcess([path.join(ROOT, 'dist/src/main.js')], { cwd, env: { HELPER_THREAD_NICE: bad, DATABASE_URL: 'sqlite::memory:', KEYS_DIR: path.join(cwd, 'keys'), PORT: '0' } });
      expect(run.code).not.toBe(0);
      expect(run.stdout + run.stderr).toContain('HELPER_THREAD_NICE');
    }
  });
});
