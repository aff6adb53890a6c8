import type { Command } from 'commander';
import { loadConfig } from '../../config/config.ts';
import type { Aggregation, Entity } from '../../core/entity.ts';
import { attributeSpans, defaultAttributeRules } from '../../nlp/attributes.ts';
import { createNerEngine } from '../../nlp/engine.ts';
import { withNlpStack } from '../../pipeline/nlp-engine.ts';
import { labelMappingFor } from '../../pipeline/stages.ts';
import { evaluateFile, type EvalReport } from '../../nlp/eval.ts';
import { formatScores } from '../../nlp/eval-metrics.ts';
import { runLinkEval, type LinkEvalCliOptions } from './eval-link.ts';
import { parseMinScore } from './extract.ts';
import { MednerError } from '../../core/errors.ts';
import { DECODERS, SEGMENTATIONS } from '../../nlp/model-config.ts';
import type { Decoder } from '../../nlp/decode.ts';
import type { Segmentation } from '../../nlp/segments.ts';

interface EvalCliOptions {
  data: string;
  model?: string;
  variant?: string;
  aggregation?: string;
  minScore?: string;
  segment?: string;
  decoder?: string;
  batchSize?: string;
  limit?: string;
  json?: boolean;
  task?: string;
  attributeWords?: boolean;
  attributeSpans?: boolean;
  /** false with --no-dictionary: the model alone, without the disorder dictionary. */
  dictionary?: boolean;
}

const VARIANTS = ['auto', 'fp32', 'int8', 'fp16'] as const;
const AGGREGATIONS = ['first', 'simple', 'average', 'max'] as const;

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new MednerError('USAGE', `${name} must be a positive integer`);
  return n;
}

export function formatReport(r: EvalReport): string {
  const variant = r.model.variant ? ` (${r.model.variant}${r.model.executionProvider ? `, ${r.model.executionProvider}` : ''})` : '';
  return [
    `model ${r.model.name} ${r.model.version}${variant}`,
    r.format === 'brat'
      ? `data ${r.data}: ${r.documents} brat documents, ${r.goldEntities} gold entities of the model's labels (strict entity match; other types ignored)`
      : `data ${r.data}: ${r.documents} sentences, ${r.goldEntities} gold entities (strict entity match)`,
    formatScores(r.scores),
    `${r.documentsPerSecond.toFixed(1)} documents/s (${r.seconds.toFixed(1)} s in extract)`,
  ].join('\n');
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('evaluate a model on a token<TAB>BIO file or a brat folder: entity-level strict precision/recall/F1 per label and micro, documents/s')
    .requiredOption('--data <file|dir>', "token<TAB>BIO tag file (blank line between sentences), or a folder of brat .txt/.ann pairs (scored over the model's labels; gold entities of other types ignored)")
    .option('--model <dir>', 'model folder (default: MODEL_DIR)')
    .option('--variant <variant>', `ONNX variant: ${VARIANTS.join(', ')} (default: MODEL_VARIANT)`)
    .option('--aggregation <mode>', `word aggregation: ${AGGREGATIONS.join(', ')} (default: the model's)`)
    .option('--min-score <p>', "drop entities scoring below this, 0..1 (default: the model's minScore)")
    .option('--segment <mode>', `windows per sentence or over the whole document: ${SEGMENTATIONS.join(', ')} (default: the model's)`)
    .option('--decoder <mode>', `label decoding: ${DECODERS.join(', ')} (default: the model's)`)
    .option('--batch-size <n>', 'windows per inference batch (default: BATCH_SIZE)')
    .option('--limit <n>', 'evaluate only the first N sentences (brat: documents)')
    .option('--json', 'print the report as JSON')
    .option('--no-attribute-words', "ner: without the closed-class attribute words the NLP stage tags by rules (severity, route, frequency words the model missed: src/nlp/attribute-words.ts)")
    .option('--attribute-spans', "apply the attribute stage's span rules as the worker does before scoring (sigs split, vital signs, lab analytes made tests, attribute words: src/nlp/attributes.ts attributeSpans)")
    .option('--no-dictionary', "ner: the model alone, without the disorder dictionary its label mapping may ask for (src/nlp/dictionary)")
    .option('--task <task>', 'ner (default), or link: the terminology linker on a PubTator file (src/cli/commands/eval-link.ts)', 'ner')
    .option('--tables <dir>', 'link: terminology tables folder (default: TERMINOLOGY_DIR or terminology/)')
    .option('--threshold <p>', 'link: linker threshold (default 0.75)')
    .option('--sweep', 'link: also print coded precision/coverage over thresholds')
    .option('--no-ner', 'link: gold mentions only, no end-to-end run of the model')
    .action(async (opts: EvalCliOptions) => {
      if (opts.task === 'link') return runLinkEval(opts as unknown as LinkEvalCliOptions);
      if (opts.task !== 'ner') throw new MednerError('USAGE', '--task must be ner or link');
      if (opts.variant !== undefined && !(VARIANTS as readonly string[]).includes(opts.variant)) throw new MednerError('USAGE', `--variant must be one of ${VARIANTS.join(', ')}`);
      if (opts.aggregation !== undefined && !(AGGREGATIONS as readonly string[]).includes(opts.aggregation)) throw new MednerError('USAGE', `--aggregation must be one of ${AGGREGATIONS.join(', ')}`);
      if (opts.segment !== undefined && !(SEGMENTATIONS as readonly string[]).includes(opts.segment)) throw new MednerError('USAGE', `--segment must be one of ${SEGMENTATIONS.join(', ')}`);
      if (opts.decoder !== undefined && !(DECODERS as readonly string[]).includes(opts.decoder)) throw new MednerError('USAGE', `--decoder must be one of ${DECODERS.join(', ')}`);
      const limit = positiveInt('--limit', opts.limit);
      const batchSize = positiveInt('--batch-size', opts.batchSize);
      const { model } = loadConfig();
      const ner = await createNerEngine({
        modelDir: opts.model ?? model.dir,
        variant: (opts.variant as (typeof VARIANTS)[number] | undefined) ?? model.variant,
        executionProvider: model.executionProvider,
        sessions: model.sessions,
        intraOpThreads: model.intraOpThreads,
        batchSize: batchSize ?? model.batchSize,
        ...(model.maxPadding === undefined ? {} : { maxPadding: model.maxPadding }),
        ...(model.batchInvariant === undefined ? {} : { batchInvariant: model.batchInvariant }),
        ...(opts.aggregation ? { aggregation: opts.aggregation as Aggregation } : {}),
        ...(opts.minScore === undefined ? {} : { minScore: parseMinScore(opts.minScore) }),
        ...(opts.segment === undefined ? {} : { segment: opts.segment as Segmentation }),
        ...(opts.decoder === undefined ? {} : { decoder: opts.decoder as Decoder }),
      });
      // as the worker runs it: model -> label consistency -> dictionary -> attribute words (no linking: scored on spans only)
      const engine = withNlpStack(ner, labelMappingFor(ner.modelDir).mapping, {
        linking: false,
        dictionary: opts.dictionary !== false,
        attributeWords: opts.attributeWords !== false,
        terminologyDir: model.terminologyDir,
      });
      try {
        const rules = defaultAttributeRules();
        const report = await evaluateFile(engine, opts.data, {
          ...(limit === undefined ? {} : { limit }),
          ...(opts.attributeSpans
            ? { postprocess: (text: string, entities: Entity[]) => attributeSpans(text, entities, rules) }
            : {}),
        });
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
      } finally {
        await engine.close();
      }
    });
}
