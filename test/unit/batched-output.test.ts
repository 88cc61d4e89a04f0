/**
 * The log's batches (src/lib/batched-output.ts): every line handed on once, whole and in order, in
 * chunks of about a batch, and a quiet batch after flushMs. The e2e side
 * (test/e2e/log-on-exit.test.ts) checks the exit paths.
 */
import { batchedOutput } from '../../src/lib/batched-output.js';

function collect(batchBytes: number, flushMs = 60_000) {
  const chunks: string[] = [];
  const out = batchedOutput({ sink: (chunk) => chunks.push(chunk), batchBytes, flushMs });
  return { out, chunks, text: () => chunks.join('') };
}

describe('batched log output', () => {
  it('hands on every line in order, a chunk once a batch is reached, each chunk ending on a whole line', () => {
    const { out, chunks, text } = collect(256);
    const lines = Array.from({ length: 200 }, (_, i) => `{"i":${i},"msg":"${'x'.repeat(i % 37)}"}\n`);
    for (const line of lines) out.write(line);
    out.flushSync();
    expect(text()).toBe(lines.join(''));
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks.slice(0, -1)) {
      // Handed on by the line that reached the batch's size: at most one line over it.
      expect(chunk.length).toBeGreaterThanOrEqual(256);
      expect(chunk.length).toBeLessThan(256 + 64);
    }
    for (const chunk of chunks) expect(chunk.endsWith('\n')).toBe(true);
  });

  it('hands a quiet batch on after flushMs, and nothing when nothing waits', async () => {
    const { out, chunks } = collect(65_536, 20);
    out.flushSync();
    expect(chunks).toHaveLength(0);
    out.write('one\n');
    out.write('two\n');
    expect(chunks).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(chunks).toEqual(['one\ntwo\n']);
  });
});
