/**
 * Structured logging (pino). Secrets never reach a log line: known secret-bearing fields are
 * redacted as a second line of defence; code never passes PINs, codes, tokens or session ids in.
 */
import pino from 'pino';
import type { LogLevel } from './config.js';

export type Logger = pino.Logger;

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'gateway' },
      redact: {
        paths: [
          'code',
          'token',
          'pin',
          'sessionId',
          'cookie',
          'authorization',
          '*.code',
          '*.token',
          '*.pin',
          '*.authorization',
          'req.headers.cookie',
          'headers.cookie',
          'req.headers.authorization',
          'headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
