import type { Entity } from '../core/entity.ts';

/**
 * Vital signs written the way notes write them ("BP 150/95 mmHg, HR 88 bpm, RR 18, SpO2 96%",
 * "a temperature of 39.2 °C", "his weight today is 82 kg"), made one test span and one value span
 * each. The clinical model tags vitals unevenly: the abbreviation inside the value ("[HR 88 bpm]"),
 * the name as a value ("[weight]"), the number without its unit ("[82] kg"), or nothing at all
 * ("temperature"); attachment then hands a temperature to the saturation before it. Pure and
 * rule-based: the vocabulary is data (`vitals` in src/nlp/attribute-rules.json).
 *
 * A vital sign is one of a sign's names (whole word, case-insensitive) followed by at most
 * `maxLinkers` linking words (`linkers`: "was", "of", ":", ...) and a value matching the sign's
 * `value` expression (whole word). For each such match, the spans inside it are resolved:
 *  - the match is left alone when an entity of another label than the test or value label (or a
 *    `replace` label) overlaps it, or an entity of those labels overlaps it and reaches outside it
 *    (the model saw something larger: "blood pressure monitoring");
 *  - otherwise every test or value span inside the match is replaced by the test span (the name)
 *    and the value span; a span the model already had exactly (same start, end and label) is
 *    kept as it was (its score), a new or changed one gets score 1 and `source: 'rules'`.
 */
export interface VitalSignRules {
  $comment?: string;
  /** Label of the test span (e.g. "Diagnostic_procedure"). */
  test: string;
  /** Label of the value span (e.g. "Lab_value"). */
  value: string;
  /** Regular expressions (source) of the words allowed between a name and its value ("was", "of", ":"). */
  linkers: string[];
  /** Linking words at most between a name and its value. */
  maxLinkers: number;
  signs: { $comment?: string; names: string[]; value: string }[];
  /** Labels of model spans inside a match that the rule replaces like its own (the model tags "today 19" after "PHQ-9" as Dates). */
  replace?: string[];
}

interface Compiled {
  sign: RegExp;
  value: RegExp[];
  linker: RegExp;
}

const cache = new WeakMap<VitalSignRules, Compiled>();
const START = String.raw`(?<![\p{L}\p{N}])`;
const END = String.raw`(?![\p{L}\p{N}])`;
const alt = (xs: readonly string[]): string => xs.map((x) => `(?:${x})`).join('|');

/** Compiles the rules (throws SyntaxError on a bad expression; parseAttributeRules reports it). */
export function compileVitalSigns(r: VitalSignRules): Compiled {
  let c = cache.get(r);
  if (c) return c;
  // One alternation over all names, longest first ("heart rate" before "rate"); group i+1 = sign i.
  const groups = r.signs.map((s) => `(${alt([...s.names].sort((a, b) => b.length - a.length))})`);
  c = {
    sign: new RegExp(`${START}(?:${groups.join('|')})${END}`, 'giu'),
    value: r.signs.map((s) => new RegExp(`(?:${s.value})${END}`, 'iuy')),
    linker: new RegExp(String.raw`[ \t]*(?:(?:${alt(r.linkers)})[ \t]*|[ \t]+)`, 'iuy'),
  };
  cache.set(r, c);
  return c;
}

interface VitalMatch {
  name: [number, number];
  value: [number, number];
}

/** The vital-sign name/value pairs of a text (see above), in text order, none overlapping. */
export function findVitalSigns(text: string, rules: VitalSignRules): VitalMatch[] {
  const c = compileVitalSigns(rules);
  const out: VitalMatch[] = [];
  c.sign.lastIndex = 0;
  for (let m = c.sign.exec(text); m; m = c.sign.exec(text)) {
    const i = m.slice(1).findIndex((g) => g !== undefined);
    const nameEnd = m.index + m[0].length;
    let at = nameEnd;
    let words = 0;
    let found: [number, number] | undefined;
    for (;;) {
      if (at > nameEnd) {
        const v = c.value[i]!;
        v.lastIndex = at;
        const vm = v.exec(text);
        if (vm && vm[0].length > 0) {
          found = [at, at + vm[0].length];
          break;
        }
      }
      c.linker.lastIndex = at;
      const lm = c.linker.exec(text);
      if (!lm || lm[0].length === 0) break;
      // White space alone is no linking word.
      if (lm[0].trim() !== '' && ++words > rules.maxLinkers) break;
      at += lm[0].length;
    }
    if (!found) continue;
    out.push({ name: [m.index, nameEnd], value: found });
    c.sign.lastIndex = found[1];
  }
  return out;
}

/**
 * The entities with each vital sign's spans resolved (see above). Returns the input's entities
 * (same objects) where nothing changes; sorted by start when something changed.
 */
export function tagVitalSigns(text: string, entities: readonly Entity[], rules: VitalSignRules): Entity[] {
  const own = new Set([rules.test, rules.value, ...(rules.replace ?? [])]);
  const removed = new Set<number>();
  const added: Entity[] = [];
  for (const v of findVitalSigns(text, rules)) {
    const [start, end] = [v.name[0], v.value[1]];
    const over = entities.flatMap((e, i) => (e.start < end && start < e.end ? [i] : []));
    if (over.some((i) => !own.has(entities[i]!.label) || entities[i]!.start < start || entities[i]!.end > end)) continue;
    for (const [[s, t], label] of [
      [v.name, rules.test],
      [v.value, rules.value],
    ] as const) {
      const same = over.find((i) => entities[i]!.start === s && entities[i]!.end === t && entities[i]!.label === label);
      if (same === undefined) added.push({ start: s, end: t, text: text.slice(s, t), label, score: 1, source: 'rules' });
    }
    for (const i of over) {
      const e = entities[i]!;
      const kept = (e.start === v.name[0] && e.end === v.name[1] && e.label === rules.test) || (e.start === v.value[0] && e.end === v.value[1] && e.label === rules.value);
      if (!kept) removed.add(i);
    }
  }
  if (added.length === 0 && removed.size === 0) return [...entities];
  return [...entities.filter((_, i) => !removed.has(i)), ...added].sort((x, y) => x.start - y.start || x.end - y.end);
}
