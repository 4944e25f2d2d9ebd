export { superviseWorkers, type SupervisorOptions } from './supervisor.js';
export { onPeer, tellPeers, workerIndex, isPeerMessage, type PeerMessage, type PeerTopic } from './peers.js';
