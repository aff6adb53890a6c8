import { MednerError } from '../core/errors.ts';
/**
 * BullMQ job ids derived from where a document came from, so that a redelivered
 * Kafka message maps to the job already queued (or done) instead of a second one.
 * Kafka topic names use [A-Za-z0-9._-] only, so '@' separates unambiguously;
 * BullMQ forbids ':' and pure integers in custom ids.
 */
export interface JobCoordinates {
  topic: string;
  partition: number;
  offset: string;
  /** Index of the document within the message (a message may carry several). */
  index: number;
  /** A run name for replays, so a replay re-runs documents instead of matching old jobs. */
  run?: string;
}

const TOPIC = /^[A-Za-z0-9._-]+$/;
const RUN = /^[A-Za-z0-9._-]+$/;

export function jobIdFor(c: JobCoordinates): string {
  if (!TOPIC.test(c.topic)) throw new MednerError('INVALID_JOB_ID', `not a Kafka topic name: ${JSON.stringify(c.topic)}`);
  if (!Number.isInteger(c.partition) || c.partition < 0) throw new MednerError('INVALID_JOB_ID', `bad partition ${c.partition}`);
  if (!/^\d+$/.test(c.offset)) throw new MednerError('INVALID_JOB_ID', `bad offset ${JSON.stringify(c.offset)}`);
  if (!Number.isInteger(c.index) || c.index < 0) throw new MednerError('INVALID_JOB_ID', `bad document index ${c.index}`);
  if (c.run !== undefined && !RUN.test(c.run)) throw new MednerError('INVALID_JOB_ID', `bad run name ${JSON.stringify(c.run)}`);
  const base = `k@${c.topic}@${c.partition}@${c.offset}@${c.index}`;
  return c.run === undefined ? base : `r@${c.run}@${base.slice(2)}`;
}

export function parseJobId(id: string): JobCoordinates | undefined {
  const parts = id.split('@');
  let run: string | undefined;
  if (parts[0] === 'r' && parts.length === 6) {
    run = parts[1];
    parts.splice(0, 2, 'k');
  }
  if (parts[0] !== 'k' || parts.length !== 5) return undefined;
  const [, topic, p, offset, i] = parts as [string, string, string, string, string];
  if (!TOPIC.test(topic) || !/^\d+$/.test(p) || !/^\d+$/.test(offset) || !/^\d+$/.test(i)) return undefined;
  const out: JobCoordinates = { topic, partition: Number(p), offset, index: Number(i) };
  if (run !== undefined) out.run = run;
  return out;
}
