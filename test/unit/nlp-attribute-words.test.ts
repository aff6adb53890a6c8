import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Entity } from '../../src/core/entity.ts';
import { attachAttributes, attributeSpans, defaultAttributeRules, parseAttributeRules } from '../../src/nlp/attributes.ts';
import { tagAttributeWords } from '../../src/nlp/attribute-words.ts';
import { MednerError } from '../../src/core/errors.ts';
import { ents } from '../support/entities.ts';

const rules = defaultAttributeRules();
const added = (out: Entity[]): string[] => out.filter((e) => e.source === 'rules').map((e) => `${e.label}:${e.text}`);
const attrsOf = (out: Entity[], text: string): string[] => (out.find((e) => e.text === text)?.attributes ?? []).map((a) => `${a.kind}:${a.text}${a.source ? `(${a.source})` : ''}`);

test('severity: a severity word next to a finding becomes a Severity entity from rules and attaches to it', () => {
  const text = 'She reported severe headache and mild swelling at the site.';
  const input = ents(text, [['headache', 'Sign_symptom'], ['swelling', 'Sign_symptom'], ['site', 'Biological_structure']]);
  const tagged = tagAttributeWords(text, input, rules);
  assert.deepEqual(added(tagged), ['Severity:severe', 'Severity:mild']);
  const severe = tagged.find((e) => e.text === 'severe')!;
  assert.equal(severe.score, 1);
  assert.equal(severe.source, 'rules');
  const out = attachAttributes(text, input);
  assert.deepEqual(attrsOf(out, 'headache'), ['severity:severe(rules)']);
  assert.deepEqual(attrsOf(out, 'swelling'), ['severity:mild(rules)', 'bodySite:site']);
});

test('severity: after the finding ("the pain was severe") and a range ("mild to moderate") are one word each', () => {
  const text = 'The abdominal pain was severe. There was mild to moderate mitral regurgitation.';
  const out = tagAttributeWords(text, ents(text, [['abdominal', 'Biological_structure'], ['pain', 'Sign_symptom'], ['mitral regurgitation', 'Disease_disorder']]), rules);
  assert.deepEqual(added(out), ['Severity:severe', 'Severity:mild to moderate']);
});

test('severity: a word with no finding near it in its sentence is dropped', () => {
  const text = 'The course was severe. Pain resolved.';
  assert.deepEqual(added(tagAttributeWords(text, ents(text, [['Pain', 'Sign_symptom']]), rules)), []);
  const far = 'A severe course over many long weeks and then some more days of headache.';
  assert.deepEqual(added(tagAttributeWords(far, ents(far, [['headache', 'Sign_symptom']]), rules)), []);
  // A test or a drug is no head for a severity.
  const lab = 'Severe anemia workup: hemoglobin was moderate.';
  assert.deepEqual(added(tagAttributeWords(lab, ents(lab, [['hemoglobin', 'Diagnostic_procedure']]), rules)), []);
});

test('severity: a model span that covers the word wins (no second span, nothing relabelled)', () => {
  const text = 'He had severe aplastic anemia and severe pain.';
  const input = ents(text, [['severe aplastic anemia', 'Disease_disorder'], ['severe', 'Severity'], ['pain', 'Sign_symptom']]);
  const out = tagAttributeWords(text, input, rules);
  assert.deepEqual(added(out), []);
  assert.deepEqual(out, input);
  const lab = 'Liver enzymes were mildly elevated with severe hepatitis.';
  const nested = ents(lab, [['Liver enzymes', 'Diagnostic_procedure'], ['severe hepatitis', 'Detailed_description']]);
  const hepatitis = lab.indexOf('hepatitis');
  nested.push({ start: hepatitis, end: hepatitis + 9, text: 'hepatitis', label: 'Disease_disorder', score: 0.9 });
  const labOut = tagAttributeWords(lab, nested, rules);
  assert.deepEqual(added(labOut), []);
});

test('severity: words of the list only, whole words ("mildly", "severity", "Moderate" capitalised)', () => {
  const text = 'Moderate dyspnea; mildly tender abdomen; severity of rash unknown.';
  const out = tagAttributeWords(text, ents(text, [['dyspnea', 'Sign_symptom'], ['tender', 'Sign_symptom'], ['abdomen', 'Biological_structure'], ['rash', 'Sign_symptom']]), rules);
  assert.deepEqual(added(out), ['Severity:Moderate']);
});

test('route: a route word next to a drug becomes Administration; "stage IV" and a route far from any drug do not', () => {
  const text = 'He was given intravenous methylprednisolone and oral prednisone.';
  const out = attachAttributes(text, ents(text, [['methylprednisolone', 'Medication'], ['prednisone', 'Medication']]));
  assert.deepEqual(attrsOf(out, 'methylprednisolone'), ['route:intravenous(rules)']);
  assert.deepEqual(attrsOf(out, 'prednisone'), ['route:oral(rules)']);
  const stage = 'A woman with stage IV NSCLC was treated with carboplatin.';
  assert.deepEqual(added(tagAttributeWords(stage, ents(stage, [['NSCLC', 'Disease_disorder'], ['carboplatin', 'Medication']]), rules)), []);
  const noDrug = 'The oral mucosa was dry.';
  assert.deepEqual(added(tagAttributeWords(noDrug, ents(noDrug, [['dry', 'Sign_symptom']]), rules)), []);
});

