/**
 * The BullMQ backlog of the live and the replay queue, as the inference autoscaler reads it
 * (GET /queue on the ingest role; deploy/k8s/keda). BullMQ keeps jobs in several Redis keys:
 * `wait` (a list), `prioritized` (a sorted set: every job added with a priority, as replays are),
 * `delayed` (a sorted set: retries in their backoff) and `active` (a list: running now). A
 * scaler reading only the wait list (KEDA's redis-lists) would miss replays, retries and the
 * jobs running, so it could scale to zero under a busy pool; these counts take all four.
 */
import { Queue } from 'bullmq';
import { replayQueueName } from './inference-queue.ts';

export const BACKLOG_STATES = ['waiting', 'prioritized', 'delayed', 'active'] as const;
export type BacklogState = (typeof BACKLOG_STATES)[number];

export type QueueBacklog = Record<BacklogState, number> & { total: number };
export interface Backlogs {
  live: QueueBacklog;
  replay: QueueBacklog;
  /** live.total + replay.total */
  total: number;
}

/** Pure: BullMQ's getJobCounts answer -> the four states and their total. */
export function backlogOf(counts: Partial<Record<string, number>>): QueueBacklog {
  const b = Object.fromEntries(BACKLOG_STATES.map((s) => [s, counts[s] ?? 0])) as Record<BacklogState, number>;
  return { ...b, total: BACKLOG_STATES.reduce((sum, s) => sum + b[s], 0) };
}

export class BacklogReader {
  private readonly live: Queue;
  private readonly replay: Queue;

  constructor(opts: { redisUrl: string; queueName: string; prefix?: string }) {
    const connection = { url: opts.redisUrl, maxRetriesPerRequest: null };
    const prefix = opts.prefix ?? 'medner';
    this.live = new Queue(opts.queueName, { connection, prefix });
    this.replay = new Queue(replayQueueName(opts.queueName), { connection, prefix });
    // Connection errors surface as read() rejecting (GET /queue answers 503); no unhandled 'error' event.
    for (const q of [this.live, this.replay]) q.on('error', () => {});
  }

  /** Rejects after `timeoutMs` when Redis does not answer, so a scaler's request never hangs. */
  async read(timeoutMs = 3000): Promise<Backlogs> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`queue backlog: Redis did not answer within ${timeoutMs} ms`)), timeoutMs)));
    try {
      const [live, replay] = await Promise.race([Promise.all([this.live, this.replay].map(async (q) => backlogOf(await q.getJobCounts(...BACKLOG_STATES)))), timeout]);
      return { live: live!, replay: replay!, total: live!.total + replay!.total };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.live.close(), this.replay.close()]);
  }
}
