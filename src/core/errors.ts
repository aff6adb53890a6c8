/**
 * The one error type. Errors crossing a stage boundary carry a stable `code` from
 * ErrorCode (matched on, also across processes as JSON: dead-letter records, job
 * failures, metrics labels, CLI exits), whether a retry can help, the stage when
 * known, and the cause. Messages name fields, codes, sizes and offsets, never
 * patient text (they reach logs and dead-letter records).
 *
 * Programming errors (a broken invariant, never caused by input or the outside
 * world) use `assert` / `unreachable` below: code INTERNAL.
 */
import type { Stage } from './stage.ts';

/** Why an input could not be turned into ClinicalDocuments (dead-letter `reason`; stable). */
export type IntakeErrorCode =
  | 'NOT_HL7' // neither HL7 v2 (no MSH) nor JSON
  | 'UNSUPPORTED_EVENT' // HL7 v2 message type other than MDM^T01-T11 / ORU^R01
  | 'NO_NARRATIVE' // a content-bearing message or resource without usable text
  | 'BAD_ENCODING' // bytes invalid for the declared character set, or an unknown character set
  | 'UNSUPPORTED_CONTENT_TYPE' // ED / attachment of a type we cannot turn into text (PDF, images, ...)
  | 'INVALID_FHIR' // not JSON, or JSON that is not a valid R4 resource of a type we take
  | 'NOT_R4' // a FHIR resource of another version (R5, STU3) or without resourceType
  | 'MISSING_FIELD' // a required field (TXA-12, PID-3, TXA-13 on T05/T06/T09/T10, subject, id) is absent
  | 'BINARY_FETCH_FAILED' // attachment.url could not be fetched (retriable)
  | 'UNSUPPORTED_RESOURCE' // FHIR resource type other than DocumentReference, DiagnosticReport, Bundle
  | 'INTERNAL'; // a bug (unexpected exception), wrapped so callers only see coded errors

/** Bounds on one document (src/fhir/bounds.ts). */
export type LimitErrorCode = 'DOCUMENT_TOO_LARGE' | 'OUTPUT_TOO_LARGE';

/** Inference: the model, the engine and its worker threads. */
export type InferenceErrorCode = 'INFERENCE_FAILED' | 'ENGINE_CLOSED' | 'MODEL_INVALID' | 'MODEL_FAILED';

/** Output: FHIR server, NDJSON files, dead-letter topic. */
export type OutputErrorCode =
  | 'FHIR_UNAVAILABLE'
  | 'FHIR_REJECTED'
  | 'FHIR_AUTH'
  | 'FHIR_REQUEST_TOO_LARGE'
  | 'FHIR_MULTIPLE_MATCHES'
  | 'PATIENT_IDENTIFIER_UNUSABLE'
  | 'NDJSON_CONFIG'
  | 'NDJSON_CLOSED'
  | 'NDJSON_ENTRY_MISMATCH'
  | 'SINK_UNAVAILABLE' // an output sink cannot write now (retriable)
  | 'SINK_REJECTED' // an output sink refused the document (not retriable)
  | 'DEAD_LETTER_FAILED'
  | 'DEAD_LETTER_UNREADABLE';

/** Queue jobs (failure records that travel through BullMQ). */
export type JobErrorCode = 'JOB_FAILED' | 'JOB_STALLED' | 'JOB_LOST' | 'QUEUE_CLOSING' | 'INVALID_JOB_ID';

/** Connections to Kafka and Redis, and the consumer's life cycle. */
export type ConnectionErrorCode =
  | 'KAFKA_UNAVAILABLE'
  | 'KAFKA_UNREACHABLE'
  | 'KAFKA_TLS_FAILED'
  | 'KAFKA_TLS_CONFIG'
  | 'KAFKA_AUTH_FAILED'
  | 'KAFKA_UNKNOWN_PARTITION'
  | 'REDIS_UNREACHABLE'
  | 'REDIS_TLS_FAILED'
  | 'REDIS_AUTH_FAILED'
  | 'CONSUMER_STOPPED'
  | 'STOPPING'
  | 'NETWORK_ERROR' // a connection failed below a client that names its service (ECONNREFUSED, ECONNRESET, ...)
  | 'IO_ERROR'; // a file or other system call failed (ENOENT, EACCES, ...)

