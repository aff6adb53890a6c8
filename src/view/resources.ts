/**
 * Pure readers of what medner writes (src/fhir/document-output.ts): the derivation-reference
 * extensions (one or several per resource: merged mentions, attribute spans), the score and
 * assertion extensions, the concept, its codes, status and value. Unknown resource types are
 * read with the same generic rules and shown under their own type name.
 */
import type * as fhir4 from 'fhir/r4.js';
import { HL7, URI } from '../fhir/uris.ts';

export interface SpanView {
  /** Stable across pages (an HTML id): `${resourceType}-${resourceId}-${extensionIndex}`. */
  id: string;
  resourceKey: string;
  /** Position of this extension among the resource's derivation-reference extensions. */
  index: number;
  /** "mention" or the attribute kind the extension names (value, dose, ...). */
  role: string;
  start: number;
  end: number;
  /** The source document reference ("DocumentReference/x", possibly versioned). */
  reference?: string;
  path?: string;
}

export interface CodeView {
  system?: string;
  code?: string;
  display?: string;
}

export interface ResourceView {
  /** "Type/id" */
  key: string;
  resourceType: string;
  id: string;
  /** What the note said (code.text), else a coding display. */
  text: string;
  codes: CodeView[];
  score?: number;
  /** Assertion flags that fired (negated, uncertain, historical, family, and any new ones). */
  assertions: string[];
  /** verificationStatus (Condition, AllergyIntolerance) or status. */
  status?: string;
  /** Observation value or MedicationStatement dosage, as text. */
  value?: string;
  /** Numeric Observation value with its unit, for trends. */
  quantity?: { value: number; unit?: string };
  relationship?: string;
  date?: string;
  /** entered-in-error: retracted by a later version of its document. */
  retracted: boolean;
  spans: SpanView[];
  /** Raw subject/patient reference. */
  subject?: string;
}

type Any = Record<string, unknown>;

function cc(x: unknown): fhir4.CodeableConcept | undefined {
  return x && typeof x === 'object' ? (x as fhir4.CodeableConcept) : undefined;
}

/** The resource's concept: code, medicationCodeableConcept, condition[0].code, vaccineCode, substance. */
export function conceptOf(r: fhir4.Resource): fhir4.CodeableConcept | undefined {
  const a = r as unknown as Any;
  const cond = Array.isArray(a.condition) ? (a.condition[0] as Any | undefined) : undefined;
  return cc(a.code) ?? cc(a.medicationCodeableConcept) ?? cc(cond?.code) ?? cc(a.vaccineCode) ?? cc(a.substance) ?? undefined;
}

export function statusOf(r: fhir4.Resource): string | undefined {
  const a = r as unknown as Any;
  const vs = cc(a.verificationStatus)?.coding?.[0]?.code;
  if (vs) return vs;
  return typeof a.status === 'string' ? a.status : undefined;
}

function quantityText(q: fhir4.Quantity | undefined): string | undefined {
  if (!q || q.value === undefined) return undefined;
  const unit = q.unit ?? q.code;
  return `${q.comparator ?? ''}${q.value}${unit ? ` ${unit}` : ''}`;
}

function valueText(a: Any): string | undefined {
  const q = quantityText(a.valueQuantity as fhir4.Quantity | undefined);
  if (q) return q;
  if (typeof a.valueString === 'string') return a.valueString;
  if (typeof a.valueInteger === 'number') return String(a.valueInteger);
  if (typeof a.valueBoolean === 'boolean') return String(a.valueBoolean);
  const c = cc(a.valueCodeableConcept);
  if (c) return c.text ?? c.coding?.[0]?.display ?? c.coding?.[0]?.code;
  const range = a.valueRange as fhir4.Range | undefined;
  if (range && (range.low || range.high)) return `${quantityText(range.low) ?? ''}–${quantityText(range.high) ?? ''}`;
  return undefined;
}

