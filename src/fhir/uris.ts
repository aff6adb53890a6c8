/**
 * Every URI we mint, in one place. MEDNER_FHIR_BASE is the canonical base of
 * our extensions, code systems and identifier systems: a deployment sets it to
 * its own namespace with FHIR_CANONICAL_BASE (validated in src/config/config.ts;
 * default below), once: identifiers and tags derive from it, so changing it
 * later gives every resource a new identity. `medner conformance` writes the
 * StructureDefinitions and CodeSystems for it (src/fhir/conformance.ts).
 */
export const DEFAULT_FHIR_CANONICAL_BASE = 'https://medner.example.org/fhir';
export const MEDNER_FHIR_BASE = (process.env.FHIR_CANONICAL_BASE?.trim() || DEFAULT_FHIR_CANONICAL_BASE).replace(/\/+$/, '');

export const URI = {
  /** Extension: the NER model's score for the mention (valueDecimal in [0, 1]). */
  nlpScore: `${MEDNER_FHIR_BASE}/StructureDefinition/nlp-score`,
  /** Extension on a Coding: the terminology linker's score for that code (valueDecimal in [0, 1]). */
  linkScore: `${MEDNER_FHIR_BASE}/StructureDefinition/link-score`,
  /** Extension, repeated: an assertion flag that fired (valueCode negated | uncertain | historical | family). */
  nlpAssertion: `${MEDNER_FHIR_BASE}/StructureDefinition/nlp-assertion`,
  /**
   * meta.tag system repeating each nlp-assertion flag (code negated | uncertain | historical | family | ...): tags are
   * searchable (`_tag`, also chained from Provenance.target), extensions are not. The extension stays the truth: HAPI keeps
   * a resource's old tags when it is updated, so a tag can outlive the flag (the viewer checks the extension).
   */
  assertionTag: `${MEDNER_FHIR_BASE}/CodeSystem/nlp-assertion`,
  /** Extension on Provenance.entity (the source): one per part of the source the run skipped (origin, reason, contentType). */
  skippedPart: `${MEDNER_FHIR_BASE}/StructureDefinition/skipped-part`,
  /** Identifier system of every derived resource (value = sha256 hex, see ids.ts). */
  derivedIdentifier: `${MEDNER_FHIR_BASE}/identifier/derived-resource`,
  /** meta.tag system whose code ties a derived resource to its source document (sha256 hex of the document key). */
  sourceDocumentTag: `${MEDNER_FHIR_BASE}/CodeSystem/source-document`,
  /** meta.tag system for the model: code = "<name>@<version>" (no "|": it would split a token search). */
  modelTag: `${MEDNER_FHIR_BASE}/CodeSystem/nlp-model`,
  /** Identifier system of the Device that stands for a model version (value "<name>@<version>"). */
  deviceIdentifier: `${MEDNER_FHIR_BASE}/identifier/nlp-model`,
  /** meta.tag system whose code names one Provenance (sha256 hex of document key + model): its conditional-update key. */
  provenanceRunTag: `${MEDNER_FHIR_BASE}/CodeSystem/provenance-run`,
  /** Identifier system of documents whose source gave no id system (masterIdentifier.system). */
  documentIdentifier: `${MEDNER_FHIR_BASE}/identifier/document`,
} as const;

/** HL7 URIs we use. */
export const HL7 = {
  derivationReference: 'http://hl7.org/fhir/StructureDefinition/derivation-reference',
  v3ObservationValue: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  v3ObservationInterpretation: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
  v3RoleCode: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode',
  conditionVerStatus: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
  conditionClinical: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  allergyClinical: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
  allergyVerification: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
  conditionCategory: 'http://terminology.hl7.org/CodeSystem/condition-category',
  provenanceParticipantType: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type',
  provenanceActivity: 'http://hl7.org/fhir/w3c-provenance-activity-type',
  provenanceEntityRole: 'http://hl7.org/fhir/provenance-entity-role',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
} as const;
