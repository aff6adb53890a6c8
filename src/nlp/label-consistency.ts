/**
 * Label consistency: drug labels that the terminology or the procedure list contradict
 * (rules.labelConsistency in src/nlp/attribute-rules.json). A span the model labelled a drug
 * whose normalized text the terminology tables know as a disease name and not as a chemical
 * name ("otitis media") becomes a disorder; one whose whole text is a curated procedure word
 * ("hemodialysis", "blood transfusion") becomes a procedure. Either way it then makes a
 * Condition or Procedure, never an active MedicationStatement. A name the tables know as both
 * a disease and a chemical keeps the model's label, and so do short forms ("PE") and a disease name
 * followed by vaccine, virus, toxoid, immunoglobulin, ... ("hepatitis B vaccination"). Two drug spans
 * joined by nothing but a `combineJoiner` ("[amoxicillin]-[clavulanate]", "[piperacillin]/[tazobactam]")
 * are one combination product: one span, so the dose after it belongs to the product and not to its
 * second half; a drug span followed by one that is only a dosage form or salt (`formWords`,
 * `saltWords`: "[albuterol] [inhaler]", "[metoprolol] [tartrate]") is one span too, and a drug span
 * whose last word names a surgical procedure by its suffix (`procedureSuffix`: "hysterectomy", "right lobectomy",
 * labelled a drug or a body structure) becomes a procedure; one that is only a dosage form ("infusion") or a treatment's modifier (`modifierWords`: "[adjuvant] chemotherapy") is dropped: it names no drug. Changed entities get `source: 'rules'`.
 * Runs in the NLP stack before linking (src/pipeline/nlp-engine.ts), so the new label is linked.
 */
import type { Entity } from '../core/entity.ts';
import { defaultAttributeRules, type AttributeRules } from './attributes.ts';
import { compileSigRules, matchAt } from './sig.ts';
import { defaultClinicalAliases } from './linking/aliases.ts';
import { findSections } from './sections.ts';
import { bagKey, exactKey } from './linking/normalize.ts';
import type { TerminologyTables } from './linking/tables.ts';
import { withEntityStep, type EntityExtractor } from './entity-step.ts';

export type LabelConsistencyRules = NonNullable<AttributeRules['labelConsistency']>;

/** What the terminology knows a name as. */
export interface NameKinds {
  disease(text: string): boolean;
  chemical(text: string): boolean;
}

/**
 * The tables' own distinction: a disease name is an exact (normalized) MeSH/OMIM disease name or an
 * ICD-10-CM name of a disease chapter (not V-Z: external causes, factors; "melena" is K92.1); a
 * chemical name matches exactly or in any word order.
 */
export function tableNameKinds(tables: TerminologyTables): NameKinds {
  const d = tables.dictionaries.get('Disease');
  const c = tables.dictionaries.get('Chemical');
  const icdDisease = (t: string): boolean => {
    const m = tables.icdExact.get(exactKey(t));
    return m !== undefined && !/^[V-Z]/.test(m.code);
  };
  return {
    disease: (t) => (d?.exact.has(exactKey(t)) ?? false) || icdDisease(t),
    chemical: (t) => (c ? c.exact.has(exactKey(t)) || c.bag.has(bagKey(t)) : false),
  };
}

const norm = (t: string): string => t.toLowerCase().replace(/\s+/g, ' ').trim();

let shortFormsCache: Set<string> | undefined;
/** The curated clinical aliases the disorder dictionary may match alone (unambiguous short forms: CHF, CKD, AKI). */
function dictionaryShortForms(): Set<string> {
  shortFormsCache ??= new Set(defaultClinicalAliases().filter((a) => a.dictionary).map((a) => norm(a.alias)));
  return shortFormsCache;
}
const wordsIn = (s: string): number => s.match(/[\p{L}\p{N}]+/gu)?.length ?? 0;

/**
 * The entities with rules.labelConsistency applied (pure; the input is not modified). Only the
 * target labels in `labels` are used (the model's label set; default: both).
 */
