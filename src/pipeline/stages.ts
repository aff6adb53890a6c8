/**
 * Builds the real stages for the pipeline from config: intake, the NER engine,
 * the output sinks (OUTPUT_SINKS, src/pipeline/sinks), and the dead-letter topic.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/config.ts';
import type { ClinicalDocument } from '../core/clinical-document.ts';
import { parseDocuments } from '../formats/intake.ts';
import { deadLetterRecord, withPayloadBySource, type DeadLetterRecord } from '../formats/dead-letter.ts';
import { buildDocumentTransaction } from '../fhir/document-output.ts';
import { checkEntityCount, checkTransaction, limitSpans } from '../fhir/bounds.ts';
import { FhirClient } from '../fhir/fhir-client.ts';
import { BC5CDR_MAPPING_FILE, loadLabelMapping, mappingLinks, type LabelMapping } from '../fhir/label-mapping.ts';
import { createNerEngine } from '../nlp/engine.ts';
import { withNlpStack } from './nlp-engine.ts';
import { Linker } from '../nlp/linking/linker.ts';
import { sharedTerminology } from '../nlp/linking/tables.ts';
import type { AssertedEntity, ModelInfo } from '../core/entity.ts';
import { MODEL_CONFIG_FILE, type ModelConfig } from '../nlp/model-config.ts';
import { readFileSync } from 'node:fs';
import type { Logger } from '../ops/logger.ts';
import { createKafka, createProducer, type ProducerPort } from '../kafka/client.ts';
import type { OutputPort, OutputSink, OutputSummary, OutputWriteOptions, SinkResult, Stages } from '../core/ports.ts';
import { buildSinks, SHIPPED_SINKS, type SinkFactory } from './sinks/registry.ts';

/** The model's own label mapping when its folder has one, else the shipped BC5CDR mapping. */
export function labelMappingFor(modelDir: string): { mapping: LabelMapping; file: string } {
  let name = 'label-mapping.json';
  try {
    const cfg = JSON.parse(readFileSync(path.join(modelDir, MODEL_CONFIG_FILE), 'utf8')) as Partial<ModelConfig>;
    if (cfg.labelMapping) name = cfg.labelMapping;
  } catch {
    // a plain Hugging Face export: no medner-model.json
  }
  const own = path.join(modelDir, name);
  const file = existsSync(own) ? own : fileURLToPath(BC5CDR_MAPPING_FILE);
  return { mapping: loadLabelMapping(file), file };
}

export function createFhirClient(config: Config): FhirClient {
  return new FhirClient({ baseUrl: config.fhir.baseUrl, timeoutMs: config.fhir.timeoutMs, auth: config.fhir.auth });
}

/** kafkajs's error for a record over the topic's max.message.bytes (Kafka error 10), also when wrapped by its retrier. */
export function isMessageTooLarge(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e && i < 5; i++) {
    const x = e as { type?: unknown; code?: unknown; cause?: unknown; originalError?: unknown };
    if (x.type === 'MESSAGE_TOO_LARGE' || x.code === 10) return true;
    e = x.originalError ?? x.cause;
  }
  return false;
}

export interface StagesOptions {
  /** Override the label mapping (tests use one that makes outputs deterministic). */
  mapping?: LabelMapping;
  /** Override the output producer (tests share one). */
  producer?: ProducerPort;
  /** The manifest's `request` when the NDJSON sink is selected (e.g. the replay command line). */
  ndjsonRequest?: string;
  /** The sinks OUTPUT_SINKS may name (default: the shipped ones, src/pipeline/sinks/registry.ts). */
  sinkRegistry?: readonly SinkFactory[];
}

/**
 * The output stage: bounds, the FHIR mapping, then each sink in order. A sink that fails stops the
 * sequence and the error goes to the job: retriable, the job is retried from the first sink (each
 * sink's write is idempotent, so the earlier ones rewrite nothing new); not retriable, the document
 * is dead-lettered. The job succeeds only when every sink has written.
 */
