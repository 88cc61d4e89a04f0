import pino, { type DestinationStream } from 'pino';

/**
 * The pino transport target Grantor's log runs through (see createLogger in deps.ts): it lives in
 * a worker thread of its own, where it writes each chunk of lines to `fd` with a blocking write.
 * A slow reader of stdout (a full pipe) then stalls this thread, never the event loop nor the
 * libuv pool that SQLite and the token signatures use (issue #14 item 1).
 */
export default function logWriter(opts: { fd: number }): DestinationStream {
  return pino.destination({ dest: opts.fd, sync: true });
}
