/**
 * An entity found by the NER engine. Invariant: text === document.text.slice(start, end).
 * Offsets are UTF-16 code units into ClinicalDocument.text.
 */
export interface Entity {
  start: number;
  end: number;
  text: string;
  /** Label without BIO prefix, e.g. "Disease", "Chemical". */
  label: string;
  /** Aggregated softmax score in [0, 1]. */
  score: number;
}

export type Aggregation = 'first' | 'simple' | 'average' | 'max';

/** What the note says about a mention (assigned after NER by the assertion rules). */
export interface Assertion {
  negated: boolean;
  uncertain: boolean;
  hypothetical: boolean;
  historical: boolean;
  experiencer: 'patient' | 'family' | 'other';
  /** The trigger phrases that fired, for explainability (not patient text: fixed vocabulary). */
  triggers: string[];
}

export interface AssertedEntity extends Entity {
  assertion: Assertion;
}

/** The identity of the model that produced entities; goes into FHIR meta.tag, Device and Provenance. */
export interface ModelInfo {
  name: string;
  version: string;
}
