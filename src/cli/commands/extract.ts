import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.ts';
import { errorCode, MednerError } from '../../core/errors.ts';
import type { ClinicalDocument } from '../../core/clinical-document.ts';
import type { Aggregation, Entity, ModelInfo } from '../../core/entity.ts';
import { createNerEngine, type NerEngine } from '../../nlp/engine.ts';
import { assertEntities } from '../../nlp/assertions.ts';
import { attachAttributes } from '../../nlp/attributes.ts';
import { BC5CDR_MAPPING_FILE, loadLabelMapping } from '../../fhir/label-mapping.ts';
import { withNlpStack } from '../../pipeline/nlp-engine.ts';

const AGGREGATIONS = ['first', 'simple', 'average', 'max'] as const;
/** Documents per engine call: bounds memory for large inputs while batching well. */
const CHUNK = 256;

interface ExtractOptions {
  model?: string;
  aggregation?: string;
  minScore?: string;
  text?: string[];
  fhir?: boolean;
  link?: boolean;
  variant?: string;
  batchSize?: string;
}

/** The FHIR output modules, loaded on demand so this command works (and type-checks) without them. */
interface FhirOutput {
  build: (doc: ClinicalDocument, entities: Entity[], model: ModelInfo) => unknown;
}

async function loadFhirOutput(engine: NerEngine): Promise<FhirOutput> {
  const outputModule = '../../fhir/document-output.ts';
  const mappingModule = '../../fhir/label-mapping.ts';
  let out: { buildDocumentTransaction?: (args: unknown) => { bundle: unknown } };
  let lm: { loadLabelMapping?: (p: string) => unknown; BC5CDR_MAPPING_FILE?: URL };
  try {
    out = (await import(outputModule)) as typeof out;
    lm = (await import(mappingModule)) as typeof lm;
  } catch {
    throw new MednerError('INTERNAL', 'FHIR output not available');
  }
  const build = out.buildDocumentTransaction;
  const loadMapping = lm.loadLabelMapping;
  if (typeof build !== 'function' || typeof loadMapping !== 'function') throw new MednerError('INTERNAL', 'FHIR output not available');
  const own = path.join(engine.modelDir, engine.config.labelMapping);
  const mappingPath = existsSync(own) ? own : lm.BC5CDR_MAPPING_FILE ? lm.BC5CDR_MAPPING_FILE.pathname : own;
  const mapping = loadMapping(mappingPath);
  // The NLP rules (screening, assertions) run here, as in the inference worker; the mapping takes their output.
  return { build: (doc, entities, model) => build({ doc, entities: assertEntities(doc.text, entities), model, mapping }).bundle };
}

async function parseFile(file: string): Promise<ClinicalDocument[]> {
  const { parseDocuments } = await import('../../formats/intake.ts');
  const raw = await readFile(file);
  return parseDocuments(raw, { source: { kind: 'file', path: file, index: 0 } });
}

