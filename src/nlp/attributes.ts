import { readFileSync } from 'node:fs';
import { MednerError } from '../core/errors.ts';
import { schemaErrors, schemaValidator } from '../core/json-schema.ts';
import type { AttributeKind, Entity, EntityAttribute } from '../core/entity.ts';
import { compileSigRules, matchAt, splitSigs, type SigRules } from './sig.ts';
import { compileAttributeWords, tagAttributeWords, type AttributeWordRule } from './attribute-words.ts';
import { compileVitalSigns, tagVitalSigns, type VitalSignRules } from './vital-signs.ts';

/**
 * Attributes by relation: attaches each attribute span (a Lab_value, Dosage, Frequency,
 * Administration, Severity, Biological_structure, ...) to the head entity it qualifies
 * (a Diagnostic_procedure, Medication, Sign_symptom, ...). Rule-based and pure: the rules
 * are data (src/nlp/attribute-rules.json, schemas/attribute-rules.schema.json).
 *
 * For every attribute span, the candidates are the entities with a head label its rule names,
 * in the same sentence and within `maxWords` words. Each candidate gets a cost: the words
 * between the two spans, plus penalties for the non-preferred side, for commas, semicolons and
 * brackets in between, for other heads of the same label in between and for other attribute
 * spans of the same label in between. Pairs are then taken cheapest first, one attribute span
 * to one head, and a head that already has an attribute of the same kind pays `sharedHead`
 * (so "WBC 12,700, ESR 7 and CRP 2.4" gives each test its own value). Finally an attribute
 * distributes over a coordinated list of heads ("WBC, ESR and CRP were normal") to the list
 * members that have no attribute of that kind of their own, except a number written right after
 * (or before) its own test: "RR 18 on the ventilator, SpO2 94%" gives 94% to SpO2 only.
 */

export interface AttributeRule {
  /** NER label of the attribute span (e.g. "Lab_value"). */
  label: string;
  kind: AttributeKind;
  /** NER labels of the entities it may qualify, in order of preference (earlier = cheaper by `labelOrderPenalty`). */
  heads: string[];
  /** Side of the attribute span where its head usually is. */
  prefer: 'left' | 'right';
  /** Words at most between the spans. */
  maxWords: number;
}

export interface AttributeCosts {
  /** Added when the head lies on the side the rule does not prefer. */
  otherSide: number;
  /** Per comma between the spans. */
  comma: number;
  /** Per semicolon, colon or bracket between the spans. */
  strongPunct: number;
  /** Per other entity with a head label of this rule between the spans. */
  headBetween: number;
  /** Per other attribute span of the same label between the spans. */
  attributeBetween: number;
  /** When the head already carries an attribute of this kind. */
  sharedHead: number;
  /** Per position of the head's label in the rule's `heads` list. */
  labelOrderPenalty: number;
  /** Share (0..1) of the words of other attribute spans of the same head (a dose between drug and frequency) not counted as distance. */
  siblingWordDiscount: number;
}

export interface AttributeRules {
  rules: AttributeRule[];
  costs: AttributeCosts;
  /** Regular expression (source) of what ends a sentence; matched against the text between two spans. */
  sentenceBreak: string;
  /** Regular expression (source) of the text allowed between two members of a coordinated list. */
  listSeparator: string;
  /** Lab analytes labelled as drugs ("potassium 5.9 mmol/L") become tests: see relabelLabAnalytes. */
  labAnalytes?: { from: string[]; to: string; window: number; terms: string[]; context: string; valueUnits: string };
  /** Drug labels the terminology (a disease name) or a procedure list contradicts: see src/nlp/label-consistency.ts. */
  labelConsistency?: { from: string[]; diseaseTo: string; procedureTo: string; diseaseMinLength: number; diseaseKeepBefore: string; procedures: string[]; excluded?: Record<string, string>; combineJoiner?: string; formWords?: string[]; saltWords?: string[]; modifierWords?: string[]; mergeAdjacent?: string[]; procedureAlsoFrom?: string[]; allergySubstances?: { from: string[]; itemStart: string }; procedureSuffix?: { pattern: string; from: string[] }; diseaseFromTests?: { from: string; valueLabels: string[]; window: number; keepNear: string }; historyMarkers?: { labels: string[]; prefixes: string[]; statusPost: string[] }; drugBeforeDose?: { label: string; doseLabels: string[]; notWords: string[] } };
  /** Medication sigs split into dose, route and frequency spans before attachment: see src/nlp/sig.ts. */
  sig?: SigRules;
  /** Vital signs ("BP 150/95 mmHg", "a temperature of 39.2 °C") made one test and one value span each: see src/nlp/vital-signs.ts. */
  vitals?: VitalSignRules;
  /** A value whose text matches `value` attaches only to a head whose text matches `head` (a temperature to a temperature, not to "oral" in "fever to 40.1 C ... decreased oral intake"). Sources, case-insensitive. */
  valueHeads?: { $comment?: string; value: string; head: string }[];
  /** Regular expressions (sources, case-insensitive, whole span) of spans that are never a value: ages ("72 yo M"), "N/V", "x 2 hours". */
  notValues?: string[];
  /** A test span that ends in its own value ("[BUN 62]"): split into the test and a value span (see splitEmbeddedValues). */
  embeddedValues?: { test: string; value: string; names: string[] };
  /** Closed-class attribute words the model misses ("severe", "intravenous"), tagged by rules: see src/nlp/attribute-words.ts. */
  words?: AttributeWordRule[];
}

