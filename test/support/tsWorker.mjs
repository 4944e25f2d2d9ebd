// Worker-thread entry that registers tsx's loader in the worker before importing the TypeScript
// module named in workerData.entry (Node 20 does not carry --import hooks into workers).
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

register();
await import(pathToFileURL(workerData.entry).href);
