// @ts-check
/**
 * The load generator, in a process of its own so its event loop is not the bench's. Receives
 * {id, opts} over IPC, runs autocannon with them, and answers {id, result} with the figures the
 * bench reports (or {id, error}).
 */
import { runAutocannon } from './autocannon-run.js';

/**
 * `opts.rotate = { authorizations, forwardedFor }`: each request takes the next Authorization
 * header and the next X-Forwarded-For address, round-robin, so that a load spread over many
 * clients and addresses stays within Grantor's default per-client and per-address rate limits.
 * @param {import('./types.js').LoadOptions} options
 * @returns {import('autocannon').AutocannonOptions}
 */
function rotating({ rotate, keepAnswers: _, ...opts }) {
  if (!rotate) return opts;
  let n = 0;
  return {
    ...opts,
    requests: [{
      setupRequest: (/** @type {import('autocannon').AutocannonRequest} */ req) => {
        const i = n++;
        return { ...req, headers: { ...req.headers, authorization: rotate.authorizations[i % rotate.authorizations.length], 'x-forwarded-for': rotate.forwardedFor[i % rotate.forwardedFor.length] } };
      },
    }],
  };
}

process.on('message', async (/** @type {{ id: number, opts: import('./types.js').LoadOptions }} */ { id, opts }) => {
  try {
    process.send?.({ id, result: await runAutocannon(rotating(opts), { keepAnswers: opts.keepAnswers }) });
  } catch (/** @type {any} */ err) {
    process.send?.({ id, error: err?.stack ?? String(err) });
  }
});
process.on('SIGTERM', () => process.exit(0));
process.send?.({ ready: true });