export function relabelInconsistent(
  text: string,
  entities: readonly Entity[],
  kinds: NameKinds | undefined,
  rules: AttributeRules = defaultAttributeRules(),
  labels?: ReadonlySet<string>,
): Entity[] {
  const lc = rules.labelConsistency;
  if (!lc) return [...entities];
  const from = new Set(lc.from);
  const procedures = new Set(lc.procedures.map(norm));
  const allowed = (l: string): boolean => labels === undefined || labels.has(l);
  const keepBefore = new RegExp(lc.diseaseKeepBefore, 'iu');
  const diseaseOk = (e: Entity): boolean =>
    norm(e.text).length >= lc.diseaseMinLength && !keepBefore.test(text.slice(e.end, e.end + 40)) && kinds!.disease(e.text) && !kinds!.chemical(e.text);
  const suffix = lc.procedureSuffix && allowed(lc.procedureTo) ? { re: new RegExp(`(?:${lc.procedureSuffix.pattern})$`, 'iu'), from: new Set(lc.procedureSuffix.from) } : undefined;
  const dt = lc.diseaseFromTests;
  const testKeep = dt ? { near: new RegExp(dt.keepNear, 'iu'), values: new Set(dt.valueLabels) } : undefined;
  // The disease test, and for short forms a curated unambiguous alias (CHF, CKD, AKI; never PE or MI);
  // a stage or class after the name is part of the disorder ("CKD stage 3").
  const shortForms = dictionaryShortForms();
  const testIsDisease = (e: Entity): boolean => {
    const name = e.text.replace(/\s+(?:stage|class|grade|type)\s+[\p{L}\p{N}]+$/iu, '');
    if (norm(name).length < lc.diseaseMinLength) return shortForms.has(norm(name));
    return diseaseOk({ ...e, text: name });
  };
  // An attribute span on a section header ("[CC]: abdominal pain") would attach to the finding after it.
  const headers = findSections(text);
  const attributeLabels = new Set(rules.rules.map((r) => r.label));
  entities = entities.filter((e) => !(attributeLabels.has(e.label) && headers.some((s) => e.start < s.headerEnd && s.headerStart < e.end)));
  const split = kinds && allowed(lc.diseaseTo) ? splitDashed(text, splitHistoryMarkers(text, entities, rules, labels), kinds, lc) : splitHistoryMarkers(text, entities, rules, labels);
  const merged = combineDrugs(text, mergeAdjacent(text, drugsBeforeDoses(text, split, rules, labels), lc.mergeAdjacent ?? []), lc);
  // A test whose text is a disease name ("AKI", "CKD", "CHF" labelled a test) is the disorder, unless
  // something reads it as a test: a value next to it, or test words around it ("HIV negative", "HIV PCR").
  const readAsTest = (e: Entity): boolean =>
    testKeep!.near.test(`${text.slice(Math.max(0, e.start - 30), e.start)} ${text.slice(e.end, e.end + 30)}`) ||
    merged.some((o) => testKeep!.values.has(o.label) && o.start >= e.end && wordsIn(text.slice(e.end, o.start)) <= dt!.window);
  // In an allergy list a mention that starts an item ("Allergies: Sulfa (hives)") is the substance,
  // whatever label the model gave it, unless the terminology knows it as a disease.
  const sections = lc.allergySubstances ? headers.filter((s) => s.context === 'allergy') : [];
  const itemStart = sections.length > 0 ? new RegExp(lc.allergySubstances!.itemStart, 'u') : undefined;
  const substance = (e: Entity): boolean =>
    sections.some((s) => e.start >= s.start && e.end <= s.end && itemStart!.test(text.slice(s.start, e.start))) &&
    lc.allergySubstances!.from.includes(e.label) &&
    !(kinds?.disease(e.text) ?? false);
  return completeProcedures(text, merged, procedures, lc, allowed).map((e) => {
    if (allowed(lc.from[0]!) && substance(e)) return { ...e, label: lc.from[0]!, source: 'rules' };
    // "hysterectomy", "right lobectomy": a surgical procedure's name, never a drug or a body part.
    if (suffix && suffix.from.has(e.label) && suffix.re.test(e.text.trim())) return { ...e, label: lc.procedureTo, source: 'rules' };
    if (dt && kinds && allowed(lc.diseaseTo) && e.label === dt.from && testIsDisease(e) && !readAsTest(e)) return { ...e, label: lc.diseaseTo, source: 'rules' };
    // A device whose placement is the procedure ("a chest tube was placed"), labelled a body structure.
    if ((lc.procedureAlsoFrom ?? []).includes(e.label) && allowed(lc.procedureTo) && procedures.has(norm(e.text))) return { ...e, label: lc.procedureTo, source: 'rules' };
    if (!from.has(e.label)) return e;
    if (allowed(lc.procedureTo) && procedures.has(norm(e.text))) return { ...e, label: lc.procedureTo, source: 'rules' };
    if (kinds && allowed(lc.diseaseTo) && diseaseOk(e)) return { ...e, label: lc.diseaseTo, source: 'rules' };
    return e;
  });
}

