import { createHash } from 'node:crypto';
import { MednerError, errorCode } from '../core/errors.ts';
import type { SourceCoordinates } from '../core/clinical-document.ts';
import type { Stage } from '../core/stage.ts';

/** One record on the dead-letter topic. JSON Schema: schemas/dead-letter.schema.json (keep in step). */
export interface DeadLetterRecord {
  schemaVersion: 1;
  /** Deterministic from the source coordinates: the same input dead-lettered twice gets the same id. */
  id: string;
  /** Error code, e.g. NOT_HL7, INVALID_FHIR; INTERNAL for unexpected errors. */
  reasonCode: string;
  /** What went wrong, naming fields and offsets only: never patient text. */
  message: string;
  stage: Stage;
  retriable: boolean;
  source: SourceCoordinates;
  headers: Record<string, string>;
  /** The original bytes, base64 ('' when `payloadLocation` is `source-record`). */
  payload: string;
  /**
   * Where the original bytes are: absent or `inline` (in `payload`), or `source-record` (a claim check:
   * a record too large for the dead-letter topic even so; the bytes stay in the input record at
   * `source`, which `payloadSha256` identifies).
   */
  payloadLocation?: 'inline' | 'source-record';
  payloadBytes: number;
  /** sha256 of the original bytes, hex. */
  payloadSha256: string;
  attempts: number;
  failedAt: string;
  /** Set when a replayed record failed again: the id of the record it was replayed from. */
  originalDeadLetterId?: string;
}

export function deadLetterId(source: SourceCoordinates): string {
  const key =
    source.kind === 'kafka' ? ['kafka', source.topic, String(source.partition), source.offset].join('\u0000') : ['file', source.path, String(source.index)].join('\u0000');
  return `dl-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

const MAX_MESSAGE = 1000;
/** Record headers kept in a dead-letter record, at most (bytes of names plus values); the rest are left out. */
export const MAX_DEAD_LETTER_HEADER_BYTES = 16 * 1024;

/**
 * The max.message.bytes a dead-letter topic needs so that any input record the broker accepted
 * (value up to `inputMaxBytes`) fits once wrapped: base64 of the value, the bounded headers, the envelope.
 */
export function deadLetterTopicMaxBytes(inputMaxBytes: number): number {
  return Math.ceil(inputMaxBytes / 3) * 4 + 2 * MAX_DEAD_LETTER_HEADER_BYTES + 64 * 1024;
}

/** The claim-check form of a record: the bytes stay in the source record (Kafka), named by hash. */
export function withPayloadBySource(rec: DeadLetterRecord): DeadLetterRecord {
  return { ...rec, payload: '', payloadLocation: 'source-record' };
}

function boundedHeaders(h: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  let size = 0;
  for (const [k, v] of Object.entries(h ?? {})) {
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
    if (size > MAX_DEAD_LETTER_HEADER_BYTES) break;
    out[k] = v;
  }
  return out;
}

/**
 * Our own errors (MednerError) carry messages written to be free of patient data; anything
 * else (a library's message may quote its input, e.g. JSON.parse) is reduced to its type.
 */
function safeMessage(err: unknown): string {
  if (err instanceof MednerError) return err.message.slice(0, MAX_MESSAGE);
  if (err instanceof Error) return `unexpected ${err.name}`;
  return `unexpected ${typeof err} thrown`;
}

export function deadLetterRecord(args: {
  raw: Buffer | Uint8Array;
  source: SourceCoordinates;
  headers?: Record<string, string>;
  error: unknown;
  stage: Stage;
  attempts?: number;
  failedAt?: Date;
  originalDeadLetterId?: string;
}): DeadLetterRecord {
  const bytes = Buffer.isBuffer(args.raw) ? args.raw : Buffer.from(args.raw.buffer, args.raw.byteOffset, args.raw.byteLength);
  const code = errorCode(args.error);
  const record: DeadLetterRecord = {
    schemaVersion: 1,
    id: deadLetterId(args.source),
    reasonCode: /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : 'INTERNAL',
    message: safeMessage(args.error) || code,
    stage: args.stage,
    retriable: args.error instanceof MednerError ? args.error.retriable : false,
    source: args.source,
    headers: boundedHeaders(args.headers),
    payload: bytes.toString('base64'),
    payloadBytes: bytes.length,
    payloadSha256: createHash('sha256').update(bytes).digest('hex'),
    attempts: Math.max(1, Math.trunc(args.attempts ?? 1)),
    failedAt: (args.failedAt ?? new Date()).toISOString(),
  };
  if (args.originalDeadLetterId !== undefined) record.originalDeadLetterId = args.originalDeadLetterId;
  return record;
}