export function registerExtract(program: Command): void {
  program
    .command('extract')
    .description('run NER over HL7 v2 / FHIR files (or --text) and print one JSON line per document: {documentId, entities}')
    .argument('[files...]', 'HL7 v2 or FHIR R4 JSON files')
    .option('--model <dir>', 'model folder (default: MODEL_DIR)')
    .option('--aggregation <mode>', `entity aggregation: ${AGGREGATIONS.join(', ')} (default: the model's)`)
    .option('--min-score <p>', "drop entities scoring below this, 0..1 (default: the model's minScore)")
    .option('--text <text...>', 'run on this text instead of files (repeatable)')
    .option('--variant <variant>', 'ONNX variant: auto, fp32, int8, fp16 (default: MODEL_VARIANT)')
    .option('--batch-size <n>', 'windows per inference batch (default: BATCH_SIZE)')
    .option('--fhir', 'print the FHIR transaction Bundle per document instead of entities')
    .option('--no-link', "do not link entities to ICD-10-CM/MeSH (default: as the model's label mapping and LINKING say)")
    .action(async (files: string[], opts: ExtractOptions) => {
      if (opts.aggregation !== undefined && !AGGREGATIONS.includes(opts.aggregation as Aggregation)) {
        throw new MednerError('USAGE', `--aggregation must be one of ${AGGREGATIONS.join(', ')}`);
      }
      if (opts.variant !== undefined && !['auto', 'fp32', 'int8', 'fp16'].includes(opts.variant)) {
        throw new MednerError('USAGE', '--variant must be auto, fp32, int8 or fp16');
      }
      const texts = opts.text ?? [];
      if (texts.length === 0 && files.length === 0) throw new MednerError('USAGE', 'give FILE arguments or --text "..."');
      if (opts.fhir && texts.length > 0) throw new MednerError('USAGE', '--fhir needs documents from files (it has no patient or document metadata for --text)');
      const cfg = loadConfig().model;
      const linkOn = cfg.linking && opts.link !== false;
      const batchSize = opts.batchSize === undefined ? cfg.batchSize : Number(opts.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new MednerError('USAGE', '--batch-size must be a positive integer');
      const nerEngine = await createNerEngine({
        modelDir: opts.model ?? cfg.dir,
        variant: (opts.variant as 'auto' | 'fp32' | 'int8' | 'fp16' | undefined) ?? cfg.variant,
        executionProvider: cfg.executionProvider,
        gpuId: cfg.gpuIds[0] ?? 0,
        sessions: cfg.sessions,
        intraOpThreads: cfg.intraOpThreads,
        batchSize,
        ...(cfg.maxPadding === undefined ? {} : { maxPadding: cfg.maxPadding }),
        ...(cfg.batchInvariant === undefined ? {} : { batchInvariant: cfg.batchInvariant }),
        ...(opts.aggregation ? { aggregation: opts.aggregation as Aggregation } : {}),
        ...(opts.minScore === undefined ? {} : { minScore: parseMinScore(opts.minScore) }),
      });
      const engine = nlpEngine(nerEngine, cfg.terminologyDir, linkOn);
      try {
        const fhir = opts.fhir ? await loadFhirOutput(engine) : undefined;
        const write = (line: unknown): void => {
          process.stdout.write(`${JSON.stringify(line)}\n`);
        };
        for (let i = 0; i < texts.length; i += CHUNK) {
          const chunk = texts.slice(i, i + CHUNK);
          const out = (await engine.extract(chunk)).map((entities, k) => attachAttributes(chunk[k]!, entities));
          out.forEach((entities, k) => write({ documentId: `text-${i + k + 1}`, entities }));
        }
        let failed = 0;
        let pending: ClinicalDocument[] = [];
        const flush = async (): Promise<void> => {
          if (pending.length === 0) return;
          const docs = pending;
          pending = [];
          const out = (await engine.extract(docs.map((d) => d.text))).map((entities, k) => attachAttributes(docs[k]!.text, entities));
          docs.forEach((doc, k) => write(fhir ? fhir.build(doc, out[k]!, engine.model) : { documentId: doc.id, entities: out[k]! }));
        };
        for (const file of files) {
          try {
            pending.push(...(await parseFile(file)));
          } catch (e) {
            failed++;
            process.stderr.write(`${file}: ${errorCode(e)}: ${e instanceof Error ? e.message : String(e)}\n`);
          }
          if (pending.length >= CHUNK) await flush();
        }
        await flush();
        if (failed > 0) process.exitCode = 2;
      } finally {
        await engine.close();
      }
    });
}

/** The engine with the dictionary and linking (unless --no-link) as the model's label mapping asks (the model's own, else the BC5CDR mapping). */
function nlpEngine(engine: NerEngine, terminologyDir: string | undefined, linking: boolean): NerEngine {
  const own = path.join(engine.modelDir, engine.config.labelMapping);
  const mapping = loadLabelMapping(existsSync(own) ? own : BC5CDR_MAPPING_FILE.pathname);
  return withNlpStack(engine, mapping, { terminologyDir, linking });
}

/** --min-score of extract and eval. */
export function parseMinScore(raw: string): number {
  const v = Number(raw);
  if (raw.trim() === '' || !(v >= 0 && v < 1)) throw new MednerError('USAGE', `--min-score must be a number in [0, 1), got "${raw}"`);
  return v;
}