/**
 * A drug order the model left without its drug: an untagged word that starts a list item (line start,
 * or after ',', ';', ':' or 'and') and is followed by a dose and then a route or frequency
 * ("..., [docusate] 100 mg twice daily") names the drug of that order (`drugBeforeDose.label`,
 * source 'rules'). Without it the dose would go to the drug before. Not for a word of
 * `drugBeforeDose.notWords` (verbs of an order: "take", "give"; "dose"), a dosage form or a lab
 * analyte, nor where any entity overlaps the word or a value span the dose. Returns the input
 * when nothing is added.
 */
export function drugsBeforeDoses(text: string, entities: readonly Entity[], rules: AttributeRules = defaultAttributeRules(), labels?: ReadonlySet<string>): Entity[] {
  const rule = rules.labelConsistency?.drugBeforeDose;
  if (!rule || !rules.sig || (labels !== undefined && !labels.has(rule.label))) return [...entities];
  const c = compileSigRules(rules.sig);
  const not = new Set([...rule.notWords, ...(rules.labelConsistency?.formWords ?? []), ...(rules.labAnalytes?.terms ?? [])].map(norm));
  const word = /(?<![\p{L}\p{N}])\p{L}[\p{L}-]{3,}(?![\p{L}\p{N}])/gu;
  const added: Entity[] = [];
  for (let m = word.exec(text); m; m = word.exec(text)) {
    const start = m.index;
    const end = start + m[0].length;
    if (not.has(norm(m[0])) || !/(?:^|[,;:\n]|\band)[ \t]*$/iu.test(text.slice(Math.max(0, start - 40), start))) continue;
    const doseAt = end + (/^[ \t]+/.exec(text.slice(end))?.[0].length ?? 0);
    const doseEnd = doseAt > end ? matchAt(c.dose, text, doseAt) : undefined;
    if (doseEnd === undefined || text[doseEnd] === '/') continue;
    const next = doseEnd + (/^[ \t]+/.exec(text.slice(doseEnd))?.[0].length ?? 0);
    if (next === doseEnd || (matchAt(c.route, text, next) === undefined && matchAt(c.frequency, text, next) === undefined)) continue;
    if (entities.some((e) => (e.start < end && start < e.end) || (e.start < doseEnd && doseAt < e.end && !rule.doseLabels.includes(e.label)))) continue;
    added.push({ start, end, text: m[0], label: rule.label, score: 0.5, source: 'rules' });
  }
  return added.length === 0 ? [...entities] : [...entities, ...added].sort((a, b) => a.start - b.start || a.end - b.end);
}

/**
 * History shorthand inside a span ("[h/o HTN]", "[CAD s/p CABG]"): the marker is no part of the
 * mention. A span that starts with one of `historyMarkers.prefixes` loses it ("HTN"; the assertion
 * rules then read "h/o" before it as history); a span with `historyMarkers.statusPost` inside is two:
 * the part before keeps its label, the part after is a procedure done (`procedureTo`). Only spans of
 * `historyMarkers.labels`. Returns the input when nothing changes.
 */
