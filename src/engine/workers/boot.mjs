// Worker threads do not inherit tsx's loader from the parent thread, so each
// worker registers it before importing its TypeScript entry module.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