export function valueOf(r: fhir4.Resource): string | undefined {
  const a = r as unknown as Any;
  const own = valueText(a);
  const comps = Array.isArray(a.component)
    ? (a.component as Any[])
        .map((c) => {
          const v = valueText(c);
          const name = cc(c.code)?.text ?? cc(c.code)?.coding?.[0]?.display;
          return v ? (name ? `${name} ${v}` : v) : undefined;
        })
        .filter((x): x is string => !!x)
    : [];
  const dosage = Array.isArray(a.dosage) ? (a.dosage as fhir4.Dosage[]).map((d) => d.text).filter((t): t is string => !!t) : [];
  const parts = [own, ...comps, ...dosage].filter((x): x is string => !!x);
  return parts.length > 0 ? parts.join('; ') : undefined;
}

function dateOf(a: Any): string | undefined {
  for (const k of ['effectiveDateTime', 'recordedDate', 'dateAsserted', 'recordedDate', 'date', 'performedDateTime', 'onsetDateTime']) {
    if (typeof a[k] === 'string') return a[k] as string;
  }
  return undefined;
}

/** Every derivation-reference extension of a resource, in order. */
export function spansOf(r: fhir4.DomainResource, resourceIndex: number): SpanView[] {
  const out: SpanView[] = [];
  const key = `${r.resourceType}/${r.id ?? ''}`;
  let index = 0;
  for (const ext of r.extension ?? []) {
    if (ext.url !== HL7.derivationReference) continue;
    let offset: number | undefined;
    let length: number | undefined;
    let reference: string | undefined;
    let path: string | undefined;
    let role: string | undefined;
    for (const sub of ext.extension ?? []) {
      if (sub.url === 'offset') offset = sub.valueInteger;
      else if (sub.url === 'length') length = sub.valueInteger;
      else if (sub.url === 'reference') reference = sub.valueReference?.reference;
      else if (sub.url === 'path') path = sub.valueString;
      else role ??= sub.valueCode ?? sub.valueString ?? sub.valueCoding?.code;
    }
    const i = index++;
    if (offset === undefined || length === undefined || offset < 0 || length < 0) continue;
    out.push({
      id: `${r.resourceType}-${r.id ?? resourceIndex}-${i}`,
      resourceKey: key,
      index: i,
      role: role ?? 'mention',
      start: offset,
      end: offset + length,
      ...(reference ? { reference } : {}),
      ...(path ? { path } : {}),
    });
  }
  return out;
}

export function readResource(r: fhir4.Resource, resourceIndex: number): ResourceView {
  const a = r as unknown as Any;
  const dr = r as fhir4.DomainResource;
  const concept = conceptOf(r);
  const codes: CodeView[] = (concept?.coding ?? []).map((c) => ({
    ...(c.system ? { system: c.system } : {}),
    ...(c.code ? { code: c.code } : {}),
    ...(c.display ? { display: c.display } : {}),
  }));
  const exts = dr.extension ?? [];
  const scoreExt = exts.find((e) => e.url === URI.nlpScore);
  const assertions = [...new Set(exts.filter((e) => e.url === URI.nlpAssertion && e.valueCode).map((e) => e.valueCode!))];
  const status = statusOf(r);
  const rel = cc(a.relationship);
  const qty = a.valueQuantity as fhir4.Quantity | undefined;
  const value = valueOf(r);
  const date = dateOf(a);
  const subject = ((a.subject ?? a.patient) as fhir4.Reference | undefined)?.reference;
  return {
    key: `${r.resourceType}/${r.id ?? ''}`,
    resourceType: r.resourceType,
    id: r.id ?? '',
    text: concept?.text ?? codes[0]?.display ?? codes[0]?.code ?? '',
    codes,
    ...(typeof scoreExt?.valueDecimal === 'number' ? { score: scoreExt.valueDecimal } : {}),
    assertions,
    ...(status ? { status } : {}),
    ...(value ? { value } : {}),
    ...(qty && typeof qty.value === 'number' ? { quantity: { value: qty.value, ...(qty.unit ?? qty.code ? { unit: (qty.unit ?? qty.code)! } : {}) } } : {}),
    ...(rel ? { relationship: rel.coding?.[0]?.display ?? rel.text ?? rel.coding?.[0]?.code ?? '' } : {}),
    ...(date ? { date } : {}),
    retracted: status === 'entered-in-error',
    spans: spansOf(dr, resourceIndex),
    ...(subject ? { subject } : {}),
  };
}

/** "Type/id" without a version: references in Provenance may be versioned. */
export function unversioned(reference: string): string {
  return reference.replace(/\/_history\/[^/]+$/, '');
}
