/**
 * The seams between the pipeline and the stages other modules implement.
 * The pipeline only sees these; src/pipeline/stages.ts (createStages) builds the real ones.
 */
import type { ClinicalDocument, SourceCoordinates, SourceFormat } from './clinical-document.ts';
import type { Entity, ModelInfo } from './entity.ts';
import type { Stage } from './stage.ts';

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

export interface OutputSummary {
  resources: number;
  /** Absent when FHIR writing is off. */
  changes?: WriteChanges;
  fhirWritten: boolean;
  published: boolean;
  /** Mentions that made no resource of their own, by reason (DocumentOutput.dropped). */
  dropped?: Record<string, number>;
  /** Source spans dropped beyond MAX_SPANS_PER_RESOURCE. */
  spansDropped?: number;
  /** Identifier fields left out (DocumentOutput.identifiersDropped). */
  identifiersDropped?: string[];
}

/** Writes a document's results durably: FHIR transaction committed and output topic acknowledged. */
export interface OutputPort {
  write(doc: ClinicalDocument, entities: Entity[], model: ModelInfo): Promise<OutputSummary>;
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
  /** Readiness: does the FHIR server answer (true when FHIR writing is off)? */
  fhirReachable(): Promise<boolean>;
  close(): Promise<void>;
}
