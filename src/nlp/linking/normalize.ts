/**
 * Text normalization for dictionary lookup: case, accents, possessives, hyphens and punctuation,
 * plurals (one light rule set, applied identically to names and mentions) and word order.
 */

const STOP = new Set(['of', 'the', 'a', 'an']);

/** Light English singular: the same rules run on the dictionary and the mention, so they need only be consistent. */
export function singular(w: string): string {
  if (w.length <= 3 || /\d/.test(w)) return w;
  if (/(ss|us|is|ous|sis|xis|itis)$/.test(w)) return w;
  if (w.endsWith('ies') && w.length > 4) return `${w.slice(0, -3)}y`;
  if (/(ches|shes|xes|sses|zes)$/.test(w)) return w.slice(0, -2);
  if (w.endsWith('s')) return w.slice(0, -1);
  return w;
}

/** Greek letters as their Latin names, a word each ("TNF-\u03b1" = "TNF alpha", "\u03b2-blocker" = "beta blocker"). */
const GREEK: Record<string, string> = {
  '\u03b1': 'alpha', '\u03b2': 'beta', '\u03b3': 'gamma', '\u03b4': 'delta', '\u03b5': 'epsilon', '\u03b6': 'zeta', '\u03b7': 'eta',
  '\u03b8': 'theta', '\u03b9': 'iota', '\u03ba': 'kappa', '\u03bb': 'lambda', '\u03bc': 'mu', '\u03bd': 'nu', '\u03be': 'xi',
  '\u03bf': 'omicron', '\u03c0': 'pi', '\u03c1': 'rho', '\u03c3': 'sigma', '\u03c2': 'sigma', '\u03c4': 'tau', '\u03c5': 'upsilon',
  '\u03c6': 'phi', '\u03c7': 'chi', '\u03c8': 'psi', '\u03c9': 'omega', '\u00b5': 'mu',
};

/**
 * Roman numerals after a word that numbers a kind ("type II diabetes" = "type 2 diabetes", "von Willebrand
 * disease type IIA" = "... type 2a", "factor VIII"). Only there: alone, "IV" is intravenous, "X" a letter
 * ("X-linked") and "I" a pronoun.
 */
const NUMBERED = new Set(['type', 'stage', 'grade', 'class', 'phase', 'factor', 'group', 'mody', 'degree']);
const ROMAN: Record<string, number> = { i: 1, ii: 2, iii: 3, iv: 4, v: 5, vi: 6, vii: 7, viii: 8, ix: 9, x: 10, xi: 11, xii: 12, xiii: 13 };
export function arabic(prev: string | undefined, w: string): string {
  if (prev === undefined || !NUMBERED.has(prev)) return w;
  const m = /^(x?i{1,3}|x?iv|x?vi{0,3}|x?ix|x)([a-e])?$/.exec(w);
  const n = m ? ROMAN[m[1]!] : undefined;
  return n === undefined ? w : `${n}${m![2] ?? ''}`;
}

