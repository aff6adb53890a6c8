/**
 * Builds the real stages for the pipeline from config: intake, the NER engine,
 * the FHIR writer plus the Kafka output topic, and the dead-letter topic.
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
import { FhirServerWriter } from '../fhir/fhir-writer.ts';
import { NdjsonSink } from '../fhir/ndjson-sink.ts';
import { BC5CDR_MAPPING_FILE, linkSettingsFor, loadLabelMapping, mappingLinks, type LabelMapping } from '../fhir/label-mapping.ts';
import { outputRecord } from '../fhir/output-record.ts';
import { createNerEngine } from '../nlp/engine.ts';
import { withLinking } from '../nlp/linking/link-entities.ts';
import { Linker } from '../nlp/linking/linker.ts';
import { sharedTerminology } from '../nlp/linking/tables.ts';
import type { Entity, ModelInfo } from '../core/entity.ts';
import { MODEL_CONFIG_FILE, type ModelConfig } from '../nlp/model-config.ts';
import { readFileSync } from 'node:fs';
import type { Logger } from '../ops/logger.ts';
import { createKafka, createProducer, type ProducerPort } from '../ingest/kafka.ts';
import type { OutputPort, Stages } from '../core/ports.ts';

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
}

export async function createStages(config: Config, logger: Logger, opts: StagesOptions = {}): Promise<Stages> {
  const kafka = createKafka({ ...config.kafka, clientId: `${config.kafka.clientId}-out` }, logger);
  const producer = opts.producer ?? createProducer(kafka);
  const client = createFhirClient(config);
  const writer = new FhirServerWriter(client, { alwaysReconcile: config.fhir.reconcile === 'full' });
  // OUTPUT_SINK=ndjson (or `replay --output ndjson:DIR`): Bulk Data NDJSON files instead of FHIR transactions.
  const sink =
    config.output.sink === 'ndjson'
      ? new NdjsonSink({ dir: config.output.dir, maxFileBytes: config.output.maxFileBytes, request: opts.ndjsonRequest ?? 'medner (OUTPUT_SINK=ndjson)' })
      : undefined;
  const fhirWrite = config.fhir.write && !sink;
  const mapping = opts.mapping ?? labelMappingFor(config.model.dir).mapping;
  // Attachment urls are read through the FHIR client: its auth (bearer or OAuth2), only to the FHIR server's origin.
  // An attachment is read only up to a bound (its text at MAX_NARRATIVE_BYTES, times 4 for base64 and markup).
  const fetchBinary = (url: string) => client.readAttachment(url, { maxBytes: config.limits.maxNarrativeBytes * 4 });
  // The terminology tables are loaded once per process, before the first engine (about 1 s, 100 MB).
  const linker = config.model.linking && mappingLinks(mapping) ? new Linker(sharedTerminology(config.model.terminologyDir)) : undefined;

  const output: OutputPort = {
    async write(doc: ClinicalDocument, entities: Entity[], model: ModelInfo) {
      // Bounds first (issue 20): nothing over them reaches the FHIR server or the output topic.
      checkEntityCount(entities.length, config.limits);
      const out = buildDocumentTransaction({ doc, entities, model, mapping });
      const spansDropped = limitSpans(out.bundle, config.limits.maxSpansPerResource);
      checkTransaction(out.bundle, config.limits);
      // The sink resolves once the document's resources are fsynced; the output topic record follows, as after a transaction.
      if (sink) await sink.writeDocument(out.bundle);
      const w = fhirWrite ? await writer.writeDocument(doc, out) : undefined;
      const rec = outputRecord(out, doc, model);
      await producer.send(config.topics.output, [rec]);
      const changes = w && { created: w.created, updated: w.updated, unchanged: w.unchanged, retracted: w.retracted, deleted: w.deleted };
      return {
        resources: out.resourceIdentifiers.length,
        ...(changes ? { changes } : {}),
        fhirWritten: fhirWrite,
        published: true,
        dropped: out.dropped,
        identifiersDropped: out.identifiersDropped,
        ...(spansDropped > 0 ? { spansDropped } : {}),
      };
    },
  };

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
      return linker ? withLinking(engine, linker, linkSettingsFor(mapping)) : engine;
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
    async fhirReachable() {
      if (!fhirWrite) return true;
      try {
        const res = await fetch(`${config.fhir.baseUrl}/metadata?_summary=true`, { signal: AbortSignal.timeout(3000) });
        return res.ok;
      } catch {
        return false;
      }
    },
    async close() {
      await sink?.close();
      if (!opts.producer) await producer.close();
    },
  };
}