const RULES_FILE = new URL('./attribute-rules.json', import.meta.url);
let defaults: AttributeRules | undefined;

/** The shipped rules (src/nlp/attribute-rules.json). */
export function defaultAttributeRules(): AttributeRules {
  defaults ??= parseAttributeRules(JSON.parse(readFileSync(RULES_FILE, 'utf8')), RULES_FILE.pathname);
  return defaults;
}

/** Validates against schemas/attribute-rules.schema.json; throws MednerError RULES_INVALID. */
export function parseAttributeRules(raw: unknown, source = 'attribute rules'): AttributeRules {
  const validate = schemaValidator('attribute-rules.schema.json');
  if (!validate(raw)) throw new MednerError('RULES_INVALID', `${source} are invalid:\n  ${schemaErrors(validate.errors).join('\n  ')}`);
  const r = raw as AttributeRules;
  for (const re of [r.sentenceBreak, r.listSeparator, ...(r.labAnalytes ? [r.labAnalytes.context, r.labAnalytes.valueUnits] : []), ...(r.labelConsistency ? [r.labelConsistency.diseaseKeepBefore, ...(r.labelConsistency.combineJoiner ? [r.labelConsistency.combineJoiner] : []), ...(r.labelConsistency.procedureSuffix ? [r.labelConsistency.procedureSuffix.pattern] : []), ...(r.labelConsistency.diseaseFromTests ? [r.labelConsistency.diseaseFromTests.keepNear] : []), ...(r.notValues ?? []), ...(r.valueHeads ?? []).flatMap((v) => [v.value, v.head]), ...(r.labelConsistency?.allergySubstances ? [r.labelConsistency.allergySubstances.itemStart] : []), ...(r.labelConsistency?.historyMarkers ? [...r.labelConsistency.historyMarkers.prefixes, ...r.labelConsistency.historyMarkers.statusPost] : [])] : [])]) {
    try {
      new RegExp(re, 'u');
    } catch (err) {
      throw new MednerError('RULES_INVALID', `${source}: bad regular expression ${JSON.stringify(re)}`, { cause: err });
    }
  }
  if (r.sig) {
    try {
      compileSigRules(r.sig);
    } catch (err) {
      throw new MednerError('RULES_INVALID', `${source}: bad regular expression in sig`, { cause: err });
    }
  }
  if (r.vitals) {
    try {
      compileVitalSigns(r.vitals);
    } catch (err) {
      throw new MednerError('RULES_INVALID', `${source}: bad regular expression in vitals`, { cause: err });
    }
  }
  if (r.words) {
    try {
      compileAttributeWords(r);
    } catch (err) {
      throw new MednerError('RULES_INVALID', `${source}: ${err instanceof SyntaxError ? 'bad regular expression in words' : (err as Error).message}`, { cause: err });
    }
  }
  return r;
}

/** Labels whose spans are attributes under these rules (they never become resources of their own). */
export function attributeLabels(rules: AttributeRules = defaultAttributeRules()): Set<string> {
  return new Set(rules.rules.map((r) => r.label));
}

