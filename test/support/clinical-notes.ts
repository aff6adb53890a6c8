/**
 * Synthea-like clinical notes for tests and benchmarks that must run without ../shared:
 * invented text (no PHI), deterministic from an index, in Synthea's section layout, with
 * lengths from a few lines to several model windows so long documents span windows.
 */

export const NOTE_CONDITIONS = [
  'acute bronchitis', 'essential hypertension', 'type 2 diabetes mellitus', 'hyperlipidemia', 'chronic kidney disease',
  'viral sinusitis', 'acute viral pharyngitis', 'osteoarthritis of knee', 'anemia', 'atrial fibrillation',
  'chronic obstructive pulmonary disease', 'major depression', 'migraine', 'asthma', 'sepsis', 'pneumonia',
  'hypothyroidism', 'gout', 'urinary tract infection', 'heart failure', 'intimate partner abuse', 'stress',
];
export const NOTE_DRUGS = [
  'lisinopril 10 MG Oral Tablet', 'metformin 500 MG Oral Tablet', 'atorvastatin 20 MG', 'amoxicillin 250 MG',
  'acetaminophen 325 MG Oral Tablet', 'ibuprofen 200 MG', 'albuterol inhaler', 'warfarin 5 MG', 'levothyroxine 50 MCG',
  'hydrochlorothiazide 25 MG', 'insulin glargine', 'prednisone 10 MG', 'ceftriaxone', 'naproxen sodium 220 MG',
];
const NAMES = ['An125 Suanne858', 'Liane379 Kunze215', 'Sumiko254 Larue605', 'Ezra12 Hoppe518', 'Mavis9 Ortiz186'];
const FINDINGS = ['full-time employment (finding)', 'part-time employment (finding)', 'social isolation (finding)', 'reports of violence in the environment (finding)', 'limited social contact (finding)'];

/** A tiny deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Note number `i`: 3 to ~60 lines; every seventh note is long (several 256-token windows). */
export function syntheaLikeNote(i: number): string {
  const r = rng(1000 + i);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const year = 1990 + (i % 30);
  const lines: string[] = [`${year}-0${1 + (i % 9)}-1${i % 10}`, '', '# Chief Complaint'];
  lines.push(r() < 0.4 ? 'No complaints.' : `- ${pick(['Cough', 'Fever', 'Chest pain', 'Fatigue', 'Headache', 'Joint pain'])}`);
  lines.push('', '# History of Present Illness', pick(NAMES));
  const hx = Array.from({ length: 1 + Math.floor(r() * 4) }, () => (r() < 0.5 ? pick(NOTE_CONDITIONS) : pick(FINDINGS)));
  lines.push(` is a ${20 + Math.floor(r() * 60)} year-old nonhispanic white ${r() < 0.5 ? 'female' : 'male'}. Patient has a history of ${hx.join(', ')}.`);
  const extra = i % 7 === 3 ? 30 + Math.floor(r() * 30) : Math.floor(r() * 8);
  for (let k = 0; k < extra; k++) {
    const c = pick(NOTE_CONDITIONS);
    const d = pick(NOTE_DRUGS);
    lines.push(
      pick([
        `Patient denies ${c}.`,
        `Patient was treated with ${d} for ${c}.`,
        `Mother has a history of ${c}.`,
        `No evidence of ${c} on examination.`,
        `Possible ${c}; rule out ${pick(NOTE_CONDITIONS)}.`,
        `${d} was discontinued after ${c} worsened.`,
        `Patient reports ${c} since last visit and takes ${d} daily.`,
      ]),
    );
  }
  lines.push('', '# Social History', `Patient is ${pick(['married', 'single', 'divorced'])}. Patient ${pick(['has never smoked', 'is an active smoker', 'quit smoking'])}.`);
  lines.push('', '# Allergies', r() < 0.6 ? 'No Known Allergies.' : `Allergic to ${pick(['penicillin', 'peanuts', 'latex', 'sulfonamide'])}.`);
  lines.push('', '# Medications');
  const meds = Math.floor(r() * 4);
  if (meds === 0) lines.push('No Active Medications.');
  for (let k = 0; k < meds; k++) lines.push(`${pick(NOTE_DRUGS)}`);
  lines.push('', '# Assessment and Plan', `Patient is presenting with ${pick(NOTE_CONDITIONS)}. `, '', '## Plan', `Prescribed ${pick(NOTE_DRUGS)}.`, '');
  return lines.join('\n');
}

/** `count` notes starting at note `from`. */
export function syntheaLikeNotes(count: number, from = 0): string[] {
  return Array.from({ length: count }, (_, k) => syntheaLikeNote(from + k));
}

/** A seeded permutation of 0..n-1 (Fisher-Yates with a small LCG): the same seed gives the same order. */
export function seededOrder(n: number, seed: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
