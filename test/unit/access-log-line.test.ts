/**
 * http/access-log.ts builds the access log's line itself (issue #14 item 1): it must be the very
 * line pino writes for the same fields, so the log reads the same whichever wrote it.
 */
import pino from 'pino';
import { requestLogLine, type RequestLine } from '../../src/http/access-log.js';

function pinoLine(logger: pino.Logger, line: RequestLine, out: { text: string }): string {
  out.text = '';
  logger.info({ requestId: line.requestId, method: line.method, path: line.path, status: line.status, ms: Math.round(line.ms * 10) / 10 }, 'request');
  return out.text;
}

describe('the access log line', () => {
  const out = { text: '' };
  const root = pino({ level: 'info', redact: { paths: ['password'], censor: '[redacted]' } }, { write: (s: string) => void (out.text += s) });
  const lines: RequestLine[] = [
    { requestId: 'b1f3', method: 'POST', path: '/oauth/token', status: 200, ms: 1.234 },
    { requestId: 'quote " back\\slash \u2028 é', method: 'GET', path: '/a"b/\u0001', status: 404, ms: 0 },
    { requestId: undefined as unknown as string, method: 'DELETE', path: '/admin/clients/x', status: 500, ms: 12345.678 },
  ];
  const sameTime = (s: string) => s.replace(/"time":\d+/, '"time":0');

  it.each(lines.map((l) => [l.path, l]))('is byte for byte the line pino writes (%s)', (_path, line) => {
    for (const logger of [root, root.child({ instance: 'i-1' })]) {
      const theirs = pinoLine(logger, line, out);
      expect(theirs).not.toBe('');
      expect(sameTime(requestLogLine(logger, line))).toBe(sameTime(theirs));
      expect(JSON.parse(requestLogLine(logger, line))).toMatchObject({ msg: 'request', status: line.status });
    }
  });
});
