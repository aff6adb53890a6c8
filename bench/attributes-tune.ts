/**
 * Selects the attribute rules' costs and preferred sides by coordinate descent on one brat split
 * (use train; report on dev with bench:attributes):
 *   npx tsx bench/attributes-tune.ts --data ../shared/data/clinical/maccrobat/train
 * Objective: exact attachment accuracy of values -> tests plus doses -> medications plus all spans (micro).
 * Prints the selected rules as JSON (copy what you accept into src/nlp/attribute-rules.json).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultAttributeRules, type AttributeCosts, type AttributeRules } from '../src/nlp/attributes.ts';
import { evaluateAttachment, readBratRelations } from '../src/nlp/attributes-eval.ts';

const { values } = parseArgs({ options: { data: { type: 'string' } } });
const here = path.dirname(new URL(import.meta.url).pathname);
const data = values.data ?? path.resolve(here, '../../shared/data/clinical/maccrobat/train');
const docs = await readBratRelations(data);

function objective(r: AttributeRules): number {
  const rep = evaluateAttachment(docs, data, r);
  const all = Object.values(rep.labels);
  const micro = all.reduce((s, x) => s + x.exact, 0) / Math.max(1, all.reduce((s, x) => s + x.spans, 0));
  return rep.goals.valuesToTests.exactAccuracy + rep.goals.dosesToMedications.exactAccuracy + micro;
}

let best: AttributeRules = structuredClone(defaultAttributeRules());
let bestScore = objective(best);
process.stdout.write(`start ${bestScore.toFixed(4)}\n`);
const grid = [0, 0.5, 1, 2, 3, 4, 6, 8];
for (let round = 0; round < 3; round++) {
  let improved = false;
  for (const key of Object.keys(best.costs) as (keyof AttributeCosts)[]) {
    for (const v of grid) {
      const cand = structuredClone(best);
      cand.costs[key] = v;
      const s = objective(cand);
      if (s > bestScore + 1e-9) {
        best = cand;
        bestScore = s;
        improved = true;
        process.stdout.write(`${key}=${v} -> ${s.toFixed(4)}\n`);
      }
    }
  }
  for (let i = 0; i < best.rules.length; i++) {
    for (const prefer of ['left', 'right'] as const) {
      for (const maxWords of [4, 6, 8, 10, 12, 16, 20]) {
        const cand = structuredClone(best);
        cand.rules[i]!.prefer = prefer;
        cand.rules[i]!.maxWords = maxWords;
        const s = objective(cand);
        if (s > bestScore + 1e-9) {
          best = cand;
          bestScore = s;
          improved = true;
          process.stdout.write(`${cand.rules[i]!.label} prefer=${prefer} maxWords=${maxWords} -> ${s.toFixed(4)}\n`);
        }
      }
    }
  }
  if (!improved) break;
}
process.stdout.write(`${JSON.stringify({ rules: best.rules, costs: best.costs }, null, 2)}\n`);
