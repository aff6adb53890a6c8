/**
 * HL7 v2 pass-through values mapped to what FHIR R4 validators accept (pure):
 * identifier types to v2-0203, document types (TXA-2, table 0270) to LOINC
 * where the equivalent is certain plus the v2-0270 coding itself, and checks
 * that an identifier system is usable (a well-formed OID of an assigning
 * authority, a UUID or an absolute URI).
 */

export const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
export const V2_0270 = 'http://terminology.hl7.org/CodeSystem/v2-0270';
export const LOINC = 'http://loinc.org';

/** v2-0203 codes we pass on (the common patient/visit identifier types), with THO's display. */
const IDENTIFIER_TYPES: Record<string, string> = {
  MR: 'Medical record number',
  PI: 'Patient internal identifier',
  PT: 'Patient external identifier',
  AN: 'Account number',
  VN: 'Visit number',
  SS: 'Social Security number',
  DL: "Driver's license number",
  PPN: 'Passport number',
  NI: 'National unique individual identifier',
  NH: 'National Health Plan Identifier',
  JHN: 'Jurisdictional health number (Canada)',
  MC: 'Patient\'s Medicare number',
  MA: 'Patient Medicaid number',
  SB: 'Social Beneficiary Identifier',
  PN: 'Person number',
  EN: 'Employer number',
  U: 'Unspecified identifier',
};

/** Senders' variants of a v2-0203 code. */
const IDENTIFIER_TYPE_ALIASES: Record<string, string> = { MRN: 'MR', SSN: 'SS', PID: 'PI', VISIT: 'VN', ACCT: 'AN', PASSPORT: 'PPN' };

/** The v2-0203 coding for a sender's identifier type code, or undefined when it is not one we can name. */
export function identifierTypeCoding(code: string): { system: string; code: string } | undefined {
  const c = code.trim().toUpperCase();
  const mapped = IDENTIFIER_TYPES[c] !== undefined ? c : IDENTIFIER_TYPE_ALIASES[c];
  return mapped ? { system: V2_0203, code: mapped } : undefined;
}

/**
 * Whether an identifier system can be passed on: an absolute http(s) URL, a urn:uuid, or a
 * urn:oid with at least three arcs (a well-formed OID below the top-level arcs; "urn:oid:1.2",
 * the ISO member-body arc, names no assigning authority), or another absolute URI.
 */
export function usableIdentifierSystem(system: string): boolean {
  if (/^urn:oid:/i.test(system)) {
    const oid = system.slice('urn:oid:'.length);
    return /^[0-2](\.(0|[1-9]\d*))+$/.test(oid) && oid.split('.').length >= 3 && (oid[0] === '2' || Number(oid.split('.')[1]) <= 39);
  }
  if (/^urn:uuid:/i.test(system)) return /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(system);
  if (/^https?:\/\//i.test(system)) {
    try {
      return new URL(system).hostname !== '';
    } catch {
      return false;
    }
  }
  // another absolute URI (urn:..., a sender's own scheme); a bare name such as "GENHOSP" is not one
  return /^[a-z][a-z0-9+.-]*:[^\s]+$/i.test(system);
}

/** Whether an identifier value can be passed on (FHIR string: not empty, not only whitespace). */
export function usableIdentifierValue(value: string | undefined): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/**
 * HL7 v2 table 0270 (document type, TXA-2) -> LOINC document codes, only where the LOINC
 * document ontology code is the unambiguous equivalent. The others keep only the v2-0270 coding.
 */
const DOCUMENT_TYPE_LOINC: Record<string, { code: string; display: string }> = {
  DS: { code: '18842-5', display: 'Discharge summary' },
  HP: { code: '34117-2', display: 'History and physical note' },
  CN: { code: '11488-4', display: 'Consult note' },
  PR: { code: '11506-3', display: 'Progress note' },
  OP: { code: '11504-8', display: 'Surgical operation note' },
  PN: { code: '28570-0', display: 'Procedure note' },
};

/** Codes of v2-0270 (HL7 Terminology), with THO's display. */
const V2_0270_CODES: Record<string, string> = {
  AR: 'Autopsy report',
  CD: 'Cardiodiagnostics',
  CN: 'Consultation',
  DI: 'Diagnostic imaging',
  DS: 'Discharge summary',
  ED: 'Emergency department report',
  HP: 'History and physical examination',
  OP: 'Operative report',
  PC: 'Psychiatric consultation',
  PH: 'Psychiatric history and physical examination',
  PN: 'Procedure note',
  PR: 'Progress note',
  SP: 'Surgical pathology',
  TS: 'Transfer summary',
};

/**
 * DocumentReference.type from a document type without a code system (HL7 v2 TXA-2): the LOINC
 * coding where certain, the v2-0270 coding when the code is in that table (no display: the
 * sender's display goes to text), else only text. Undefined when there is nothing to say.
 */
export function documentTypeConcept(code: string | undefined, display: string | undefined): { coding?: { system: string; code: string; display?: string }[]; text?: string } | undefined {
  const c = code?.trim().toUpperCase() ?? '';
  const coding: { system: string; code: string; display?: string }[] = [];
  const loinc = DOCUMENT_TYPE_LOINC[c];
  if (loinc) coding.push({ system: LOINC, code: loinc.code, display: loinc.display });
  if (V2_0270_CODES[c] !== undefined) coding.push({ system: V2_0270, code: c });
  const text = display?.trim() || (coding.length === 0 && c !== '' ? code!.trim() : undefined);
  if (coding.length === 0 && !text) return undefined;
  return { ...(coding.length > 0 ? { coding } : {}), ...(text ? { text } : {}) };
}
