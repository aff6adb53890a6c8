/**
 * Graceful shutdown: on SIGTERM or SIGINT run the steps in order once; a second
 * signal exits at once. Steps must be idempotent and bounded in time.
 *
 * A signal within `relayWindowMs` (default 1 s) of the first is the same signal relayed again, not a
 * second one: under `npm start` both npm and tsx forward one SIGTERM to the worker (measured 32 ms
 * apart), which used to skip the drain; a person pressing Ctrl-C twice is slower than that.
 */
import type { Logger } from './logger.ts';
import { errorFields } from '../core/errors.ts';

export function onShutdown(
  logger: Logger,
  steps: () => Promise<void>,
  opts: { exit?: boolean; hardTimeoutMs?: number; relayWindowMs?: number; now?: () => number } = {},
): () => void {
  let running = false;
  let firstAt = 0;
  const now = opts.now ?? Date.now;
  const handler = (signal: NodeJS.Signals) => {
    if (running && now() - firstAt < (opts.relayWindowMs ?? 1000)) {
      logger.info({ signal }, 'signal relayed again (npm/tsx): already shutting down');
      return;
    }
    if (running) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    running = true;
    firstAt = now();
    logger.info({ signal }, 'shutting down: stop fetching, finish in-flight jobs, commit');
    const hard = setTimeout(() => {
      logger.error('shutdown took too long: exiting');
      process.exit(1);
    }, opts.hardTimeoutMs ?? 60_000);
    hard.unref();
    steps().then(
      () => {
        logger.info('shutdown complete');
        if (opts.exit ?? true) process.exit(0);
      },
      (err) => {
        logger.error(errorFields(err), 'shutdown failed');
        if (opts.exit ?? true) process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
