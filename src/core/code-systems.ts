/** Code systems both the linker (src/nlp/linking) and the FHIR mapping (src/fhir) name. */

export const ICD10CM_SYSTEM = 'http://hl7.org/fhir/sid/icd-10-cm';
