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
  /**
   * Spans that qualify this entity, attached by relation (a value to its test, a dose, frequency
   * or route to its drug, a severity or body site to its finding). Absent or empty when none.
   */
  attributes?: EntityAttribute[];
  /** Concept codes from the terminology linker, best first; absent when none was confident. */
  codes?: ConceptCode[];
  /**
   * Where the span comes from when not the NER model (absent: the model): 'rules' when a rule found it
   * or relabelled it: score 1 for a closed-class attribute word (src/nlp/attribute-words.ts), a vital
   * sign's name or value (src/nlp/vital-signs.ts) and a sig after a drug the model gave no dose
   * (src/nlp/sig.ts); the model's score for a label the terminology contradicts
   * (src/nlp/label-consistency.ts); 'dictionary' when the disorder
   * dictionary filled in a disorder the model missed (src/nlp/dictionary; the mapping's score).
   */
  source?: 'rules' | 'dictionary';
}

/** What an attribute span says about the entity it is attached to. */
export type AttributeKind = 'value' | 'dose' | 'frequency' | 'route' | 'severity' | 'bodySite' | 'duration';

/** A span attached to an entity. Invariant: text === document.text.slice(start, end). */
export interface EntityAttribute {
  kind: AttributeKind;
  /** The NER label of the attribute span (e.g. "Lab_value", "Dosage"). */
  label: string;
  start: number;
  end: number;
  text: string;
  score: number;
  /** Where the span comes from when not the NER model (see Entity.source). */
  source?: Entity['source'];
}

/** A code the linker gives a mention. */
export interface ConceptCode {
  /** FHIR code system URI, e.g. http://hl7.org/fhir/sid/icd-10-cm. */
  system: string;
  code: string;
  /** Display exactly as in the terminology table. */
  display?: string;
  /** Code system version, e.g. "2022". */
  version?: string;
  /** Linker confidence in [0, 1]. */
  score: number;
}

export type Aggregation = 'first' | 'simple' | 'average' | 'max';

/** What the note says about a mention (assigned after NER by the assertion rules, src/nlp/assertions.ts). */
export interface Assertion {
  negated: boolean;
  uncertain: boolean;
  hypothetical: boolean;
  historical: boolean;
  experiencer: 'patient' | 'family' | 'other';
  /** v3-RoleCode of the relative when experiencer is family (FAMMEMB when the text names none). */
  relationship?: string;
  /** The trigger phrases that fired, for explainability (not patient text: fixed vocabulary). */
  triggers: string[];
  /** Condition.clinicalStatus the text supports (a historical trigger's status, e.g. "history of" -> inactive). */
  clinicalStatus?: 'active' | 'inactive' | 'resolved';
  /** MedicationStatement.status stated by the text ("discontinued" -> stopped, "held" -> on-hold, "start" or a plan -> intended, "continue" -> active). */
  medicationStatus?: 'stopped' | 'on-hold' | 'completed' | 'intended' | 'active';
  /** Set when the mention is a substance in an allergy context ("allergic to", "Allergies:" section). */
  allergy?: 'allergy' | 'intolerance';
  /** AllergyIntolerance.criticality where the text states it ("severe allergy to" -> high). */
  criticality?: 'low' | 'high';
  /** Id of the section the mention is in (src/nlp/sections.json), when a header was recognized. */
  section?: string;
  /** The section's context: a plan section -> intended, a procedures-done list -> performed, ... */
  sectionContext?: string;
}

/** Why the NLP rules say a mention makes no resource (a header word, a trigger word, a fragment, ...). */
export type DropReason = 'header' | 'cue' | 'no-known-allergy' | 'punctuation' | 'digits' | 'stop-words' | 'semantic-tag' | 'normal-finding' | 'notation';

/**
 * What the NLP stage returns for a mention (src/nlp/assertions.ts assertEntities): the entity with
 * its attributes and codes, what the note says about it, and, when the screening rules drop it,
 * why (`dropped`; its assertion is then the neutral one). The FHIR mapping reads these; it runs no
 * NLP rules itself.
 */
export interface AssertedEntity extends Entity {
  assertion: Assertion;
  dropped?: DropReason;
}

/** The identity of the model that produced entities; goes into FHIR meta.tag, Device and Provenance. */
export interface ModelInfo {
  name: string;
  version: string;
}
