/**
 * The seams between the pipeline and the stages other modules implement.
 * The pipeline only sees these; src/pipeline/stages.ts (createStages) builds the real ones.
 */
import type { ClinicalDocument, SourceCoordinates, SourceFormat } from './clinical-document.ts';
import type { AssertedEntity, Entity, ModelInfo } from './entity.ts';
import type { Stage } from './stage.ts';
import type * as fhir4 from 'fhir/r4.js';

/** Raw Kafka value -> normalized documents; throws a MednerError (retriable or not). */
export type ParseDocuments = (raw: Buffer, source: SourceCoordinates, format: SourceFormat | undefined) => Promise<ClinicalDocument[]>;

export interface NerPort {
  readonly model: ModelInfo;
  extract(texts: string[]): Promise<Entity[][]>;
  close(): Promise<void>;
}

/** What a write changed on the FHIR server (src/fhir/reconcile.ts). */
export interface WriteChanges {
  created: number;
  updated: number;
  unchanged: number;
  retracted: number;
  /** Superseded Provenance deleted. */
  deleted: number;
}

/** What one sink did with a document (absent fields: nothing to report). */
export interface SinkResult {
  /** What a FHIR server write changed. */
  changes?: WriteChanges;
}

/** A document's results as every output sink gets them: the mapped transaction Bundle and its keys. */
export interface DocumentResult {
  doc: ClinicalDocument;
  model: ModelInfo;
  output: {
    /** One FHIR transaction Bundle per document (bounds checked). */
    bundle: fhir4.Bundle;
    /** sha256 of the patient reference/identifier (a Kafka key that keeps one patient's results ordered). */
    patientKey: string;
    /** Business keys of the derived resources. */
    resourceIdentifiers: { resourceType: string; system: string; value: string }[];
  };
}

/**
 * Where a document's results go (src/pipeline/sinks: fhir, kafka, ndjson; OUTPUT_SINKS picks them
 * and their order). `write` resolves once the result is durable there and must be idempotent: a
 * job is retried from the first sink when any sink fails retriably. Errors are MednerErrors:
 * retriable (the job is retried) or not (the document is dead-lettered).
 */
export interface OutputSink {
  readonly name: string;
  write(result: DocumentResult): Promise<SinkResult>;
  /** Readiness (/ready): can this sink write now? */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

export interface OutputSummary {
  resources: number;
  /** Each configured sink's result, by sink name, in the order written. */
  sinks: Record<string, SinkResult>;
  /** Mentions that made no resource of their own, by reason (DocumentOutput.dropped). */
  dropped?: Record<string, number>;
  /** Source spans dropped beyond MAX_SPANS_PER_RESOURCE. */
  spansDropped?: number;
  /** Identifier fields left out (DocumentOutput.identifiersDropped). */
  identifiersDropped?: string[];
}

/** Per-write options of OutputPort.write. */
export interface OutputWriteOptions {
  /**
   * ms since epoch when the ingest side read the document (the job's `receivedAt`): becomes
   * Provenance.recorded, so every try of one job writes the same content. A try whose transaction
   * outlived its timeout (a hung server that answers later) and the retry that read the server
   * before that transaction landed then write the same Provenance, which the server keeps at its
   * version instead of making a second one. Default: the time of the write.
   */
  receivedAt?: number;
}

/** Writes a document's results durably: every configured sink, in order. */
export interface OutputPort {
  /** `entities`: the NLP stage's output for the document (attributes, assertions, screening). */
  write(doc: ClinicalDocument, entities: AssertedEntity[], model: ModelInfo, opts?: OutputWriteOptions): Promise<OutputSummary>;
}

export interface DeadLetterInput {
  raw: Buffer;
  source: SourceCoordinates;
  headers?: Record<string, string>;
  error: unknown;
  stage: Stage;
  attempts?: number;
  originalDeadLetterId?: string;
}

/** Writes a dead-letter record (resolves once the dead-letter topic acknowledged). */
export type DeadLetterPort = (input: DeadLetterInput) => Promise<void>;

/** Everything the worker needs from the other stages, built once per process (src/pipeline/stages.ts). */
export interface Stages {
  parse: ParseDocuments;
  /** A long-lived NER engine for inference worker `index` (device and GPU chosen from config). */
  createEngine(index: number): Promise<NerPort>;
  output: OutputPort;
  deadLetter: DeadLetterPort;
  /** The configured output sinks, in write order (readiness asks each). */
  sinks: readonly OutputSink[];
  close(): Promise<void>;
}
