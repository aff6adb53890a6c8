/**
 * The dictionary fallback in the NLP stage: disorders the model missed, filled in from the disorder
 * dictionary (gazetteer.ts) where the model's label-mapping.json has a `dictionary` block. A dictionary
 * span is added only where it overlaps no entity of the model (any label): the model's own spans always
 * win. Added entities carry `source: "dictionary"` and the block's score; the linker and the assertion
 * rules then treat them like any other (model -> dictionary -> linking -> assertions).
 * Pure: the same text, entities and dictionary give the same entities.
 */
import type { Entity } from '../../core/entity.ts';
import type { Gazetteer } from './gazetteer.ts';
import { withEntityStep, type EntityExtractor } from '../entity-step.ts';

/** A label mapping's `dictionary` block (schemas/label-mapping.schema.json). */
export interface DictionaryFill {
  /** The label the added entities get (e.g. Disease_disorder). */
  label: string;
  /** Their score (default 0.5: a dictionary hit is no model probability). */
  score?: number;
}

export const DEFAULT_DICTIONARY_SCORE = 0.5;

/** The entities with the dictionary's spans that overlap none of them added, in text order. */
export function fillFromDictionary(gazetteer: Gazetteer, text: string, entities: Entity[], fill: DictionaryFill): Entity[] {
  const hits = gazetteer.match(text);
  if (hits.length === 0) return entities;
  const added: Entity[] = [];
  for (const h of hits) {
    if (entities.some((e) => e.start < h.end && h.start < e.end)) continue;
    added.push({ start: h.start, end: h.end, text: text.slice(h.start, h.end), label: fill.label, score: fill.score ?? DEFAULT_DICTIONARY_SCORE, source: 'dictionary' });
  }
  if (added.length === 0) return entities;
  return [...entities, ...added].sort((a, b) => a.start - b.start || a.end - b.end);
}

/** An NER port whose entities come back with the dictionary's disorders filled in. */
export function withDictionary<T extends EntityExtractor>(engine: T, gazetteer: Gazetteer, fill: DictionaryFill): T {
  return withEntityStep(engine, (text, entities) => fillFromDictionary(gazetteer, text, entities, fill));
}