interface Pair {
  attr: number;
  head: number;
  cost: number;
  rule: AttributeRule;
}

function overlaps(a: Entity, b: Entity): boolean {
  return a.start < b.end && b.start < a.end;
}

function wordCount(s: string): number {
  const m = s.match(/[\p{L}\p{N}]+/gu);
  return m ? m.length : 0;
}

/**
 * The links an attachment makes: for each head index, the attribute indexes attached to it.
 * Exposed for evaluation; `attachAttributes` is what the pipeline calls.
 */
export function attributeLinks(text: string, entities: readonly Entity[], rules: AttributeRules = defaultAttributeRules()): Map<number, number[]> {
  const byLabel = new Map<string, AttributeRule>(rules.rules.map((r) => [r.label, r]));
  const c = rules.costs;
  const sentenceBreak = new RegExp(rules.sentenceBreak, 'u');
  const listSep = new RegExp(`^(?:${rules.listSeparator})$`, 'iu');
  const order = entities.map((_, i) => i).sort((a, b) => entities[a]!.start - entities[b]!.start || entities[a]!.end - entities[b]!.end);

  // "Visual acuity (VA) was 20/20": an abbreviation in brackets right after a head of the same label
  // stands for it; what attaches to the abbreviation goes to the long form.
  const aliasOf = new Map<number, number>();
  for (let k = 1; k < order.length; k++) {
    const hi = order[k]!;
    const h = entities[hi]!;
    const prev = order.slice(0, k).reverse().find((j) => entities[j]!.label === h.label && entities[j]!.end <= h.start);
    if (prev === undefined) continue;
    if (/^\s*\($/.test(text.slice(entities[prev]!.end, h.start)) && /^\s*\)/.test(text.slice(h.end, h.end + 3))) aliasOf.set(hi, aliasOf.get(prev) ?? prev);
  }

  const valueHeads = (rules.valueHeads ?? []).map((v) => ({ value: new RegExp(v.value, 'iu'), head: new RegExp(v.head, 'iu') }));
  const pairs: Pair[] = [];
  for (let ai = 0; ai < entities.length; ai++) {
    const a = entities[ai]!;
    const rule = byLabel.get(a.label);
    if (!rule) continue;
    const headSet = new Set(rule.heads);
    const onlyHeads = rule.kind === 'value' ? valueHeads.filter((v) => v.value.test(a.text)) : [];
    for (let hi = 0; hi < entities.length; hi++) {
      if (hi === ai) continue;
      const h = entities[hi]!;
      if (!headSet.has(h.label) || onlyHeads.some((v) => !v.head.test(h.text))) continue;
      let cost: number;
      if (overlaps(a, h)) {
        cost = 0;
      } else {
        const left = h.end <= a.start;
        const gapStart = left ? h.end : a.end;
        const gapEnd = left ? a.start : h.start;
        const gap = text.slice(gapStart, gapEnd);
        if (sentenceBreak.test(gap)) continue;
        const words = wordCount(gap);
        if (words > rule.maxWords) continue;
        cost = words;
        if ((left ? 'left' : 'right') !== rule.prefer) cost += c.otherSide;
        cost += (gap.match(/,/g)?.length ?? 0) * c.comma;
        cost += (gap.match(/[;:()[\]]/g)?.length ?? 0) * c.strongPunct;
        for (const oi of order) {
          const o = entities[oi]!;
          if (oi === ai || oi === hi || o.start < gapStart || o.end > gapEnd) continue;
          if (headSet.has(o.label)) cost += c.headBetween;
          else if (o.label === a.label) cost += c.attributeBetween;
          // Other attributes of the same head ("metoprolol 25 mg orally twice daily") are not distance.
          if (o.label !== a.label && byLabel.get(o.label)?.heads.includes(h.label)) cost -= wordCount(o.text) * c.siblingWordDiscount;
        }
      }
      cost += rule.heads.indexOf(h.label) * c.labelOrderPenalty;
      pairs.push({ attr: ai, head: aliasOf.get(hi) ?? hi, cost, rule });
    }
  }

  // Cheapest first; ties by position so the result does not depend on input order.
  const links = new Map<number, number[]>();
  const kindsOf = new Map<number, Set<AttributeKind>>();
  const assigned = new Set<number>();
  let pending = pairs;
  while (pending.length > 0) {
    let best: Pair | undefined;
    let bestCost = Infinity;
    for (const p of pending) {
      const cost = p.cost + (kindsOf.get(p.head)?.has(p.rule.kind) ? c.sharedHead : 0);
      if (cost < bestCost || (cost === bestCost && best && tieBreak(entities, p, best) < 0)) {
        best = p;
        bestCost = cost;
      }
    }
    if (!best) break;
    assigned.add(best.attr);
    link(links, kindsOf, best.head, best.attr, best.rule.kind);
    pending = pending.filter((p) => !assigned.has(p.attr));
  }

  // Coordinated lists: "WBC, ESR and CRP were normal" -> normal qualifies all three.
  const headOrder = (label: string): number[] => order.filter((i) => entities[i]!.label === label);
  // A number right next to its test ("RR 18, SpO2 94%") measures that test alone, and a body site,
  // severity or dose right before its head modifies that head alone ("right upper quadrant pain and
  // fever"); a value word before a list still qualifies all of it ("elevated AST and ALT").
  const ownMeasurement = (head: number, ai: number): boolean => {
    const h = entities[head]!;
    const a = entities[ai]!;
    const gap = h.end <= a.start ? text.slice(h.end, a.start) : a.end <= h.start ? text.slice(a.end, h.start) : '';
    return (/^[\s:=]*$/.test(gap) && /^[<>≤≥~]?\s*\d/.test(a.text)) || (a.end <= h.start && /^[ \t]+$/.test(gap) && byLabel.get(a.label)?.kind !== 'value');
  };
  for (const [head, attrs] of [...links]) {
    for (const ai of attrs) {
      if (ownMeasurement(head, ai)) continue;
      const rule = byLabel.get(entities[ai]!.label)!;
      const same = headOrder(entities[head]!.label);
      const pos = same.indexOf(head);
      for (const dir of [-1, 1]) {
        for (let k = pos + dir; k >= 0 && k < same.length; k += dir) {
          const prev = entities[same[k - dir]!]!;
          const cur = entities[same[k]!]!;
          const gap = dir > 0 ? text.slice(prev.end, cur.start) : text.slice(cur.end, prev.start);
          if (!listSep.test(gap)) break;
          // Only towards the far side of the list from the attribute: the list must not contain the attribute.
          const a = entities[ai]!;
          if ((dir < 0 && a.end <= cur.start) || (dir > 0 && a.start >= cur.end)) break;
          if (kindsOf.get(same[k]!)?.has(rule.kind)) break;
          link(links, kindsOf, same[k]!, ai, rule.kind);
        }
      }
    }
  }
  return links;
}

