import pino, { type Logger } from 'pino';

/**
 * The process logger: JSON lines on stdout. Anything that could hold a secret is redacted by path as a second
 * line of defence; the first is never handing secrets to the logger at all.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'keygate' },
    redact: {
      paths: ['*.authorization', '*.Authorization', 'headers.authorization', '*.masterKey', '*.adminToken', '*.privateJwk', '*.d', '*.k', '*.password'],
      censor: '[redacted]',
    },
  });
}

export type { Logger };
