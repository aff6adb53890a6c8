/**
 * Builds the real stages for the pipeline from config: intake, the NER engine,
 * the FHIR writer plus the Kafka output topic, and the dead-letter topic.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/config.ts';
import type { ClinicalDocument } from '../formats/clinical-document.ts';
import { parseDocuments } from '../formats/intake.ts';
import { deadLetterRecord } from '../formats/dead-letter.ts';
import { IntakeError } from '../formats/errors.ts';
import { buildDocumentTransaction } from '../fhir/document-output.ts';
import { FhirClient } from '../fhir/fhir-client.ts';
import { FhirServerWriter } from '../fhir/fhir-writer.ts';
import { BC5CDR_MAPPING_FILE, loadLabelMapping, type LabelMapping } from '../fhir/label-mapping.ts';
import { outputRecord } from '../fhir/output-record.ts';
import { createNerEngine } from '../nlp/engine.ts';
import type { Entity, ModelInfo } from '../nlp/entity.ts';
import { MODEL_CONFIG_FILE, type ModelConfig } from '../nlp/model-config.ts';
import { readFileSync } from 'node:fs';
import type { Logger } from '../ops/logger.ts';
import { createKafka, createProducer, type ProducerPort } from '../ingest/kafka.ts';
import type { OutputPort, Stages } from './ports.ts';

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

/** Resolves attachment URLs (relative ones against the FHIR base) for intake. */
function binaryFetcher(config: Config) {
  return async (url: string) => {
    const abs = /^https?:\/\//.test(url) ? url : `${config.fhir.baseUrl}/${url.replace(/^\/+/, '')}`;
    const headers: Record<string, string> = { accept: '*/*' };
    if (config.fhir.auth.kind === 'bearer') headers.authorization = `Bearer ${config.fhir.auth.token}`;
    let res: Response;
    try {
      res = await fetch(abs, { headers, signal: AbortSignal.timeout(config.fhir.timeoutMs) });
    } catch (err) {
      throw new IntakeError('BINARY_FETCH_FAILED', 'attachment URL could not be fetched (network)', { cause: err });
    }
    if (!res.ok) throw new IntakeError('BINARY_FETCH_FAILED', `attachment URL answered HTTP ${res.status}`);
    const ct = res.headers.get('content-type') ?? undefined;
    const data = Buffer.from(await res.arrayBuffer());
    // A FHIR Binary read as JSON wraps the bytes.
    if (ct?.includes('json')) {
      try {
        const b = JSON.parse(data.toString('utf8')) as { resourceType?: string; contentType?: string; data?: string };
        if (b.resourceType === 'Binary' && typeof b.data === 'string') {
          return { ...(b.contentType ? { contentType: b.contentType } : {}), data: Buffer.from(b.data, 'base64') };
        }
      } catch {
        // not a Binary resource: hand the bytes over as they are
      }
    }
    return { ...(ct ? { contentType: ct } : {}), data };
  };
}

export interface StagesOptions {
  /** Override the label mapping (tests use one that makes outputs deterministic). */
  mapping?: LabelMapping;
  /** Override the output producer (tests share one). */
  producer?: ProducerPort;
}

export async function createStages(config: Config, logger: Logger, opts: StagesOptions = {}): Promise<Stages> {
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: `${config.kafka.clientId}-out` }, logger);
  const producer = opts.producer ?? createProducer(kafka);
  const client = createFhirClient(config);
  const writer = new FhirServerWriter(client);
  const mapping = opts.mapping ?? labelMappingFor(config.model.dir).mapping;
  const fetchBinary = binaryFetcher(config);

  const output: OutputPort = {
    async write(doc: ClinicalDocument, entities: Entity[], model: ModelInfo) {
      const out = buildDocumentTransaction({ doc, entities, model, mapping });
      if (config.fhir.write) await writer.writeDocument(doc, out);
      const rec = outputRecord(out, doc, model);
      await producer.send(config.topics.output, [rec]);
      return { resources: out.resourceIdentifiers.length, fhirWritten: config.fhir.write, published: true };
    },
  };

  return {
    parse: (raw, source, format) => parseDocuments(raw, { source, ...(format ? { format } : {}), fetchBinary }),
    async createEngine(index: number) {
      const gpuIds = config.model.gpuIds;
      return createNerEngine({
        modelDir: config.model.dir,
        variant: config.model.variant,
        executionProvider: config.model.executionProvider,
        gpuId: gpuIds[index % gpuIds.length] ?? 0,
        sessions: config.model.sessions,
        intraOpThreads: config.model.intraOpThreads,
        batchSize: config.model.batchSize,
        ...(config.model.maxPadding === undefined ? {} : { maxPadding: config.model.maxPadding }),
        logger,
      });
    },
    output,
    async deadLetter(input) {
      const rec = deadLetterRecord(input);
      const key = input.source.kind === 'kafka' ? `${input.source.topic}-${input.source.partition}-${input.source.offset}` : rec.id;
      await producer.send(config.topics.deadLetter, [{ key, value: JSON.stringify(rec), headers: { 'content-type': 'application/json', 'medner-dead-letter-id': rec.id, 'medner-reason': rec.reasonCode } }]);
    },
    async fhirReachable() {
      if (!config.fhir.write) return true;
      try {
        const res = await fetch(`${config.fhir.baseUrl}/metadata?_summary=true`, { signal: AbortSignal.timeout(3000) });
        return res.ok;
      } catch {
        return false;
      }
    },
    async close() {
      if (!opts.producer) await producer.close();
    },
  };
}
