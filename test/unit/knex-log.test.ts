/**
 * knex's own messages go to the app's log (src/store/db.ts), JSON like every other line, never to
 * the console: a warning knex printed there after a test file had ended once failed CI ("Cannot log
 * after tests are done": a heartbeat's query waiting on a database the test had closed).
 */
import { jest } from '@jest/globals';
import { openDb } from '../../src/store/db.js';

describe('knex\'s messages', () => {
  it('are lines of the logger given to openDb, marked as knex\'s', async () => {
    const lines: Array<{ level: string; fields: object; message: string }> = [];
    const logger = {
      warn: (fields: object, message: string) => lines.push({ level: 'warn', fields, message }),
      error: (fields: object, message: string) => lines.push({ level: 'error', fields, message }),
      debug: (fields: object, message: string) => lines.push({ level: 'debug', fields, message }),
    };
    const spy = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const db = openDb({ client: 'sqlite', filename: ':memory:' }, logger as never);
    try {
      db('anything').limit('not a number' as unknown as number).toString();
      expect(lines).toEqual([{ level: 'warn', fields: { source: 'knex' }, message: 'A valid integer must be provided to limit' }]);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
      await db.destroy();
    }
  });
});
