/**
 * The NLP stack on top of the NER engine, built in one place so that the worker, `medner extract`,
 * `medner verify`, `medner eval` and the clinical check set agree: model -> label consistency (drug
 * spans the terminology or a procedure list contradicts, src/nlp/label-consistency.ts) -> dictionary (disorders the
 * model missed, where the label mapping has a `dictionary` block) -> attribute words (severity, route
 * and frequency words the model missed, src/nlp/attribute-words.ts, for a mapping that has their
 * labels) -> linking (where the mapping and LINKING ask). Assertions and attributes run after this,
 * per document, as before.
 */
import type { Entity } from '../core/entity.ts';
import { linkSettingsFor, mappingLinks, type LabelMapping } from '../fhir/label-mapping.ts';
import { sharedGazetteer } from '../nlp/dictionary/gazetteer.ts';
import { withDictionary } from '../nlp/dictionary/with-dictionary.ts';
import { defaultAttributeRules } from '../nlp/attributes.ts';
import { tagAttributeWords } from '../nlp/attribute-words.ts';
import { withEntityStep } from '../nlp/entity-step.ts';
import { tableNameKinds, withLabelConsistency } from '../nlp/label-consistency.ts';
import { withLinking } from '../nlp/linking/link-entities.ts';
import { Linker } from '../nlp/linking/linker.ts';
import { sharedTerminology } from '../nlp/linking/tables.ts';

export interface NlpStackOptions {
  /** Link entities when the mapping asks (default true; LINKING=false turns it off). */
  linking?: boolean;
  /** A linker already built (the worker builds one per process); else one over `terminologyDir`'s tables. */
  linker?: Linker;
  /** The terminology tables folder (default terminology/). */
  terminologyDir?: string | undefined;
  /** Fill in from the disorder dictionary when the mapping has a `dictionary` block (default true). */
  dictionary?: boolean;
  /** Relabel drug spans the terminology or the procedure list contradicts (src/nlp/label-consistency.ts; default true). */
  labelConsistency?: boolean;
  /** Tag the closed-class attribute words of the mapping's labels (src/nlp/attribute-words.ts; default true). */
  attributeWords?: boolean;
}

export function withNlpStack<T extends { extract(texts: string[]): Promise<Entity[][]> }>(engine: T, mapping: LabelMapping, opts: NlpStackOptions = {}): T {
  let e = engine;
  const lc = defaultAttributeRules().labelConsistency;
  const labels = new Set(Object.keys(mapping.labels));
  if (lc && opts.labelConsistency !== false && lc.from.some((l) => labels.has(l)) && (labels.has(lc.diseaseTo) || labels.has(lc.procedureTo))) {
    e = withLabelConsistency(e, labels.has(lc.diseaseTo) ? tableNameKinds(opts.linker?.tables ?? sharedTerminology(opts.terminologyDir)) : undefined, labels);
  }
  if (mapping.dictionary && opts.dictionary !== false) e = withDictionary(e, sharedGazetteer(opts.terminologyDir), mapping.dictionary);
  const rules = defaultAttributeRules();
  const words = (rules.words ?? []).filter((w) => labels.has(w.label));
  if (words.length > 0 && opts.attributeWords !== false) {
    const ctx = { ...rules, words };
    e = withEntityStep(e, (text, entities) => tagAttributeWords(text, entities, ctx));
  }
  if (opts.linking !== false && mappingLinks(mapping)) e = withLinking(e, opts.linker ?? new Linker(sharedTerminology(opts.terminologyDir)), linkSettingsFor(mapping));
  return e;
}