function tieBreak(entities: readonly Entity[], p: Pair, q: Pair): number {
  const pa = entities[p.attr]!;
  const qa = entities[q.attr]!;
  const ph = entities[p.head]!;
  const qh = entities[q.head]!;
  return pa.start - qa.start || pa.end - qa.end || ph.start - qh.start || ph.end - qh.end;
}

function link(links: Map<number, number[]>, kindsOf: Map<number, Set<AttributeKind>>, head: number, attr: number, kind: AttributeKind): void {
  const list = links.get(head) ?? [];
  if (!list.includes(attr)) list.push(attr);
  links.set(head, list);
  const kinds = kindsOf.get(head) ?? new Set<AttributeKind>();
  kinds.add(kind);
  kindsOf.set(head, kinds);
}

/**
 * The entities the attachment links (what attachAttributes works on): medication sigs split into
 * dose, route and frequency spans (rules.sig, src/nlp/sig.ts; after value and dose spans that cut a
 * number are widened over it: completeNumbers), vital signs made one test and one
 * value span each (rules.vitals, src/nlp/vital-signs.ts), lab analytes labelled as drugs made
 * tests (rules.labAnalytes), then the closed-class attribute words the model missed added (rules.words,
 * src/nlp/attribute-words.ts). Pure; exposed for evaluation.
 */
