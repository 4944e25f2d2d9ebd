/**
 * Messages between the worker processes of one gateway (node:cluster), relayed by the primary.
 * Everything durable is in SQLite, which every worker shares; these messages only tell siblings
 * to refresh what they hold in memory (the FIDO metadata, the directory group-role table in
 * force). Outside a cluster they are no-ops, so the same code runs in one process, in tests and
 * in production.
 */
import cluster from 'node:cluster';

/** The envelope the primary relays to every other worker. */
export interface PeerMessage {
  gatewayPeer: true;
  topic: PeerTopic;
}

/** metadata-reloaded: the FIDO metadata in force; group-roles-changed: the directory group-role table in force. */
export type PeerTopic = 'metadata-reloaded' | 'group-roles-changed';

export function isPeerMessage(m: unknown): m is PeerMessage {
  return typeof m === 'object' && m !== null && (m as { gatewayPeer?: unknown }).gatewayPeer === true && typeof (m as { topic?: unknown }).topic === 'string';
}

/** Tells every sibling worker (not this one) about `topic`. */
export function tellPeers(topic: PeerTopic): void {
  if (!cluster.isWorker || !process.send) return;
  const message: PeerMessage = { gatewayPeer: true, topic };
  process.send(message);
}

/** Runs `handler` when a sibling reports `topic`. Returns a function that stops listening. */
export function onPeer(topic: PeerTopic, handler: () => void): () => void {
  if (!cluster.isWorker) return () => undefined;
  const listener = (m: unknown) => {
    if (isPeerMessage(m) && m.topic === topic) handler();
  };
  process.on('message', listener);
  return () => process.off('message', listener);
}

/** This worker's index (0 runs the background singletons), or 0 outside a cluster. */
export function workerIndex(env: NodeJS.ProcessEnv = process.env): number {
  if (!cluster.isWorker) return 0;
  const n = Number(env['GATEWAY_WORKER_INDEX']);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}