export function splitHistoryMarkers(text: string, entities: readonly Entity[], rules: AttributeRules = defaultAttributeRules(), labels?: ReadonlySet<string>): Entity[] {
  const hm = rules.labelConsistency?.historyMarkers;
  const procedure = rules.labelConsistency?.procedureTo;
  if (!hm || !procedure || (labels !== undefined && !labels.has(procedure))) return [...entities];
  const only = new Set(hm.labels);
  const prefix = new RegExp(`^(?:${hm.prefixes.join('|')})[ \\t]+(?=\\S)`, 'iu');
  const inside = new RegExp(`[ \\t]+(?:${hm.statusPost.join('|')})[ \\t]+(?=\\S)`, 'iu');
  const out: Entity[] = [];
  let changed = false;
  for (const e of entities) {
    if (!only.has(e.label)) {
      out.push(e);
      continue;
    }
    let start = e.start;
    const p = prefix.exec(e.text);
    if (p) start += p[0].length;
    const rest = text.slice(start, e.end);
    const m = inside.exec(rest);
    const { codes: _codes, ...base } = e;
    if (m && m.index > 0) {
      const cut = start + m.index;
      const after = cut + m[0].length;
      out.push({ ...base, start, end: cut, text: text.slice(start, cut), source: 'rules' }, { ...base, start: after, end: e.end, text: text.slice(after, e.end), label: procedure, source: 'rules' });
      changed = true;
    } else if (start > e.start) {
      out.push({ ...base, start, text: text.slice(start, e.end), source: 'rules' });
      changed = true;
    } else out.push(e);
  }
  return changed ? out.sort((a, b) => a.start - b.start || a.end - b.end) : [...entities];
}

/**
 * A span that is the first words of a curated procedure phrase the text goes on to complete
 * ("[Physical] therapy daily", "[Cardiac] rehabilitation referral") is that procedure: widened over
 * the phrase, `procedureTo`, where no other entity is in the way. Only multi-word phrases of
 * `procedures`. Returns the input when nothing changes.
 */
function completeProcedures(text: string, entities: readonly Entity[], procedures: ReadonlySet<string>, lc: LabelConsistencyRules, allowed: (l: string) => boolean): Entity[] {
  if (!allowed(lc.procedureTo)) return [...entities];
  const phrases = [...procedures].filter((p) => p.includes(' ')).sort((a, b) => b.length - a.length);
  let changed = false;
  const out = entities.map((e) => {
    const head = norm(e.text);
    if (head.includes(' ') && procedures.has(head)) return e;
    for (const p of phrases) {
      if (!p.startsWith(`${head} `)) continue;
      const end = e.start + p.length;
      if (norm(text.slice(e.start, end)) !== p || /[\p{L}\p{N}]/u.test(text.charAt(end))) continue;
      if (entities.some((o) => o !== e && o.start < end && e.end < o.end)) continue;
      changed = true;
      const { codes: _codes, ...base } = e;
      return { ...base, end, text: text.slice(e.start, end), label: lc.procedureTo, source: 'rules' as const };
    }
    return e;
  });
  return changed ? out : [...entities];
}

/**
 * A span with a dash between spaces inside ("[sulfa - rash]", an allergy list's "substance - reaction")
 * is two mentions: each part keeps the span's label unless the terminology knows it only as a disease
 * (`diseaseTo`) or only as a chemical (`from[0]`); an unknown part before a disease is the substance
 * ("sulfa" before "rash"). Only spans of a `from` label or `diseaseTo`. Returns the input when nothing
 * is split.
 */
export function splitDashed(text: string, entities: readonly Entity[], kinds: NameKinds, lc: LabelConsistencyRules): Entity[] {
  const labels = new Set([...lc.from, lc.diseaseTo]);
  const out: Entity[] = [];
  let changed = false;
  for (const e of entities) {
    const parts = labels.has(e.label) ? [...e.text.matchAll(/[^\s–—-](?:.*?[^\s–—-])?(?=\s+[-–—]\s+|$)/gsu)] : [];
    if (parts.length < 2 || parts.map((p) => p[0]).join('').length === 0 || !/\s[-–—]\s/u.test(e.text)) {
      out.push(e);
      continue;
    }
    const { codes: _codes, ...base } = e;
    const kindOf = (t: string): string | undefined => (kinds.disease(t) && !kinds.chemical(t) ? lc.diseaseTo : kinds.chemical(t) && !kinds.disease(t) ? lc.from[0] : undefined);
    const known = parts.map((p) => kindOf(p[0]));
    parts.forEach((p, i) => {
      const start = e.start + p.index!;
      const label = known[i] ?? (known[i + 1] === lc.diseaseTo ? lc.from[0]! : e.label);
      out.push({ ...base, start, end: start + p[0].length, text: p[0], label, source: 'rules' });
    });
    changed = true;
  }
  return changed ? out.sort((a, b) => a.start - b.start || a.end - b.end) : [...entities];
}