/** Lowercase words without accents, possessives or punctuation ("Crohn's Disease" -> ["crohn", "disease"]); Greek letters and numbered kinds' roman numerals as above. */
export function words(text: string): string[] {
  // eslint-disable-next-line no-control-regex
  const ascii = /^[\x00-\x7f]*$/.test(text);
  let t = text;
  if (!ascii) t = t.replace(/[\u03b1-\u03c9\u0391-\u03a9\u00b5]/g, (c) => ` ${GREEK[c.toLowerCase()] ?? c} `);
  const s = (ascii ? t : t.normalize('NFKD').replace(/[\u0300-\u036f]/g, ''))
    .toLowerCase()
    .replace(/['\u2019`]s\b/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
  if (!s) return [];
  const ws = s.split(' ');
  for (let i = 1; i < ws.length; i++) ws[i] = arabic(ws[i - 1], ws[i]!);
  return ws;
}

/**
 * British to American spelling of the word forms medical names use: ae/oe (anaemia, oedema, oesophagus,
 * foetal), -our (tumour), sulph- (sulphate, sulphonamide), leuc- (leucocyte, leucaemia), -bre/-tre
 * (fibre, centre), aluminium.
 */
export function spelling(w: string): string {
  if (w.length <= 4) return w;
  let x = w;
  if (x.includes('ae')) x = x.replace(/ae/g, 'e');
  if (x.includes('oe') && !/oe$/.test(x)) x = x.replace(/oe/g, 'e');
  if (x.endsWith('our')) x = `${x.slice(0, -3)}or`;
  if (x.includes('sulph')) x = x.replace(/sulph/g, 'sulf');
  if (x.includes('leuc')) x = x.replace(/leuc/g, 'leuk');
  if (/[bt]re$/.test(x)) x = `${x.slice(0, -2)}er`;
  if (x === 'aluminium') x = 'aluminum';
  return x;
}

/**
 * Word synonyms for the third lookup key (after exact and word order): adjective and noun forms of the
 * same organ, and the head words that MeSH names differently ("brain tumors" -> Brain Neoplasms).
 */
const SYNONYM: Record<string, string> = {
  tumor: 'neoplasm', tumour: 'neoplasm', cancer: 'neoplasm', carcinoma: 'neoplasm', malignancy: 'neoplasm', neoplasia: 'neoplasm',
  renal: 'kidney', nephric: 'kidney', hepatic: 'liver', cardiac: 'heart', myocardial: 'heart', pulmonary: 'lung',
  cerebral: 'brain', gastric: 'stomach', ocular: 'eye', cutaneous: 'skin', dermal: 'skin', vascular: 'vessel',
  bleeding: 'hemorrhage', haemorrhage: 'hemorrhage', injury: 'damage', injurie: 'damage', lesion: 'damage',
  neurologic: 'neurological', neural: 'neurological', nervous: 'neurological',
  impairment: 'dysfunction', impaired: 'dysfunction', abnormality: 'dysfunction', disturbance: 'dysfunction', deficit: 'dysfunction',
  failure: 'insufficiency', disorder: 'disease', illness: 'disease', syndrome: 'disease',
};
const GENERIC = new Set(['disease', 'symptom', 'sign', 'condition', 'acute', 'chronic', 'severe', 'mild', 'induced', 'related', 'associated']);

/** Canonical key: word order ignored, synonyms folded, generic words dropped ("renal failure" = "kidney failure"). */
export function canonKey(text: string): string {
  const ws = words(text).map((w) => term(w)).map((w) => SYNONYM[w] ?? w).filter((w) => !GENERIC.has(w));
  return bagOf(ws);
}

/** One word as the keys see it: singular, American spelling. */
export function term(w: string): string {
  return spelling(singular(w));
}

/** Exact key: the words, singular, in order. */
export function exactKey(text: string): string {
  return words(text).map((w) => term(w)).join(' ');
}

/** Word-order key: the distinct singular words without articles/"of", sorted. */
export function bagKey(text: string): string {
  return bagOf(words(text).map((w) => term(w)));
}

/** bagKey from singular words. */
export function bagOf(singularWords: string[]): string {
  const ws = [...new Set(singularWords.filter((w) => !STOP.has(w)))];
  ws.sort();
  return ws.join(' ');
}

/** Character n-grams of a key (padded with one space each side), for the fuzzy stage. */
export function charGrams(key: string, n = 3): string[] {
  const s = ` ${key} `;
  const out: string[] = [];
  for (let i = 0; i + n <= s.length; i++) out.push(s.slice(i, i + n));
  return out;
}

/**
 * Salt and ion words of a drug name ("metformin hydrochloride", "sodium valproate", "fenoldopam mesylate"):
 * the corpora code the salt with its active compound. Not anions that make a compound of their own
 * (sulfate, chloride, acetate, phosphate: "magnesium sulfate", "potassium chloride").
 */
const SALT = new Set([
  'hydrochloride', 'dihydrochloride', 'hcl', 'hydrobromide', 'hbr', 'mesylate', 'mesilate', 'besylate', 'besilate', 'maleate',
  'tartrate', 'bitartrate', 'citrate', 'fumarate', 'succinate', 'hyclate', 'monohydrate', 'dihydrate', 'trihydrate', 'anhydrous',
  'sodium', 'disodium', 'potassium', 'dipotassium',
]);

/** The name without its salt and ion words, or undefined when it has none or is nothing else. */
export function withoutSalt(text: string): string | undefined {
  const ws = words(text);
  const kept = ws.filter((w) => !SALT.has(w));
  return kept.length > 0 && kept.length < ws.length ? kept.join(' ') : undefined;
}

const CAUSE = new Set(['induced', 'associated', 'related', 'mediated', 'provoked', 'evoked']);

/**
 * The condition without its cause: "cocaine-induced seizures" and "seizures induced by cocaine" name
 * seizures (the cause is a mention of its own); "drug-related hepatitis" hepatitis. Undefined when the
 * text names no cause.
 */
export function withoutCause(text: string): string | undefined {
  const ws = words(text);
  const k = ws.findIndex((w) => CAUSE.has(w));
  if (k < 0) return undefined;
  const rest = ws[k + 1] === 'by' || ws[k + 1] === 'with' ? ws.slice(0, k) : k > 0 ? ws.slice(k + 1) : [];
  // "PLP-associated disease": what is left must name something more than a generic head
  return rest.some((w) => !GENERIC.has(term(w)) && !HEADS.has(term(w))) ? rest.join(' ') : undefined;
}
const HEADS = new Set(['disorder', 'syndrome', 'tumor', 'lesion', 'complication', 'effect', 'toxicity', 'abnormality', 'problem']);

/** Negation words: "non-insulin-dependent diabetes" is not "insulin-dependent diabetes", however alike their letters. */
const NEGATION = new Set(['non', 'not', 'without', 'no']);
export const negated = (key: string): boolean => key.split(' ').some((w) => NEGATION.has(w));

/**
 * An acid named as its conjugate base and back ("uric acid" = urate, "lactic acid" = lactate, "valproate" =
 * valproic acid): chemistry names both forms, the corpora code them as one concept. Undefined when the
 * name ends in neither form.
 */
export function conjugate(text: string): string | undefined {
  const ws = words(text);
  const n = ws.length;
  if (n >= 2 && ws[n - 1] === 'acid' && /^[a-z]{2,}ic$/.test(ws[n - 2]!)) return [...ws.slice(0, n - 2), `${ws[n - 2]!.slice(0, -2)}ate`].join(' ');
  if (n >= 1 && /^[a-z]{3,}ate$/.test(ws[n - 1]!)) return [...ws.slice(0, n - 1), `${ws[n - 1]!.slice(0, -3)}ic`, 'acid'].join(' ');
  return undefined;
}
