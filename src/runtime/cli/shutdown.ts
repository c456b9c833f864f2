import type { Logger } from '../../base/log.ts';

/** Resolves on the first SIGINT or SIGTERM, so callers can close servers gracefully. */
export function waitForShutdown(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'shutting down');
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
