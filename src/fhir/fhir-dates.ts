/**
 * FHIR date types from the ISO 8601 strings of ClinicalDocument. A dateTime
 * with a time SHALL carry a zone; an instant needs seconds and a zone. We
 * never guess a zone: a time without one is cut back to its date.
 */

const FULL = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/;
const PARTIAL = /^\d{4}(-\d{2}(-\d{2})?)?$/;

/** A valid FHIR dateTime, or undefined. */
export function fhirDateTime(s: string | undefined): string | undefined {
  if (!s) return undefined;
  if (PARTIAL.test(s)) return s;
  const m = FULL.exec(s);
  if (!m) return undefined;
  if (!m[4]) return m[1];
  return `${m[1]}T${m[2]}${m[3] ?? ':00'}${m[4]}`;
}

/** A valid FHIR instant (seconds and zone), or undefined when the input has no zone. */
export function fhirInstant(s: string | undefined): string | undefined {
  if (!s) return undefined;
  if (/^\d{10,}$/.test(s)) return new Date(Number(s)).toISOString(); // Kafka timestamps are epoch milliseconds
  const m = FULL.exec(s);
  if (!m || !m[4]) return undefined;
  return `${m[1]}T${m[2]}${m[3] ?? ':00'}${m[4]}`;
}
