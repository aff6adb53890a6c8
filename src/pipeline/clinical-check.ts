import { readFileSync } from 'node:fs';
import type * as fhir4 from 'fhir/r4.js';
import type { ClinicalDocument } from '../core/clinical-document.ts';
import { attachAttributes } from '../nlp/attributes.ts';
import type { Entity, ModelInfo } from '../core/entity.ts';
import { MednerError } from '../core/errors.ts';
import { buildDocumentTransaction } from '../fhir/document-output.ts';
import type { LabelMapping } from '../fhir/label-mapping.ts';
import { URI } from '../fhir/uris.ts';
import { assertEntities } from '../nlp/assertions.ts';

/**
 * The clinical check set (test/fixtures/clinical-check/sentences.json): sentences with gold
 * entities and the FHIR outcome expected. A check names a resource type and the mention's text
 * (`code`: code.text, medicationCodeableConcept.text or FamilyMemberHistory.condition.code.text,
 * compared case-insensitively; a predicted span may differ by one word at either end) and the
 * fields it must have; `absent` checks that no resource of that type has that text. A check is
 * right when one resource of the type with that text has every field given.
 */

export interface ExpectedCheck {
  type?: 'Observation' | 'Condition' | 'MedicationStatement' | 'Procedure' | 'FamilyMemberHistory';
  absent?: 'Observation' | 'Condition' | 'MedicationStatement' | 'Procedure' | 'FamilyMemberHistory';
  code: string;
  quantity?: { value: number; code?: string };
  valueString?: string;
  components?: [number, number];
  interpretation?: string;
  category?: string;
  categoryText?: string;
  bodySite?: string;
  severity?: string;
  verification?: string;
  status?: string;
  historical?: boolean;
  relationship?: string;
  dose?: { value: number; code: string };
  route?: string;
  timing?: { frequency: number; period: number; periodUnit: string; when?: string };
  asNeeded?: boolean;
  dosageText?: string;
}

export interface CheckSentence {
  id: string;
  text: string;
  /** [text, label] in text order; each is searched after the previous one. */
  entities: [string, string][];
  checks: ExpectedCheck[];
}

export const CHECK_SET_FILE = new URL('../../test/fixtures/clinical-check/sentences.json', import.meta.url);

export function loadCheckSet(file: URL | string = CHECK_SET_FILE): CheckSentence[] {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { sentences?: CheckSentence[] };
  if (!Array.isArray(raw.sentences)) throw new MednerError('DATA_INVALID', `check set ${String(file)}: no sentences array`);
  return raw.sentences;
}

/** The gold entities of a sentence with offsets; throws when a span is not in the text. */
export function goldEntities(s: CheckSentence): Entity[] {
  let from = 0;
  return s.entities.map(([text, label]) => {
    const start = s.text.indexOf(text, from);
    if (start < 0) throw new MednerError('DATA_INVALID', `check set ${s.id}: "${text}" not found after offset ${from}`);
    from = start + text.length;
    return { start, end: start + text.length, text, label, score: 1 };
  });
}

/** A ClinicalDocument for a check sentence (FHIR-sourced, fixed patient), so the output is deterministic. */
export function checkDocument(s: CheckSentence): ClinicalDocument {
  return {
    id: `clinical-check-${s.id}`,
    format: 'fhir',
    messageType: 'DocumentReference',
    patient: { reference: 'Patient/clinical-check' },
    date: '2026-01-15T10:00:00Z',
    status: 'current',
    lifecycle: { action: 'original' },
    sourceReference: `DocumentReference/clinical-check-${s.id}`,
    source: { kind: 'file', path: 'clinical-check', index: 0 },
    text: s.text,
    segments: [{ start: 0, end: s.text.length, origin: 'content[0]' }],
  };
}

/** Entities (from gold or a model) -> attributes -> the derived resources of the sentence. */
export function resourcesFor(s: CheckSentence, entities: Entity[], mapping: LabelMapping, model: ModelInfo): fhir4.Resource[] {
  const doc = checkDocument(s);
  const withAttributes = attachAttributes(doc.text, entities);
  const out = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, withAttributes), model, mapping });
  return (out.bundle.entry ?? []).map((e) => e.resource!).filter((r) => ['Observation', 'Condition', 'MedicationStatement', 'Procedure', 'FamilyMemberHistory'].includes(r.resourceType));
}

const norm = (s: string | undefined): string => (s ?? '').toLowerCase().replace(/[\s]+/g, ' ').replace(/^[\s.,;:]+|[\s.,;:]+$/g, '');

/** Same text, or differing by one word at either end ("serum potassium" for "potassium"). */
export function sameMention(expected: string, actual: string | undefined): boolean {
  const e = norm(expected);
  const a = norm(actual);
  if (a === '' || e === '') return false;
  if (a === e) return true;
  const [short, long] = a.length < e.length ? [a, e] : [e, a];
  const sw = short.split(' ');
  const lw = long.split(' ');
  if (lw.length - sw.length !== 1) return false;
  return lw.slice(1).join(' ') === short || lw.slice(0, -1).join(' ') === short;
}

function mentionOf(r: fhir4.Resource): string | undefined {
  const x = r as { code?: fhir4.CodeableConcept; medicationCodeableConcept?: fhir4.CodeableConcept; condition?: { code?: fhir4.CodeableConcept }[] };
  return (x.code ?? x.medicationCodeableConcept ?? x.condition?.[0]?.code)?.text;
}

