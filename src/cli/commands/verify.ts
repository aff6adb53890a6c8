import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.ts';
import type { ClinicalDocument } from '../../core/clinical-document.ts';
import { parseDocuments } from '../../formats/intake.ts';
import { buildDocumentTransaction } from '../../fhir/document-output.ts';
import { FhirServerWriter } from '../../fhir/fhir-writer.ts';
import { countsOf, type WritePlan } from '../../fhir/reconcile.ts';
import { attachAttributes } from '../../nlp/attributes.ts';
import { createNerEngine } from '../../nlp/engine.ts';
import { withNlpStack } from '../../pipeline/nlp-engine.ts';
import { MednerError, errorCode } from '../../core/errors.ts';
import { createFhirClient, labelMappingFor } from '../../pipeline/stages.ts';
import { assertEntities } from '../../nlp/assertions.ts';

/**
 * `medner verify`: what the current model and configuration would write for a document against
 * what the FHIR server holds for it, without writing anything. Reads every resource tagged with
 * the document (a full reconcile), so it also finds resources no Provenance names. Exit status 0
 * when the server already holds exactly what a run would write, 3 when it differs.
 */

interface VerifyOptions {
  document?: string[];
  json?: boolean;
  model?: string;
  filesFrom?: string;
  concurrency?: string;
  chunk?: string;
}

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new MednerError('USAGE', `${name}: a whole number of at least 1, not ${JSON.stringify(v)}`);
  return n;
}

/** `fn` over `items`, at most `limit` at a time; results in the order of `items`. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const k = next++;
      out[k] = await fn(items[k]!, k);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('compare what the FHIR server holds for documents with what the current model would write; prints the difference, writes nothing')
    .argument('[files...]', 'the source messages (HL7 v2 or FHIR R4 JSON files)')
    .option('--document <id...>', 'a DocumentReference id on the FHIR server (FHIR-sourced documents), repeatable')
    .option('--model <dir>', 'model folder (default: MODEL_DIR)')
    .option('--files-from <file>', 'read the source file names from FILE, one per line (for thousands of documents)')
    .option('--concurrency <n>', 'documents whose server reads run at the same time (default 8)')
    .option('--chunk <n>', 'documents run through the model at a time (default 100)')
    .option('--json', 'one JSON line per document')
    .action(async (files: string[], opts: VerifyOptions) => {
      const config = loadConfig();
      const ids = opts.document ?? [];
      const concurrency = positiveInt(opts.concurrency ?? '8', '--concurrency');
      const chunk = positiveInt(opts.chunk ?? '100', '--chunk');
      if (opts.filesFrom) files = [...files, ...(await readFile(opts.filesFrom, 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l !== '')];
      if (files.length === 0 && ids.length === 0) throw new MednerError('USAGE', 'give FILE arguments or --document ID');
      const client = createFhirClient(config);
      const fetchBinary = (url: string) => client.readAttachment(url);
      const docs: ClinicalDocument[] = [];
      for (const file of files) docs.push(...(await parseDocuments(await readFile(file), { source: { kind: 'file', path: file, index: 0 }, fetchBinary })));
      for (const id of ids) {
        const ref = await client.read('DocumentReference', id);
        if (!ref) throw new MednerError('DOCUMENT_NOT_FOUND', `DocumentReference/${id} is not on the FHIR server`);
        const raw = Buffer.from(JSON.stringify(ref));
        docs.push(...(await parseDocuments(raw, { source: { kind: 'file', path: `DocumentReference/${id}`, index: 0 }, format: 'fhir', fetchBinary })));
      }
      const modelDir = opts.model ?? config.model.dir;
      const { mapping } = labelMappingFor(modelDir);
      const ner = await createNerEngine({
        modelDir,
        variant: config.model.variant,
        executionProvider: config.model.executionProvider,
        sessions: config.model.sessions,
        intraOpThreads: config.model.intraOpThreads,
        batchSize: config.model.batchSize,
        ...(config.model.batchInvariant === undefined ? {} : { batchInvariant: config.model.batchInvariant }),
        ...(config.model.maxPadding === undefined ? {} : { maxPadding: config.model.maxPadding }),
      });
      // As the worker runs it (pipeline/stages.ts, queue/inference-worker.ts): linked when the mapping
      // and LINKING say so, attributes attached; else the concept keys, so the ids, differ from the worker's.
      const engine = withNlpStack(ner, mapping, { linking: config.model.linking, terminologyDir: config.model.terminologyDir });
      let differing = 0;
      try {
        const writer = new FhirServerWriter(client);
        // Documents a chunk at a time (bounded memory for thousands of documents), each chunk's reads
        // `concurrency` at a time; the lines come out in the order of the documents.
        for (let c = 0; c < docs.length; c += chunk) {
          const part = docs.slice(c, c + chunk);
          const entities = (await engine.extract(part.map((d) => d.text))).map((found, k) => attachAttributes(part[k]!.text, found));
          const plans = await mapLimit(part, concurrency, async (doc, k): Promise<WritePlan | { error: unknown }> => {
            const out = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entities[k]!), model: engine.model, mapping });
            try {
              return await writer.plan(doc, out, { full: true });
            } catch (error) {
              return { error };
            }
          });
          for (const [k, doc] of part.entries()) {
            const plan = plans[k]!;
            if ('error' in plan) {
              const e = plan.error;
              process.stderr.write(`${doc.id}: ${errorCode(e)}: ${e instanceof Error ? e.message : String(e)}\n`);
              process.exitCode = 1;
              continue;
            }
            const counts = countsOf(plan);
            const same = plan.entries.length === 0;
            if (!same) differing++;
            if (opts.json) {
              const { entries: _e, ...lists } = plan;
              process.stdout.write(`${JSON.stringify({ documentId: doc.id, model: `${engine.model.name}@${engine.model.version}`, same, counts, ...lists })}\n`);
              continue;
            }
            process.stdout.write(
              `document ${doc.id}: ${same ? 'the server holds what the current model writes' : 'differs'} ` +
                `(${counts.unchanged} unchanged, ${counts.created} to create, ${counts.updated} to update, ${counts.retracted} to retract, ${counts.deleted} superseded Provenance to delete)\n`,
            );
            for (const url of plan.created) process.stdout.write(`  + ${url}  (not on the server)\n`);
            for (const url of plan.updated) process.stdout.write(`  ~ ${url}  (differs: ${(plan.changedFields[url] ?? []).join(', ')})\n`);
            for (const url of plan.retracted) process.stdout.write(`  - ${url}  (on the server, no longer produced: would be entered-in-error)\n`);
            for (const url of plan.deleted) process.stdout.write(`  x ${url}  (Provenance of another run: would be deleted)\n`);
          }
        }
      } finally {
        await engine.close();
      }
      if (differing > 0 && process.exitCode === undefined) process.exitCode = 3;
    });
}
