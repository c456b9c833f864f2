import { pino, type Logger } from 'pino';

/** The root logger; components take `log.child({ component })`. Level from WEFT_LOG_LEVEL. */
export const log: Logger = pino({
  level: process.env.WEFT_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info'),
  base: { app: 'weft' },
  redact: { paths: ['*.privateKey', '*.key', '*.token'], censor: '[redacted]' },
});

export type { Logger };