/** Configuration, data files with a schema (rules, mappings, tables, evaluation sets) and command input. */
export type SetupErrorCode =
  | 'CONFIG_INVALID'
  | 'RULES_INVALID'
  | 'MAPPING_INVALID'
  | 'TERMINOLOGY_INVALID'
  | 'DATA_INVALID'
  | 'BRAT_INVALID'
  | 'USAGE' // a bad command-line argument
  | 'EMPTY_INPUT'
  | 'UNKNOWN_FORMAT'
  | 'NO_MESSAGES'
  | 'STACK_FAILED' // the local dev stack could not be started (missing Java, port taken, ...)
  | 'DOCUMENT_NO_PATIENT'
  | 'DOCUMENT_NOT_FOUND'
  | 'VIEW_BAD_CURSOR'
  | 'VIEW_ATTACHMENT_ELSEWHERE'
  | 'VIEW_INTERNAL';

export type ErrorCode =
  | IntakeErrorCode
  | LimitErrorCode
  | InferenceErrorCode
  | OutputErrorCode
  | JobErrorCode
  | ConnectionErrorCode
  | SetupErrorCode;

export interface MednerErrorOptions {
  retriable?: boolean;
  cause?: unknown;
  /** The pipeline stage the error happened in, when the thrower knows it. */
  stage?: Stage;
}

export class MednerError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly stage: Stage | undefined;

  constructor(code: ErrorCode, message: string, opts: MednerErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'MednerError';
    this.code = code;
    this.retriable = opts.retriable ?? false;
    this.stage = opts.stage;
  }

  toJSON(): { code: string; message: string; retriable: boolean } {
    return { code: this.code, message: this.message, retriable: this.retriable };
  }
}

export function isRetriable(err: unknown): boolean {
  return err instanceof MednerError ? err.retriable : false;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * The code of an error, always one of the union: a MednerError's; a kafkajs error that escaped the
 * Kafka seam is KAFKA_UNAVAILABLE; a Node system error NETWORK_ERROR or IO_ERROR; anything else
 * INTERNAL. The foreign error's own code is `foreignCode`, for logs.
 */
export function errorCode(err: unknown): ErrorCode {
  if (err instanceof MednerError) return err.code;
  if (err instanceof Error && err.name.startsWith('KafkaJS')) return 'KAFKA_UNAVAILABLE';
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return 'NETWORK_ERROR';
  if (typeof code === 'string' && typeof err === 'object' && err !== null && 'syscall' in err) return 'IO_ERROR';
  return 'INTERNAL';
}

/**
 * The code or name a foreign error (Node, kafkajs, ioredis) carries, e.g. ECONNREFUSED or
 * KafkaJSConnectionError: a token, never a message (messages may quote data). Undefined for
 * MednerErrors and errors without one.
 */
export function foreignCode(err: unknown): string | undefined {
  if (err instanceof MednerError || typeof err !== 'object' || err === null) return undefined;
  const code = 'code' in err ? err.code : undefined;
  if (typeof code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(code)) return code;
  const name = err instanceof Error ? err.name : undefined;
  return name !== undefined && name !== 'Error' && /^[A-Za-z0-9_]{1,64}$/.test(name) ? name : undefined;
}

/** `code` (from the union) and, for a foreign error, `cause` (its own code): the fields a log line gives an error. */
export function errorFields(err: unknown): { code: ErrorCode; cause?: string } {
  const cause = foreignCode(err);
  return cause === undefined ? { code: errorCode(err) } : { code: errorCode(err), cause };
}

/**
 * A programming error: the condition can only be false through a bug in medner, never through
 * input, configuration or the outside world (those throw a MednerError with their own code).
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`internal error: ${message}`);
}

/** A programming error: code that cannot be reached unless medner has a bug. */
export function unreachable(message: string): never {
  throw new Error(`internal error: ${message}`);
}
