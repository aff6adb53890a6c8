/**
 * What the notes say about one patient: derived resources grouped by resource type and
 * de-duplicated by concept (the first coding's system|code, else the normalized text; a text
 * that some mention coded joins that code's group). Pure.
 */
import type { ResourceView } from './resources.ts';

export interface Mention {
  view: ResourceView;
  provenanceId: string;
  recorded?: string;
}

export interface ConceptGroup {
  key: string;
  title: string;
  codes: { system?: string; code?: string; display?: string }[];
  mentions: Mention[];
  /** Count per assertion state: "affirmed" when no flag fired, else the flags joined. */
  states: [string, number][];
  /** Numeric values in date order, when every numeric value shares one unit (labs). */
  series?: { date: string; value: number; unit?: string }[];
}

export interface TypeGroup {
  resourceType: string;
  concepts: ConceptGroup[];
}

export const TYPE_ORDER = ['Condition', 'AllergyIntolerance', 'MedicationStatement', 'Observation', 'Procedure', 'FamilyMemberHistory'];

export function normalizeText(s: string): string {
  return s.toLowerCase().normalize('NFKC').replace(/\s+/g, ' ').replace(/^[\s.,;:]+|[\s.,;:]+$/g, '');
}

function codeKey(v: ResourceView): string | undefined {
  const c = v.codes.find((x) => x.code);
  return c ? `${c.system ?? ''}|${c.code}` : undefined;
}

export function summarize(mentions: readonly Mention[]): TypeGroup[] {
  const live = mentions.filter((m) => !m.view.retracted);
  const byType = new Map<string, Mention[]>();
  for (const m of live) byType.set(m.view.resourceType, [...(byType.get(m.view.resourceType) ?? []), m]);
  const types = [...byType.keys()].sort((a, b) => rankOf(a) - rankOf(b) || a.localeCompare(b));
  return types.map((resourceType) => ({ resourceType, concepts: groupConcepts(byType.get(resourceType)!) }));
}

function rankOf(t: string): number {
  const i = TYPE_ORDER.indexOf(t);
  return i < 0 ? TYPE_ORDER.length : i;
}

function groupConcepts(ms: Mention[]): ConceptGroup[] {
  // text -> code key, from the mentions that were coded
  const textToCode = new Map<string, string>();
  for (const m of ms) {
    const k = codeKey(m.view);
    if (!k) continue;
    textToCode.set(normalizeText(m.view.text), k);
    for (const c of m.view.codes) if (c.display) textToCode.set(normalizeText(c.display), textToCode.get(normalizeText(c.display)) ?? k);
  }
  const groups = new Map<string, Mention[]>();
  for (const m of ms) {
    const t = normalizeText(m.view.text);
    const key = codeKey(m.view) ?? textToCode.get(t) ?? `text:${t}`;
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  const out: ConceptGroup[] = [];
  for (const [key, list] of groups) {
    list.sort((a, b) => (b.recorded ?? '').localeCompare(a.recorded ?? ''));
    const coded = list.find((m) => codeKey(m.view));
    const codes = coded ? coded.view.codes : [];
    const texts = new Map<string, number>();
    for (const m of list) texts.set(m.view.text, (texts.get(m.view.text) ?? 0) + 1);
    const commonText = [...texts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? '';
    const title = codes.find((c) => c.display)?.display ?? commonText;
    const states = new Map<string, number>();
    for (const m of list) {
      const s = m.view.assertions.length > 0 ? [...m.view.assertions].sort().join(', ') : 'affirmed';
      states.set(s, (states.get(s) ?? 0) + 1);
    }
    const group: ConceptGroup = { key, title, codes, mentions: list, states: [...states].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])) };
    const numeric = list.filter((m) => m.view.quantity && (m.recorded ?? m.view.date));
    const units = new Set(numeric.map((m) => m.view.quantity!.unit ?? ''));
    if (numeric.length > 0 && units.size === 1) {
      group.series = numeric
        .map((m) => ({ date: (m.view.date ?? m.recorded)!, value: m.view.quantity!.value, ...(m.view.quantity!.unit ? { unit: m.view.quantity!.unit } : {}) }))
        .sort((a, b) => a.date.localeCompare(b.date));
    }
    out.push(group);
  }
  return out.sort((a, b) => b.mentions.length - a.mentions.length || a.title.localeCompare(b.title));
}