/** The fields of a check that a resource does not have (empty: the resource satisfies it). */
export function mismatches(c: ExpectedCheck, r: fhir4.Resource): string[] {
  const bad: string[] = [];
  const want = (name: string, ok: boolean): void => {
    if (!ok) bad.push(name);
  };
  type Loose = Omit<fhir4.Observation, 'resourceType' | 'status' | 'category' | 'bodySite'> &
    Omit<fhir4.Condition, 'resourceType' | 'category' | 'bodySite'> &
    Omit<fhir4.MedicationStatement, 'resourceType' | 'status' | 'category'> &
    Omit<fhir4.FamilyMemberHistory, 'resourceType' | 'status'> & {
      status?: string;
      category?: fhir4.CodeableConcept | fhir4.CodeableConcept[];
      bodySite?: fhir4.CodeableConcept | fhir4.CodeableConcept[];
    };
  const o = r as unknown as Loose;
  if (c.quantity) want('quantity', o.valueQuantity?.value === c.quantity.value && (c.quantity.code === undefined || o.valueQuantity?.code === c.quantity.code));
  if (c.valueString !== undefined) want('valueString', norm(o.valueString) === norm(c.valueString));
  if (c.components) want('components', o.component?.[0]?.valueQuantity?.value === c.components[0] && o.component?.[1]?.valueQuantity?.value === c.components[1] && o.component?.[0]?.valueQuantity?.code === 'mm[Hg]');
  if (c.interpretation) want('interpretation', (o.interpretation ?? []).some((cc) => cc.coding?.some((x) => x.code === c.interpretation)));
  const cats = (Array.isArray(o.category) ? o.category : o.category ? [o.category] : []) as fhir4.CodeableConcept[];
  if (c.category) want('category', cats.some((cc) => cc.coding?.some((x) => x.code === c.category)));
  if (c.categoryText) want('categoryText', cats.some((cc) => norm(cc.text) === norm(c.categoryText)));
  if (c.bodySite) {
    const sites = (Array.isArray(o.bodySite) ? o.bodySite : o.bodySite ? [o.bodySite] : []) as fhir4.CodeableConcept[];
    want('bodySite', sites.some((s) => sameMention(c.bodySite!, s.text)));
  }
  if (c.severity) want('severity', norm(o.severity?.text) === norm(c.severity));
  if (c.verification) want('verification', o.verificationStatus?.coding?.[0]?.code === c.verification);
  if (c.status) want('status', o.status === c.status);
  if (c.historical !== undefined) want('historical', (o.extension ?? []).some((x) => x.url === URI.nlpAssertion && x.valueCode === 'historical') === c.historical);
  if (c.relationship) want('relationship', o.relationship?.coding?.[0]?.code === c.relationship);
  const d = o.dosage?.[0];
  if (c.dose) {
    // An infusion rate ("12 mcg/min") is the dose of its sig too.
    const q = d?.doseAndRate?.[0]?.doseQuantity ?? d?.doseAndRate?.[0]?.rateQuantity;
    want('dose', q?.value === c.dose.value && q?.code === c.dose.code);
  }
  if (c.route) want('route', norm(d?.route?.text) === norm(c.route));
  if (c.timing) {
    const rep = d?.timing?.repeat;
    want('timing', rep?.frequency === c.timing.frequency && rep?.period === c.timing.period && rep?.periodUnit === c.timing.periodUnit && (c.timing.when === undefined || (rep?.when ?? []).includes(c.timing.when as never)));
  }
  if (c.asNeeded !== undefined) want('asNeeded', (d?.asNeededBoolean ?? false) === c.asNeeded);
  if (c.dosageText) want('dosageText', norm(d?.text) === norm(c.dosageText));
  return bad;
}

export interface CheckResult {
  sentence: string;
  check: number;
  kind: string;
  ok: boolean;
  /** Why not: no resource with that text, or the fields that differ on the closest candidate. */
  why?: string;
}

/** Evaluates the checks of one sentence against its resources. */
export function evaluateChecks(s: CheckSentence, resources: fhir4.Resource[]): CheckResult[] {
  return s.checks.map((c, i) => {
    const kind = c.absent ? `absent ${c.absent}` : c.type!;
    if (c.absent) {
      const found = resources.some((r) => r.resourceType === c.absent && sameMention(c.code, mentionOf(r)));
      return { sentence: s.id, check: i, kind, ok: !found, ...(found ? { why: `a ${c.absent} "${c.code}" was made` } : {}) };
    }
    const candidates = resources.filter((r) => r.resourceType === c.type && sameMention(c.code, mentionOf(r)));
    if (candidates.length === 0) {
      const other = resources.find((r) => sameMention(c.code, mentionOf(r)));
      return { sentence: s.id, check: i, kind, ok: false, why: other ? `"${c.code}" became ${other.resourceType}` : `no resource for "${c.code}"` };
    }
    const results = candidates.map((r) => mismatches(c, r));
    const best = results.reduce((a, b) => (b.length < a.length ? b : a));
    return { sentence: s.id, check: i, kind, ok: best.length === 0, ...(best.length ? { why: `wrong ${best.join(', ')}` } : {}) };
  });
}

/** Share right per kind and overall. */
export function summarizeChecks(results: CheckResult[]): { right: number; total: number; share: number; byKind: Record<string, { right: number; total: number }> } {
  const byKind: Record<string, { right: number; total: number }> = {};
  for (const r of results) {
    const k = (byKind[r.kind] ??= { right: 0, total: 0 });
    k.total++;
    if (r.ok) k.right++;
  }
  const right = results.filter((r) => r.ok).length;
  return { right, total: results.length, share: results.length ? right / results.length : 0, byKind };
}
