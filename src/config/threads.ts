import os from 'node:os';

/** Where a session runs: `cuda` and `webgpu` fall back to `cpu` (with one warning) when unavailable. */
export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';

/**
 * Sessions when the caller does not say. On CPU min(4, cores), each with cores / sessions
 * threads: a BERT layer on one short document keeps few threads busy, so several sessions on
 * fewer threads each do more documents per second (bench:ner, src/nlp/README.md). One on a GPU.
 */
export function defaultSessions(provider: ExecutionProvider, cores = os.availableParallelism()): number {
  return provider === 'cpu' ? Math.max(1, Math.min(4, cores)) : 1;
}

/** Threads per session when the caller does not say: the cores shared out, never oversubscribed. */
export function defaultIntraOpThreads(sessions: number, cores = os.availableParallelism()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, sessions)));
}
