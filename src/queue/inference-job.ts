import type { ClinicalDocument } from '../core/clinical-document.ts';
import type { JobStage } from '../core/stage.ts';

/**
 * What an inference job carries through Redis. The document holds patient
 * text: it lives in Redis (acceptable there) and must never be logged.
 */
export interface InferenceJobData {
  doc: ClinicalDocument;
  /** ms since epoch when the Kafka record was produced (end-to-end latency starts here). */
  producedAt?: number;
  /** ms since epoch when the ingest side read it. */
  receivedAt: number;
  /** A replay run name, absent for the live feed. */
  run?: string;
}

export interface InferenceJobResult {
  entities: number;
  resources: number;
  /** Each output sink's result by sink name (e.g. `fhir`: what the write changed; `kafka`: published). */
  sinks: Record<string, { changes?: { created: number; updated: number; unchanged: number; retracted: number; deleted: number } }>;
}

export type FailureStage = JobStage;

/** Why a job failed, as it travels through BullMQ's failedReason (a string): JSON with a code. */
export interface JobFailure {
  stage: FailureStage;
  code: string;
  message: string;
}

export function encodeFailure(f: JobFailure): string {
  return JSON.stringify(f);
}

export function decodeFailure(reason: string | undefined): JobFailure {
  try {
    const v = JSON.parse(reason ?? '') as Partial<JobFailure>;
    if ((v.stage === 'inference' || v.stage === 'output') && typeof v.code === 'string') {
      return { stage: v.stage, code: v.code, message: String(v.message ?? '') };
    }
  } catch {
    // not ours: a BullMQ error such as a stalled job
  }
  const message = reason ?? 'unknown failure';
  return { stage: 'inference', code: /stalled/i.test(message) ? 'JOB_STALLED' : 'JOB_FAILED', message };
}