/**
 * Two spans of one of `labels` with one space between them are one: the model starts a second span
 * inside a phrase ("[Laparoscopic] [cholecystectomy]", "[markedly] [elevated]"). Returns the input
 * when nothing is merged.
 */
export function mergeAdjacent(text: string, entities: readonly Entity[], labels: readonly string[]): Entity[] {
  if (labels.length === 0) return [...entities];
  const sorted = [...entities].sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Entity[] = [];
  let changed = false;
  for (const e of sorted) {
    const last = out[out.length - 1];
    if (last && last.label === e.label && labels.includes(e.label) && e.start === last.end + 1 && text[last.end] === ' ') {
      const { codes: _codes, ...rest } = last;
      out[out.length - 1] = { ...rest, end: e.end, text: text.slice(last.start, e.end), score: Math.min(last.score, e.score), source: 'rules' };
      changed = true;
    } else out.push(e);
  }
  return changed ? out : [...entities];
}

/** Drug spans joined by nothing but the rules' combineJoiner, or followed by a dosage form word, become one (see above); the input when none are. */
export function combineDrugs(text: string, entities: readonly Entity[], lc: LabelConsistencyRules): Entity[] {
  if (!lc.combineJoiner && !lc.formWords && !lc.saltWords && !lc.modifierWords) return [...entities];
  const joiner = new RegExp(lc.combineJoiner ?? '(?!)', 'u');
  const forms = new Set((lc.formWords ?? []).map(norm));
  const parts = new Set([...forms, ...(lc.saltWords ?? []).map(norm)]);
  const from = new Set(lc.from);
  const sorted = [...entities].sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Entity[] = [];
  let changed = false;
  for (const e of sorted) {
    const last = out[out.length - 1];
    const gap = last ? text.slice(last.end, e.start) : '';
    // The model may keep the joiner inside a span ("[amoxicillin-] [clavulanate]").
    const joinedAt = last !== undefined && gap === '' && (/[-–/]$/.test(last.text) || /^[-–/]/.test(e.text));
    // "[Vitamin] [K]", "[vitamin] [B12]": one drug, not potassium.
    const vitamin = last !== undefined && /^vitamins?$/i.test(last.text) && /^[A-K]\d{0,2}$/.test(e.text) && gap === ' ';
    const joined = last !== undefined && e.start >= last.end && (vitamin || (lc.combineJoiner !== undefined && (joiner.test(gap) || joinedAt)) || (/^[ \t]+$/.test(gap) && parts.has(norm(e.text))));
    if (last && from.has(last.label) && e.label === last.label && joined) {
      out[out.length - 1] = { start: last.start, end: e.end, text: text.slice(last.start, e.end), label: last.label, score: Math.min(last.score, e.score), source: 'rules' };
      changed = true;
    } else out.push(e);
  }
  // A dosage form alone ("infusion", "tablets") or a treatment's modifier alone ("adjuvant") names no drug.
  const modifiers = new Set((lc.modifierWords ?? []).map(norm));
  const kept = out.filter((e) => !(from.has(e.label) && (forms.has(norm(e.text)) || modifiers.has(norm(e.text)))));
  return changed || kept.length < out.length ? kept : [...entities];
}

/** An NER port whose entities come back with relabelInconsistent applied. */
export function withLabelConsistency<T extends EntityExtractor>(
  engine: T,
  kinds: NameKinds | undefined,
  labels: ReadonlySet<string>,
  rules: AttributeRules = defaultAttributeRules(),
): T {
  return withEntityStep(engine, (text, entities) => relabelInconsistent(text, entities, kinds, rules, labels));
}