export function attributeSpans(text: string, input: readonly Entity[], rules: AttributeRules = defaultAttributeRules()): Entity[] {
  const whole = relabelDosedAnalytes(text, completeNumbers(text, splitEmbeddedValues(text, dropNotValues(input, rules), rules), new Set(rules.rules.filter((r) => r.kind === 'value' || r.kind === 'dose').map((r) => r.label))), rules);
  const sigs = rules.sig ? splitSigs(text, whole, rules.sig) : whole;
  const entities = relabelLabAnalytes(text, rules.vitals ? tagVitalSigns(text, sigs, rules.vitals) : sigs, rules);
  return rules.words ? tagAttributeWords(text, entities, rules) : entities;
}

/**
 * The entities with `attributes` set on every head that got some (sorted by start); attribute
 * spans stay in the list, except that a medication sig is first split into its dose, route and
 * frequency spans (rules.sig, src/nlp/sig.ts; entities inside a sig are replaced by its parts) and
 * closed-class attribute words the model missed are added (rules.words, src/nlp/attribute-words.ts;
 * `source: 'rules'`): see attributeSpans. Pure: the input is not modified. Entities that already
 * carry attributes keep them (and nothing is added to them).
 */
export function attachAttributes(text: string, input: readonly Entity[], rules: AttributeRules = defaultAttributeRules()): Entity[] {
  if (input.some((e) => e.attributes !== undefined)) return [...input];
  const entities = attributeSpans(text, input, rules);
  const byLabel = new Map<string, AttributeRule>(rules.rules.map((r) => [r.label, r]));
  const links = attributeLinks(text, entities, rules);
  return entities.map((e, i) => {
    const attrs = links.get(i);
    if (!attrs || attrs.length === 0) return e;
    const attributes: EntityAttribute[] = attrs
      .map((ai) => {
        const a = entities[ai]!;
        return { kind: byLabel.get(a.label)!.kind, label: a.label, start: a.start, end: a.end, text: a.text, score: a.score, ...(a.source ? { source: a.source } : {}) };
      })
      .sort((x, y) => x.start - y.start || x.end - y.end);
    return { ...e, attributes };
  });
}

/** Value spans (of a rule of kind value) that rules.notValues says are no value ("72 yo M", "N/V") are dropped; the input when none is. */
const notValuesCache = new WeakMap<string[], RegExp>();

export function dropNotValues(entities: readonly Entity[], rules: AttributeRules = defaultAttributeRules()): Entity[] {
  const nv = rules.notValues;
  if (!nv || nv.length === 0) return [...entities];
  let re = notValuesCache.get(nv);
  if (!re) notValuesCache.set(nv, (re = new RegExp(`^(?:${nv.map((s) => `(?:${s})`).join('|')})$`, 'iu')));
  const valueLabels = new Set(rules.rules.filter((r) => r.kind === 'value').map((r) => r.label));
  const kept = entities.filter((e) => !(valueLabels.has(e.label) && re.test(e.text.trim())));
  return kept.length === entities.length ? [...entities] : kept;
}

/**
 * A test span that ends in a number ("[BUN 62]", "[Cl 101]": the model took the value into the name)
 * is split into the test ("BUN") and a value span ("62", `source: 'rules'`), so that the value is its
 * own and the next value ("Cr 3.4 (up from 2.1)") is not handed to it. Only for a test named in
 * `names` or in the lab analytes' terms (elsewhere the number is mostly part of the name: "CD 34",
 * "cytokeratin 7", "CKD stage 3"), and not where another entity overlaps the number. Returns the
 * input when nothing changes.
 */
export function splitEmbeddedValues(text: string, entities: readonly Entity[], rules: AttributeRules = defaultAttributeRules()): Entity[] {
  const ev = rules.embeddedValues;
  if (!ev) return [...entities];
  const names = new Set([...ev.names, ...(rules.labAnalytes?.terms ?? [])].map((w) => w.toLowerCase()));
  const out: Entity[] = [];
  let changed = false;
  for (const e of entities) {
    const m = e.label === ev.test ? /^(.*?[\p{L})])[ \t]*[:=]?[ \t]+(\d+(?:[.,]\d+)?)$/u.exec(e.text) : null;
    if (!m || !names.has(m[1]!.toLowerCase().replace(/\s+/g, ' '))) {
      out.push(e);
      continue;
    }
    const valueStart = e.end - m[2]!.length;
    if (entities.some((o) => o !== e && o.start < e.end && valueStart < o.end)) {
      out.push(e);
      continue;
    }
    const { codes: _codes, ...test } = e;
    out.push({ ...test, end: e.start + m[1]!.length, text: m[1]! }, { start: valueStart, end: e.end, text: m[2]!, label: ev.value, score: e.score, source: 'rules' });
    changed = true;
  }
  return changed ? out.sort((a, b) => a.start - b.start || a.end - b.end) : [...entities];
}

