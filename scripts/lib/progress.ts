/**
 * Progress for long-running commands (seeding keys, verifying a large audit chain, importing a
 * CSV): done/total, rate and an estimate of the time left, on stderr so stdout stays parseable.
 * On a terminal the line is redrawn in place; otherwise (CI, a pipe) a line at most every few
 * seconds.
 */
export interface Progress {
  /** Records that `n` more items are done. */
  tick(n?: number): void;
  /** Sets the absolute count of items done. */
  update(done: number): void;
  /** Prints the final line (items, seconds, rate). */
  done(): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  unit?: string;
  stream?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Minimum interval between lines when not a terminal (default 2000 ms). */
  intervalMs?: number;
  /** Silences output (the library callers' default). */
  quiet?: boolean;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const tty = 'isTTY' in stream && stream.isTTY === true;
  const interval = tty ? 200 : (opts.intervalMs ?? 2000);
  const unit = opts.unit ?? 'items';
  const started = performance.now();
  let count = 0;
  let lastPrint = 0;
  const line = (final: boolean): string => {
    const elapsed = (performance.now() - started) / 1000;
    const rate = elapsed > 0 ? count / elapsed : 0;
    const pct = opts.total > 0 ? Math.min(100, (100 * count) / opts.total) : 100;
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    if (final) return `${opts.label}: ${fmt(count)} ${unit} in ${elapsed.toFixed(1)} s (${fmt(rate)} ${unit}/s)`;
    const left = rate > 0 ? (opts.total - count) / rate : Number.NaN;
    return `${opts.label}: ${fmt(count)}/${fmt(opts.total)} ${unit} (${pct.toFixed(1)}%), ${fmt(rate)} ${unit}/s, about ${formatDuration(left)} left`;
  };
  const print = (final: boolean) => {
    if (opts.quiet) return;
    if (tty) stream.write(`\r\x1b[2K${line(final)}${final ? '\n' : ''}`);
    else stream.write(`${line(final)}\n`);
  };
  const maybePrint = () => {
    const now = performance.now();
    if (now - lastPrint >= interval) {
      lastPrint = now;
      print(false);
    }
  };
  return {
    tick(n = 1) {
      count += n;
      maybePrint();
    },
    update(done: number) {
      count = done;
      maybePrint();
    },
    done() {
      print(true);
    },
  };
}
