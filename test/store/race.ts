/** Runs one operation `perWorker` times at once in each of `workers` worker threads (worker.ts). */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { repoRoot } from '../support/testGateway.js';
import type { StoreSpec } from './adapters.js';
import type { Operation, OperationResult } from './worker.js';

export async function race(spec: StoreSpec, operation: Operation, workers = 4, perWorker = 25): Promise<OperationResult[]> {
  const started = Array.from({ length: workers }, () => {
    const w = new Worker(path.join(repoRoot, 'test', 'support', 'tsWorker.mjs'), {
      workerData: { entry: path.join(repoRoot, 'test', 'store', 'worker.ts'), spec, operation, count: perWorker },
    });
    const ready = new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
    const done = new Promise<OperationResult[]>((resolve, reject) => {
      w.on('message', (m: unknown) => {
        if (typeof m === 'object' && m !== null && 'results' in m && Array.isArray(m.results)) resolve(m.results as OperationResult[]);
      });
      w.once('error', reject);
      w.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`worker exited with ${code}`))));
    });
    return { w, ready, done };
  });
  // Every worker has its connections open before any of them starts.
  await Promise.all(started.map((s) => s.ready));
  for (const s of started) s.w.postMessage('go');
  return (await Promise.all(started.map((s) => s.done))).flat();
}

export function winners(results: readonly OperationResult[]): number {
  return results.filter((r) => r.won).length;
}

/** Fails loudly on a worker's error (an operation that threw instead of answering). */
export function errorsOf(results: readonly OperationResult[]): string[] {
  return results.map((r) => r.value).filter((v): v is string => typeof v === 'string' && v.startsWith('error:'));
}