/**
 * Value and dose spans never cut a number: the model may tag "[2].6" or "1[.5 mg]" (word pieces of a
 * decimal); such a span is widened over the rest of the number ("2.6", "1.5 mg") where no other
 * entity is in the way. Returns the input's entities (same objects) where nothing changes.
 */
export function completeNumbers(text: string, entities: readonly Entity[], labels: ReadonlySet<string>): Entity[] {
  let changed = false;
  const out = entities.map((e) => {
    if (!labels.has(e.label)) return e;
    let { start, end } = e;
    if (/\d$/.test(text.slice(start, end))) end += /^(?:[.,]\d+)+/.exec(text.slice(end))?.[0].length ?? 0;
    if (/^[.,]?\d/.test(text.slice(start, end))) start -= /\d+(?:[.,]\d+)*[.,]?$/.exec(text.slice(Math.max(0, start - 24), start))?.[0].length ?? 0;
    if (start === e.start && end === e.end) return e;
    if (entities.some((o) => o !== e && o.start < end && start < o.end)) return e;
    changed = true;
    return { ...e, start, end, text: text.slice(start, end) };
  });
  return changed ? out : [...entities];
}

/**
 * The other way round: a span the model labelled a test but written as a drug order, a dose (no
 * concentration) followed by a route or frequency ("potassium 40 mEq orally", "magnesium 2 g IV
 * once", "Potassium chloride 20 mEq PO daily", "Insulin glargine 22 units subcutaneously at bedtime":
 * up to `sig.openAfterWords` plain words between), is the drug (`labAnalytes.from[0]`); the sig split
 * then gives its dose, route and frequency. A lab result never reads so ("potassium 4.1 mmol/L").
 * Returns the input when nothing changes.
 */
export function relabelDosedAnalytes(text: string, entities: readonly Entity[], rules: AttributeRules = defaultAttributeRules()): Entity[] {
  const la = rules.labAnalytes;
  if (!la || !rules.sig || la.from.length === 0) return [...entities];
  const c = compileSigRules(rules.sig);
  const at = (re: RegExp, pos: number): number | undefined => matchAt(re, text, pos);
  const skip = (pos: number): number => pos + (/^[ \t]*/.exec(text.slice(pos))?.[0].length ?? 0);
  // Plain words (no entity's) between the name and its dose: "Insulin [glargine] 22 units".
  const doseStart = (e: Entity): number | undefined => {
    let pos = skip(e.end);
    if (pos === e.end) return undefined;
    for (let k = 0; k <= (rules.sig!.openAfterWords ?? 0); k++) {
      if (at(c.dose, pos) !== undefined) return pos;
      const word = /^\p{L}[\p{L}-]*[ \t]+/u.exec(text.slice(pos));
      if (!word || entities.some((o) => o.start < pos + word[0].length && pos < o.end)) return undefined;
      pos += word[0].length;
    }
    return undefined;
  };
  // A procedure's name is no drug whatever follows it ("fluid restriction 1.5 L per day").
  const ps = rules.labelConsistency?.procedureSuffix;
  const procedureName = ps ? new RegExp(`(?:${ps.pattern})$`, 'iu') : undefined;
  let changed = false;
  const out = entities.map((e) => {
    if (e.label !== la.to || procedureName?.test(e.text.trim())) return e;
    const from = doseStart(e);
    const doseEnd = from === undefined ? undefined : at(c.dose, from);
    if (doseEnd === undefined || text[doseEnd] === '/') return e;
    // A mass or unit rate is an infusion ("vasopressin 0.04 units/min"); a volume rate may be an output ("urine output 20 mL/hr").
    if (/(?:g|units?|iu|meq|mmol)(?:\/kg)?\/(?:min|minute|h|hr|hour)$/iu.test(text.slice(from!, doseEnd))) {
      changed = true;
      return { ...e, label: la.from[0]!, source: 'rules' as const };
    }
    const next = skip(doseEnd);
    if (next === doseEnd || (at(c.route, next) === undefined && at(c.frequency, next) === undefined)) return e;
    changed = true;
    return { ...e, label: la.from[0]!, source: 'rules' as const };
  });
  return changed ? out : [...entities];
}

