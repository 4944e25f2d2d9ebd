/**
 * Structured logging (pino). Secrets never reach a log line: known secret-bearing fields are
 * redacted as a second line of defence; code never passes PINs, codes, tokens or session ids in.
 */
import pino from 'pino';
import type { LogLevel } from './config.js';

export type Logger = pino.Logger;

/** How long a log line may wait in {@link batchedStdout}'s buffer. */
const BATCH_DELAY_MS = 100;
/**
 * The most one write(2) carries: PIPE_BUF on Linux, so a batch written to a pipe that the cluster's
 * processes share is never interleaved with another process's lines (a write of at most PIPE_BUF
 * bytes to a pipe is atomic, POSIX). A batch holds whole lines only; a longer line goes alone.
 */
const BATCH_BYTES = 4096;

/**
 * Standard output written in batches (issue 17): pino's default destination writes every line
 * with its own write(2), which under load was two system calls per sign-in, each waking whoever
 * reads the pipe (0.1 ms per sign-in in the profile). Here lines wait in the buffer until 4 KiB
 * have gathered or 100 ms have passed since the first of them, then go out in one write; at exit
 * (process.exit, the end of the event loop, an uncaught exception) the buffer is written out
 * synchronously. A process killed outright (SIGKILL, power cut) loses at most the last 100 ms of
 * operator log lines; the audit trail is in the store, committed before any answer, and loses
 * nothing. What a line holds is unchanged (chosen fields, secrets redacted).
 */
export function batchedStdout(): pino.DestinationStream {
  const out = pino.destination({ dest: 1, sync: true, minLength: BATCH_BYTES - 512, maxWrite: BATCH_BYTES });
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    timer = undefined;
    out.flush();
  };
  process.on('exit', () => {
    if (timer) clearTimeout(timer);
    out.flushSync();
  });
  return {
    write(line: string): void {
      out.write(line);
      // Armed by the first line after a flush, never on an idle process.
      timer ??= setTimeout(flush, BATCH_DELAY_MS).unref();
    },
  };
}

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