export function createOutput(config: Config, sinks: readonly OutputSink[], mapping: LabelMapping): OutputPort {
  return {
    async write(doc: ClinicalDocument, entities: AssertedEntity[], model: ModelInfo, opts: OutputWriteOptions = {}): Promise<OutputSummary> {
      // Bounds first (issue 20): nothing over them reaches any sink.
      checkEntityCount(entities.length, config.limits);
      // Provenance.recorded: when the job's document was received, the same in every try of the job (OutputWriteOptions).
      const { receivedAt } = opts;
      const out = buildDocumentTransaction({ doc, entities, model, mapping, ...(receivedAt !== undefined ? { now: () => new Date(receivedAt) } : {}) });
      const spansDropped = limitSpans(out.bundle, config.limits.maxSpansPerResource);
      checkTransaction(out.bundle, config.limits);
      const results: Record<string, SinkResult> = {};
      for (const sink of sinks) results[sink.name] = await sink.write({ doc, model, output: out });
      return {
        resources: out.resourceIdentifiers.length,
        sinks: results,
        dropped: out.dropped,
        identifiersDropped: out.identifiersDropped,
        ...(spansDropped > 0 ? { spansDropped } : {}),
      };
    },
  };
}

export async function createStages(config: Config, logger: Logger, opts: StagesOptions = {}): Promise<Stages> {
  const kafka = createKafka({ ...config.kafka, clientId: `${config.kafka.clientId}-out` }, logger);
  const producer = opts.producer ?? createProducer(kafka);
  const client = createFhirClient(config);
  const mapping = opts.mapping ?? labelMappingFor(config.model.dir).mapping;
  // Attachment urls are read through the FHIR client: its auth (bearer or OAuth2), only to the FHIR server's origin.
  // An attachment is read only up to a bound (its text at MAX_NARRATIVE_BYTES, times 4 for base64 and markup).
  const fetchBinary = (url: string) => client.readAttachment(url, { maxBytes: config.limits.maxNarrativeBytes * 4 });
  // The terminology tables are loaded once per process, before the first engine (about 1 s, 100 MB).
  const linker = config.model.linking && mappingLinks(mapping) ? new Linker(sharedTerminology(config.model.terminologyDir)) : undefined;
  const sinks = buildSinks(
    { config, logger, producer, fhirClient: client, ...(opts.ndjsonRequest !== undefined ? { ndjsonRequest: opts.ndjsonRequest } : {}) },
    opts.sinkRegistry ?? SHIPPED_SINKS,
  );
  const output = createOutput(config, sinks, mapping);

  return {
    parse: (raw, source, format) => parseDocuments(raw, { source, ...(format ? { format } : {}), fetchBinary }),
    async createEngine(index: number) {
      const gpuIds = config.model.gpuIds;
      const engine = await createNerEngine({
        modelDir: config.model.dir,
        variant: config.model.variant,
        executionProvider: config.model.executionProvider,
        gpuId: gpuIds[index % gpuIds.length] ?? 0,
        sessions: config.model.sessions,
        intraOpThreads: config.model.intraOpThreads,
        batchSize: config.model.batchSize,
        ...(config.model.maxPadding === undefined ? {} : { maxPadding: config.model.maxPadding }),
        ...(config.model.batchInvariant === undefined ? {} : { batchInvariant: config.model.batchInvariant }),
        logger,
      });
      // model -> dictionary -> linking (nlp-engine.ts)
      return withNlpStack(engine, mapping, { linking: linker !== undefined, ...(linker ? { linker } : {}), terminologyDir: config.model.terminologyDir });
    },
    output,
    async deadLetter(input) {
      const rec = deadLetterRecord(input);
      const key = input.source.kind === 'kafka' ? `${input.source.topic}-${input.source.partition}-${input.source.offset}` : rec.id;
      const send = (r: DeadLetterRecord) =>
        producer.send(config.topics.deadLetter, [
          { key, value: JSON.stringify(r), headers: { 'content-type': 'application/json', 'medner-dead-letter-id': r.id, 'medner-reason': r.reasonCode } },
        ]);
      try {
        await send(rec);
      } catch (err) {
        // The dead-letter topic is created to fit any accepted input (`medner topics`); should the broker
        // still refuse the record as too large, keep the bytes where they are (the input record) and
        // write a claim check that names them by coordinates and hash.
        if (!isMessageTooLarge(err) || input.source.kind !== 'kafka') throw err;
        logger.warn({ id: rec.id, payloadBytes: rec.payloadBytes }, 'dead-letter record too large for the topic; writing a claim check to the source record');
        await send(withPayloadBySource(rec));
      }
    },
    sinks,
    async close() {
      for (const sink of sinks) await sink.close();
      if (!opts.producer) await producer.close();
    },
  };
}
