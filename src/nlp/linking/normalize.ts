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

/** Lowercase words without accents, possessives or punctuation ("Crohn's Disease" -> ["crohn", "disease"]). */
export function words(text: string): string[] {
  // eslint-disable-next-line no-control-regex
  const ascii = /^[\x00-\x7f]*$/.test(text);
  const s = (ascii ? text : text.normalize('NFKD').replace(/[\u0300-\u036f]/g, ''))
    .toLowerCase()
    .replace(/['\u2019`]s\b/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
  return s ? s.split(' ') : [];
}

/** British to American spelling of the word forms medical names use (anaemia, tumour, oesophagus). */
export function spelling(w: string): string {
  if (w.length <= 4) return w;
  let x = w;
  if (x.includes('ae')) x = x.replace(/ae/g, 'e');
  if (x.includes('oe') && !/oe$/.test(x)) x = x.replace(/oe/g, 'e');
  if (x.endsWith('our')) x = `${x.slice(0, -3)}or`;
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