/**
 * Lab analytes that NER labelled as drugs become tests (rules.labAnalytes): "potassium 5.9 mmol/L",
 * "serum potassium was low" give a test, never a MedicationStatement; "potassium chloride 20 mEq
 * orally" stays a drug (a dose or route is next to it). A drug followed by "trough", "level" or "peak"
 * is the test of its level ("Tacrolimus trough 7.2 ng/mL"), the word included. Returns the input when
 * nothing changes.
 */
export function relabelLabAnalytes(text: string, entities: readonly Entity[], rules: AttributeRules = defaultAttributeRules()): Entity[] {
  const la = rules.labAnalytes;
  if (!la) return [...entities];
  const from = new Set(la.from);
  const terms = new Set(la.terms.map((t) => t.toLowerCase()));
  const sentenceBreak = new RegExp(rules.sentenceBreak, 'u');
  const context = new RegExp(la.context, 'iu');
  const valueAfter = new RegExp(String.raw`^\s*(?:(?:was|were|is|of|at|level|levels|:|=)\s*)*(?:<|>|≤|≥)?\s*\d[\d.,]*\s*${la.valueUnits}(?![\p{L}])`, 'iu');
  const doseLabels = new Set(rules.rules.filter((r) => r.kind === 'dose' || r.kind === 'route' || r.kind === 'frequency').map((r) => r.label));
  const valueLabels = new Set(rules.rules.filter((r) => r.kind === 'value').map((r) => r.label));
  const near = (e: Entity, o: Entity): boolean => {
    const gap = o.start >= e.end ? text.slice(e.end, o.start) : o.end <= e.start ? text.slice(o.end, e.start) : '';
    return !sentenceBreak.test(gap) && wordCount(gap) <= la.window;
  };
  // A value before the analyte is its own only with nothing between them: "glucose 250 mg/dL on
  // steroids; insulin sliding scale" gives the value to glucose, and insulin stays a drug.
  const valueBefore = (e: Entity, o: Entity): boolean => !/[;,]/.test(text.slice(o.end, e.start)) && !entities.some((x) => x !== o && x.start >= o.end && x.end <= e.start);
  return entities.map((e) => {
    // A drug's level ("Tacrolimus trough 7.2 ng/mL", "digoxin level 2.1") is a test of that drug.
    const level = from.has(e.label) ? /^[ \t]+(?:trough|troughs|level|levels|peak|concentration|concentrations)(?![\p{L}\p{N}])/iu.exec(text.slice(e.end)) : null;
    if (level && !entities.some((o) => o !== e && o.start < e.end + level[0].length && e.end < o.end)) {
      const { codes: _drugCodes, ...drug } = e;
      const end = e.end + level[0].length;
      return { ...drug, end, text: text.slice(e.start, end), label: la.to, source: 'rules' as const };
    }
    if (!from.has(e.label) || !terms.has(e.text.toLowerCase().replace(/\s+/g, ' ').trim())) return e;
    if (entities.some((o) => o !== e && doseLabels.has(o.label) && near(e, o))) return e;
    const window = (s: number, t: number): string => text.slice(Math.max(0, s), Math.min(text.length, t));
    const before = window(e.start - 40, e.start).split(sentenceBreak).pop() ?? '';
    const after = window(e.end, e.end + 60);
    const lab =
      entities.some((o) => valueLabels.has(o.label) && near(e, o) && (o.start >= e.end || valueBefore(e, o))) ||
      valueAfter.test(after) ||
      context.test(before.trim().split(/\s+/).slice(-2).join(' ')) ||
      context.test(after.split(sentenceBreak)[0]!.trim().split(/\s+/).slice(0, 3).join(' '));
    if (!lab) return e;
    // Codes the linker gave the drug reading (MeSH Lactic Acid) do not code the test.
    const { codes: _drugCodes, ...test } = e;
    return { ...test, label: la.to };
  });
}
