/**
 * The stages a document passes through, as named in dead-letter records (`stage`),
 * job failures and errors: intake (bytes -> ClinicalDocuments), inference (NER and
 * the NLP rules), output (the configured outputs: FHIR server, output topic, files).
 */
export const STAGES = ['intake', 'inference', 'output'] as const;

export type Stage = (typeof STAGES)[number];

/** The stages a queued job can fail in (intake happens before a job exists). */
export type JobStage = Exclude<Stage, 'intake'>;

export function isStage(v: unknown): v is Stage {
  return typeof v === 'string' && (STAGES as readonly string[]).includes(v);
}