test('route and frequency: the model span (or the sig split) covering them wins', () => {
  const text = 'Metformin 500 mg orally twice daily was continued.';
  // The model's sig span is split by sig.ts; the words tagger adds nothing inside it.
  const spans = attributeSpans(text, ents(text, [['Metformin', 'Medication'], ['500 mg orally twice daily', 'Dosage']]), rules);
  assert.deepEqual(spans.map((e) => `${e.label}:${e.text}${e.source ? '(rules)' : ''}`), ['Medication:Metformin', 'Dosage:500 mg', 'Administration:orally', 'Frequency:twice daily']);
  const model = 'Aspirin daily by mouth.';
  const given = ents(model, [['Aspirin', 'Medication'], ['daily by mouth', 'Frequency']]);
  assert.deepEqual(added(tagAttributeWords(model, given, rules)), []);
});

test('frequency: a frequency phrase next to a drug and no dose becomes Frequency from rules', () => {
  const text = 'She takes ibuprofen as needed for pain.';
  const out = attachAttributes(text, ents(text, [['ibuprofen', 'Medication'], ['pain', 'Sign_symptom']]));
  assert.deepEqual(attrsOf(out, 'ibuprofen'), ['frequency:as needed(rules)']);
});

test('no words in the rules: nothing added; bad words rules are refused', () => {
  const { words: _w, ...none } = structuredClone(rules);
  const text = 'severe headache';
  const input = ents(text, [['headache', 'Sign_symptom']]);
  assert.deepEqual(attachAttributes(text, input, none)[0]!.attributes, undefined);
  const refused = (w: unknown, re: RegExp): void =>
    assert.throws(() => parseAttributeRules({ ...structuredClone(rules), words: w }), (e: unknown) => e instanceof MednerError && e.code === 'RULES_INVALID' && re.test(e.message));
  refused([{ label: 'Severity', maxWords: 3 }], /invalid/);
  refused([{ label: 'Nope', terms: ['x'], maxWords: 3 }], /no attribute rule/);
  refused([{ label: 'Severity', terms: ['(['], maxWords: 3 }], /regular expression/);
  const { sig: _s, ...noSig } = structuredClone(rules);
  assert.throws(() => parseAttributeRules({ ...noSig, words: [{ label: 'Administration', sig: 'routes', maxWords: 3 }] }), /no sig/);
});

test('relabel: a model span that is exactly the word, with a label the rules list, becomes the attribute', () => {
  const text = 'She reports a severe headache. Ceftriaxone 2 g was given intravenously with oral prednisone.';
  const input = ents(text, [['severe', 'Detailed_description'], ['headache', 'Sign_symptom'], ['Ceftriaxone', 'Medication'], ['2 g', 'Dosage'], ['intravenously', 'Medication'], ['oral', 'Medication'], ['prednisone', 'Medication']]);
  const out = tagAttributeWords(text, input, rules);
  assert.deepEqual(added(out), ['Severity:severe', 'Administration:intravenously', 'Administration:oral']);
  assert.equal(out.length, input.length);
  const attached = attachAttributes(text, input);
  assert.deepEqual(attrsOf(attached, 'headache'), ['severity:severe(rules)']);
  assert.deepEqual(attrsOf(attached, 'prednisone'), ['route:oral(rules)']);
  assert.equal(attached.filter((e) => e.label === 'Medication').length, 2);
});

test('relabel: not without a head, not from a label the rules do not list, not a longer span', () => {
  const text = 'The course was severe. Mild headache. Moderate rash.';
  const input = ents(text, [['severe', 'Detailed_description'], ['Mild', 'Sign_symptom'], ['headache', 'Sign_symptom'], ['Moderate rash', 'Detailed_description']]);
  const rash = text.lastIndexOf('rash');
  input.push({ start: rash, end: rash + 4, text: 'rash', label: 'Sign_symptom', score: 0.9 });
  assert.deepEqual(tagAttributeWords(text, input, rules), input);
  const alone = 'Oral was given.';
  const drug = ents(alone, [['Oral', 'Medication']]);
  assert.deepEqual(tagAttributeWords(alone, drug, rules), drug);
});

test('the NLP stack tags the attribute words for a mapping with their labels (the clinical one), and not for the BC5CDR one', async () => {
  const { withNlpStack } = await import('../../src/pipeline/nlp-engine.ts');
  const { BC5CDR_MAPPING_FILE, loadLabelMapping } = await import('../../src/fhir/label-mapping.ts');
  const { fileURLToPath } = await import('node:url');
  const text = 'She had severe pain and received morphine intravenously.';
  const found: Entity[] = ents(text, [['pain', 'Sign_symptom'], ['morphine', 'Medication']]);
  const engine = (labelOf: (l: string) => string) => ({ model: { name: 'fake', version: '0' }, extract: async (ts: string[]) => ts.map(() => found.map((e) => ({ ...e, label: labelOf(e.label) }))) });
  const clinical = loadLabelMapping(fileURLToPath(new URL('../../models/medner-clinical-bge-small/label-mapping.json', import.meta.url)));
  const [out] = await withNlpStack(engine((l) => l), clinical, { linking: false, dictionary: false }).extract([text]);
  assert.deepEqual(out!.map((e) => `${e.label}:${e.text}${e.source ? `(${e.source})` : ''}`), ['Severity:severe(rules)', 'Sign_symptom:pain', 'Medication:morphine', 'Administration:intravenously(rules)']);
  const [off] = await withNlpStack(engine((l) => l), clinical, { linking: false, dictionary: false, attributeWords: false }).extract([text]);
  assert.equal(off!.length, 2);
  const bc5cdr = loadLabelMapping(fileURLToPath(BC5CDR_MAPPING_FILE));
  const [plain] = await withNlpStack(engine((l) => (l === 'Medication' ? 'Chemical' : 'Disease')), bc5cdr, { linking: false, dictionary: false }).extract([text]);
  assert.deepEqual(plain!.map((e) => e.label), ['Disease', 'Chemical']);
});
