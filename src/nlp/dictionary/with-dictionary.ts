/**
 * The dictionary fallback in the NLP stage: disorders the model missed, filled in from the disorder
 * dictionary (gazetteer.ts) where the model's label-mapping.json has a `dictionary` block. A dictionary
 * span is added only where it overlaps no entity of the model (any label): the model's own spans always
 * win. Added entities carry `source: "dictionary"` and the block's score; the linker and the assertion
 * rules then treat them like any other (model -> dictionary -> linking -> assertions).
 *
 * With `extend` in the block, a dictionary name also completes a disorder the model found in part:
 * where a name covers a model span of an `extend.from` label ("[thrombosis]" in "deep vein
 * thrombosis", "[myocardial]" in "myocardial infarction") and every model span it overlaps lies
 * inside it and has an `extend.from` or `extend.over` label ("[acute]Detailed_description [kidney
 * injury]"), those spans become the one name: the block's label, the highest score among the
 * disorder spans it replaces, `source: "dictionary"`. The code then belongs to the whole name (acute
 * kidney injury N17, not kidney injury). Spans of an `extend.keep` label inside the name may be there
 * too and stay, nested in it ("[deep vein]Biological_structure" stays the body site of "deep vein
 * thrombosis"), unless they are a disorder name themselves ("[otitis] media": the model's mistake, no
 * body site); a name around such spans alone is added as well ("[urinary] tract infection").
 * Pure: the same text, entities and dictionary give the same entities.
 */
import type { Entity } from '../../core/entity.ts';
import { nameKey, type Gazetteer } from './gazetteer.ts';
import { withEntityStep, type EntityExtractor } from '../entity-step.ts';

/** A label mapping's `dictionary` block (schemas/label-mapping.schema.json). */
export interface DictionaryFill {
  /** The label the added entities get (e.g. Disease_disorder). */
  label: string;
  /** Their score (default 0.5: a dictionary hit is no model probability). */
  score?: number;
  /** Complete the model's partial disorders to a dictionary name (see above). Absent: never. */
  extend?: { from: string[]; over: string[]; keep?: string[] };
}

export const DEFAULT_DICTIONARY_SCORE = 0.5;

/** The entities with the dictionary's spans that overlap none of them added, in text order. */
export function fillFromDictionary(gazetteer: Gazetteer, text: string, entities: Entity[], fill: DictionaryFill): Entity[] {
  const hits = gazetteer.match(text);
  if (hits.length === 0) return entities;
  const from = new Set(fill.extend?.from ?? []);
  const over = new Set(fill.extend?.over ?? []);
  const keep = new Set(fill.extend?.keep ?? []);
  const added: Entity[] = [];
  const replaced = new Set<Entity>();
  for (const h of hits) {
    const overlapping = entities.filter((e) => e.start < h.end && h.start < e.end);
    if (overlapping.length === 0) {
      added.push({ start: h.start, end: h.end, text: text.slice(h.start, h.end), label: fill.label, score: fill.score ?? DEFAULT_DICTIONARY_SCORE, source: 'dictionary' });
      continue;
    }
    if (from.size === 0) continue;
    const inside = overlapping.every((e) => e.start >= h.start && e.end <= h.end && (from.has(e.label) || over.has(e.label) || keep.has(e.label)));
    const disorders = overlapping.filter((e) => from.has(e.label));
    // A strictly longer name than what the model found.
    // Around a disorder of the model's, or around body structures only ("[urinary] tract infection").
    if (!inside || (disorders.length === 0 && !overlapping.every((e) => keep.has(e.label)))) continue;
    if (overlapping.length === 1 && overlapping[0]!.start === h.start && overlapping[0]!.end === h.end) continue;
    // A kept span that is a disorder name itself ("[otitis]Biological_structure media") is no body site.
    for (const e of overlapping) if (!keep.has(e.label) || gazetteer.has(nameKey(e.text))) replaced.add(e);
    const score = disorders.length > 0 ? Math.max(...disorders.map((e) => e.score)) : (fill.score ?? DEFAULT_DICTIONARY_SCORE);
    added.push({ start: h.start, end: h.end, text: text.slice(h.start, h.end), label: fill.label, score, source: 'dictionary' });
  }
  if (added.length === 0) return entities;
  return [...entities.filter((e) => !replaced.has(e)), ...added].sort((a, b) => a.start - b.start || a.end - b.end);
}

/** An NER port whose entities come back with the dictionary's disorders filled in. */
export function withDictionary<T extends EntityExtractor>(engine: T, gazetteer: Gazetteer, fill: DictionaryFill): T {
  return withEntityStep(engine, (text, entities) => fillFromDictionary(gazetteer, text, entities, fill));
}
