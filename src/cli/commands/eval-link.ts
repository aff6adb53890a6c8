/**
 * `medner eval --task link --data FILE.pubtator [--json]`: the terminology linker on gold mentions
 * (accuracy@1), end to end with the model (NER + linking, strict on span, type and id), and the
 * ICD-10-CM category agreement with the Disease Ontology bridge. See src/nlp/linking/eval-link.ts.
 */
import { loadConfig } from '../../config/config.ts';
import { createNerEngine } from '../../nlp/engine.ts';
import { evaluateLinking, type LinkEvalReport } from '../../nlp/linking/eval-link.ts';
import { DEFAULT_LINK_THRESHOLD } from '../../nlp/linking/link-entities.ts';
import { Linker } from '../../nlp/linking/linker.ts';
import { DEFAULT_TABLES_DIR, loadTerminology } from '../../nlp/linking/tables.ts';
import { MednerError } from '../../core/errors.ts';

export interface LinkEvalCliOptions {
  data: string;
  model?: string;
  variant?: string;
  tables?: string;
  threshold?: string;
  sweep?: boolean;
  /** commander's --no-ner */
  ner?: boolean;
  json?: boolean;
}

const pct = (x: number): string => (100 * x).toFixed(1);

export function formatLinkReport(r: LinkEvalReport): string {
  const lines = [`data ${r.data}: ${r.documents} documents; tables ${r.tables}; threshold ${r.threshold}`];
  for (const [t, s] of Object.entries(r.link)) {
    lines.push(`link ${t.padEnd(9)} accuracy@1 ${pct(s.accuracy)} (${s.correct}/${s.mentions}); coded at threshold ${s.coded} (${pct(s.codedPrecision)} right)`);
  }
  const c = r.icd10cmCategory;
  lines.push(`ICD-10-CM category agreement with the bridge ${pct(c.agreement)} (${c.agree}/${c.mentions}; ${c.coded} coded)`);
  for (const [t, s] of Object.entries(r.endToEnd ?? {})) {
    lines.push(`end to end ${t.padEnd(9)} P ${pct(s.precision)} R ${pct(s.recall)} F1 ${pct(s.f1)} (tp ${s.tp}, predicted ${s.predicted}, gold ${s.gold})`);
  }
  for (const s of r.sweep ?? []) lines.push(`  threshold ${s.threshold.toFixed(3)}: coded ${s.coded} right ${s.correct} wrong ${s.wrong} precision ${pct(s.precision)} coverage ${pct(s.coverage)}`);
  return lines.join('\n');
}

export async function runLinkEval(opts: LinkEvalCliOptions): Promise<void> {
  const threshold = opts.threshold === undefined ? DEFAULT_LINK_THRESHOLD : Number(opts.threshold);
  if (!(threshold >= 0 && threshold <= 1)) throw new MednerError('USAGE', `--threshold must be a number in [0, 1], got "${opts.threshold}"`);
  const tablesDir = opts.tables ?? loadConfig().model.terminologyDir ?? DEFAULT_TABLES_DIR;
  const linker = new Linker(loadTerminology(tablesDir));
  const { model } = loadConfig();
  const engine =
    opts.ner === false
      ? undefined
      : await createNerEngine({
          modelDir: opts.model ?? model.dir,
          variant: (opts.variant as 'auto' | 'fp32' | 'int8' | 'fp16' | undefined) ?? model.variant,
          executionProvider: model.executionProvider,
          sessions: model.sessions,
          intraOpThreads: model.intraOpThreads,
          batchSize: model.batchSize,
          ...(model.maxPadding === undefined ? {} : { maxPadding: model.maxPadding }),
        });
  try {
    const report = await evaluateLinking(linker, opts.data, {
      threshold,
      ...(opts.sweep ? { sweep: true } : {}),
      ...(engine ? { extract: (texts: string[]) => engine.extract(texts) } : {}),
      tablesName: `${linker.tables.manifest.version} (${tablesDir})`,
    });
    const out = { ...report, ...(engine ? { model: { ...engine.model, variant: engine.runtime.variant } } : {}) };
    process.stdout.write(opts.json ? `${JSON.stringify(out, null, 2)}\n` : `${formatLinkReport(report)}\n`);
  } finally {
    await engine?.close();
  }
}
