import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Entity } from '../../src/core/entity.ts';
import { admits, defaultDictionaryRules, Gazetteer, nameKey, parseDictionaryRules, sharedGazetteer, tokenize, type DictionaryRules } from '../../src/nlp/dictionary/gazetteer.ts';
import { fillFromDictionary, withDictionary } from '../../src/nlp/dictionary/with-dictionary.ts';
import { assertEntities } from '../../src/nlp/assertions.ts';
import { BC5CDR_MAPPING_FILE, loadLabelMapping, parseLabelMapping } from '../../src/fhir/label-mapping.ts';
import { withNlpStack } from '../../src/pipeline/nlp-engine.ts';

const CLINICAL_MAPPING = fileURLToPath(new URL('../../models/medner-clinical-bge-small/label-mapping.json', import.meta.url));

function gazetteer(...names: string[]): Gazetteer {
  const g = new Gazetteer();
  for (const n of names) g.addKey(nameKey(n));
  return g;
}
const texts = (text: string, spans: { start: number; end: number }[]): string[] => spans.map((s) => text.slice(s.start, s.end));

/** An engine that finds the given entities in each text (none when the text is not listed). */
function fakeEngine(found: Record<string, Entity[]> = {}) {
  return {
    model: { name: 'fake', version: '0' },
    calls: 0,
    async extract(ts: string[]): Promise<Entity[][]> {
      this.calls++;
      return ts.map((t) => (found[t] ?? []).map((e) => ({ ...e })));
    },
  };
}

test('matching: the longest name wins, case-insensitive, after the linker normalization', () => {
  const g = gazetteer('diabetes', 'diabetes mellitus', 'type 2 diabetes mellitus', "Crohn's disease", 'asthma');
  const t = 'PMH: Type II Diabetes Mellitus, ASTHMA and Crohns disease; diabetes.';
  assert.deepEqual(texts(t, g.match(t)), ['Type II Diabetes Mellitus', 'ASTHMA', 'Crohns disease', 'diabetes']);
  const p = "History of Crohn's disease.";
  assert.deepEqual(texts(p, g.match(p)), ["Crohn's disease"]);
});

test('matching: whole words only, and never across punctuation that ends a phrase', () => {
  const g = gazetteer('asthma', 'diabetes mellitus', 'heart failure');
  for (const t of ['asthmatic bronchitis', 'prediabetes', 'nonasthma', 'diabetes. Mellitus is', 'heart, failure', 'heart (failure)']) {
    assert.deepEqual(texts(t, g.match(t)), [], t);
  }
  // hyphens and plain spaces join words of a name
  const t = 'heart-failure and asthma-like';
  assert.deepEqual(texts(t, g.match(t)), ['heart-failure', 'asthma']);
});

test('tokenize: offsets point at the words; the possessive s is no word', () => {
  const t = "Crohn's  disease, TYPE IV";
  const toks = tokenize(t);
  assert.deepEqual(toks.map((k) => k.norm), ['crohn', 'disease', 'type', '4']);
  assert.deepEqual(toks.map((k) => t.slice(k.start, k.end)), ['Crohn', 'disease', 'TYPE', 'IV']);
  assert.deepEqual(toks.map((k) => k.breakBefore), [false, false, true, false]);
});

test('rules: minimum lengths, single-word suffixes and the stop list decide what is admitted', () => {
  const rules: DictionaryRules = {
    sources: {},
    minChars: 4,
    minWords: 1,
    minCharsSingleWord: 5,
    singleWordExcludeSuffixes: ['ic'],
    exclude: [{ names: ['Pain', 'tumours'] }],
  };
  assert.equal(admits(rules, nameKey('asthma')), true);
  assert.equal(admits(rules, nameKey('gout')), false, 'single word under 5 characters');
  assert.equal(admits(rules, nameKey('MS')), false);
  assert.equal(admits(rules, nameKey('diabetic')), false, 'adjective suffix');
  assert.equal(admits(rules, nameKey('diabetic foot')), true, 'suffixes apply to single words only');
  assert.equal(admits(rules, nameKey('pain')), false, 'stop list, case-insensitive');
  assert.equal(admits(rules, nameKey('tumour')), false, 'stop list entries are normalized like names');
  assert.equal(admits(rules, nameKey('2 3')), false, 'digits alone');
  assert.equal(admits({ ...rules, minWords: 2 }, nameKey('asthma')), false);
});

test('rules file: the shipped rules validate; a malformed one is refused', () => {
  assert.ok(defaultDictionaryRules().exclude.length > 0);
  assert.throws(() => parseDictionaryRules({ sources: {}, minChars: 0, minWords: 1, minCharsSingleWord: 1, exclude: [] }), { code: 'RULES_INVALID' });
  assert.throws(() => parseDictionaryRules({ ...defaultDictionaryRules(), sources: { icd10cm: { chapters: ['ab'] } } }), { code: 'RULES_INVALID' });
});

test('shipped dictionary: the common disorders are in it, the deliberately excluded words are not', () => {
  const g = sharedGazetteer();
  for (const n of ['type 2 diabetes mellitus', 'essential hypertension', 'hypertension', 'hyperlipidemia', 'asthma', 'stroke', 'pneumonia']) assert.ok(g.has(nameKey(n)), n);
  // symptoms (ICD-10-CM chapter R and the stop list), everyday words, generic heads, adjectives, chemicals
  for (const n of ['pain', 'mass', 'cold', 'lead', 'shock', 'fever', 'cough', 'headache', 'tumor', 'disease', 'diabetic', 'hypertensive', 'bleeding', 'cisplatin', 'ms']) assert.ok(!g.has(nameKey(n)), n);
});

test('fill: dictionary spans that overlap no model entity are added, marked, in text order', () => {
  const g = gazetteer('type 2 diabetes mellitus', 'hypertension', 'asthma');
  const text = 'Known hypertension, type 2 diabetes mellitus and asthma.';
  const model: Entity[] = [{ start: 27, end: 44, text: 'diabetes mellitus', label: 'Sign_symptom', score: 0.4 }];
  const out = fillFromDictionary(g, text, model, { label: 'Disease_disorder', score: 0.5 });
  assert.deepEqual(
    out.map((e) => [e.text, e.label, e.score, e.source]),
    [
      ['hypertension', 'Disease_disorder', 0.5, 'dictionary'],
      ['diabetes mellitus', 'Sign_symptom', 0.4, undefined],
      ['asthma', 'Disease_disorder', 0.5, 'dictionary'],
    ],
  );
  for (const e of out) assert.equal(text.slice(e.start, e.end), e.text);
  // nothing to add: the same array comes back
  assert.equal(fillFromDictionary(g, 'No findings.', model, { label: 'Disease_disorder' }), model);
  // the default score
  assert.equal(fillFromDictionary(g, 'asthma', [], { label: 'X' })[0]!.score, 0.5);
});

test('no overlap: a model entity of any label over any part of a name keeps the name out', () => {
  const g = gazetteer('essential hypertension');
  const text = 'essential hypertension';
  for (const e of [
    { start: 0, end: 9, text: 'essential', label: 'Detailed_description', score: 0.3 },
    { start: 10, end: 22, text: 'hypertension', label: 'Sign_symptom', score: 0.4 },
    { start: 5, end: 12, text: 'tial hy', label: 'Lab_value', score: 0.1 },
  ]) {
    assert.deepEqual(fillFromDictionary(g, text, [e], { label: 'Disease_disorder' }), [e]);
  }
  // touching is not overlapping
  const before = { start: 0, end: 4, text: 'Has ', label: 'O', score: 1 };
  assert.equal(fillFromDictionary(g, 'Has essential hypertension', [before], { label: 'D' }).length, 2);
});

test('extend: a name completes a disorder the model found in part; modifiers inside go, kept labels stay nested', () => {
  const g = gazetteer('acute kidney injury', 'deep vein thrombosis', 'myocardial infarction', 'liver lesion', 'otitis', 'otitis media');
  const extend = { from: ['Disease_disorder', 'Sign_symptom'], over: ['Detailed_description'], keep: ['Biological_structure'] };
  const fill = { label: 'Disease_disorder', score: 0.5, extend };
  const at = (text: string, part: string, label: string, score = 0.4): Entity => ({ start: text.indexOf(part), end: text.indexOf(part) + part.length, text: part, label, score });
  const spans = (out: Entity[]): string[] => out.map((e) => `${e.label}:${e.text}${e.source ? `(${e.source})` : ''}`);

  const aki = 'Metformin was held because of acute kidney injury.';
  const akiOut = fillFromDictionary(g, aki, [at(aki, 'acute', 'Detailed_description', 0.9), at(aki, 'kidney injury', 'Disease_disorder', 0.23)], fill);
  assert.deepEqual(spans(akiOut), ['Disease_disorder:acute kidney injury(dictionary)']);
  assert.equal(akiOut[0]!.score, 0.23, "the disorder's score, not the modifier's");

  const dvt = 'There was no evidence of deep vein thrombosis.';
  assert.deepEqual(spans(fillFromDictionary(g, dvt, [at(dvt, 'deep vein', 'Biological_structure'), at(dvt, 'thrombosis', 'Sign_symptom')], fill)), [
    'Biological_structure:deep vein',
    'Disease_disorder:deep vein thrombosis(dictionary)',
  ]);
  // Untagged words complete it too ("myocardial [infarction]").
  const mi = 'Father died of myocardial infarction at 60.';
  assert.deepEqual(spans(fillFromDictionary(g, mi, [at(mi, 'myocardial', 'Disease_disorder')], fill)), ['Disease_disorder:myocardial infarction(dictionary)']);

  // Never: without extend; around modifiers alone; over a span of another label or one reaching outside; an exact span.
  const dvtModel = [at(dvt, 'deep vein', 'Biological_structure'), at(dvt, 'thrombosis', 'Sign_symptom')];
  assert.deepEqual(fillFromDictionary(g, dvt, dvtModel, { label: 'Disease_disorder' }), dvtModel);
  const modifierOnly = [at(aki, 'acute', 'Detailed_description')];
  assert.deepEqual(fillFromDictionary(g, aki, modifierOnly, fill), modifierOnly);
  // Around body structures only, the name is added and they stay nested ("[urinary] tract infection").
  const liver = 'A CT showed a liver lesion.';
  assert.deepEqual(spans(fillFromDictionary(g, liver, [at(liver, 'liver', 'Biological_structure')], fill)), ['Biological_structure:liver', 'Disease_disorder:liver lesion(dictionary)']);
  // ... unless a kept span is a disorder name itself: the model's mistake, no body site.
  const om = 'Diagnosis: acute otitis media, right ear.';
  assert.deepEqual(spans(fillFromDictionary(g, om, [at(om, 'otitis', 'Biological_structure'), at(om, 'right ear', 'Biological_structure')], fill)), ['Disease_disorder:otitis media(dictionary)', 'Biological_structure:right ear']);
  const drug = [at(aki, 'acute', 'Medication'), at(aki, 'kidney injury', 'Disease_disorder')];
  assert.deepEqual(fillFromDictionary(g, aki, drug, fill), drug);
  const outside = [at(aki, 'injury.', 'Sign_symptom')];
  assert.deepEqual(fillFromDictionary(g, aki, outside, fill), outside);
  const exact = [at(mi, 'myocardial infarction', 'Sign_symptom')];
  assert.deepEqual(fillFromDictionary(g, mi, exact, fill), exact);
});

test('withDictionary: the engine port with extract wrapped, other members passed through', async () => {
  const engine = fakeEngine();
  const wrapped = withDictionary(engine, gazetteer('asthma'), { label: 'Disease_disorder' });
  assert.equal(wrapped.model.name, 'fake');
  const [a, b] = await wrapped.extract(['asthma', 'nothing']);
  assert.equal(a![0]!.source, 'dictionary');
  assert.deepEqual(b, []);
  assert.equal(engine.calls, 1);
});

test('a mapping without a dictionary block leaves the output unchanged (BC5CDR mapping)', async () => {
  const bc5cdr = loadLabelMapping(fileURLToPath(BC5CDR_MAPPING_FILE));
  assert.equal(bc5cdr.dictionary, undefined);
  const found = { 'History of asthma.': [] as Entity[] };
  const plain = await fakeEngine(found).extract(['History of asthma.']);
  const stacked = await withNlpStack(fakeEngine(found), bc5cdr, { linking: false }).extract(['History of asthma.']);
  assert.deepEqual(stacked, plain);
  // and the clinical mapping with the dictionary turned off
  const clinical = loadLabelMapping(CLINICAL_MAPPING);
  assert.deepEqual(await withNlpStack(fakeEngine(found), clinical, { linking: false, dictionary: false }).extract(['History of asthma.']), plain);
});

test('the clinical stack: model -> dictionary -> linking, so filled-in disorders get ICD-10-CM codes', async () => {
  const clinical = loadLabelMapping(CLINICAL_MAPPING);
  assert.equal(clinical.dictionary?.label, 'Disease_disorder');
  const engine = withNlpStack(fakeEngine(), clinical, {});
  const [pmh, hist] = await engine.extract(['Past medical history: type 2 diabetes mellitus, essential hypertension.', 'History of asthma since childhood.']);
  const icd = (es: Entity[]) => es.map((e) => [e.text, e.source, e.codes?.find((c) => c.system.endsWith('icd-10-cm'))?.code]);
  assert.deepEqual(icd(pmh!), [
    ['type 2 diabetes mellitus', 'dictionary', 'E11'],
    ['essential hypertension', 'dictionary', 'I10'],
  ]);
  assert.deepEqual(icd(hist!), [['asthma', 'dictionary', 'J45']]);
});

test('assertions apply to filled-in disorders like any other: "denies asthma" stays refuted', async () => {
  const clinical = loadLabelMapping(CLINICAL_MAPPING);
  const engine = withNlpStack(fakeEngine(), clinical, { linking: false });
  const docs = ['The patient denies asthma.', 'History of asthma since childhood.', 'Mother has type 2 diabetes mellitus.'];
  const out = (await engine.extract(docs)).map((es, i) => assertEntities(docs[i]!, es));
  assert.equal(out[0]![0]!.text, 'asthma');
  assert.equal(out[0]![0]!.assertion.negated, true);
  assert.equal(out[1]![0]!.assertion.negated, false);
  assert.equal(out[1]![0]!.assertion.historical, true);
  assert.equal(out[2]![0]!.assertion.experiencer, 'family');
});

test('label mapping: the dictionary label must be a label of the mapping', () => {
  const raw = JSON.parse(readFileSync(CLINICAL_MAPPING, 'utf8')) as Record<string, unknown>;
  assert.doesNotThrow(() => parseLabelMapping(raw));
  assert.throws(() => parseLabelMapping({ ...raw, dictionary: { label: 'Disorder' } }), { code: 'MAPPING_INVALID' });
  assert.throws(() => parseLabelMapping({ ...raw, dictionary: { label: 'Disease_disorder', score: 2 } }), { code: 'MAPPING_INVALID' });
});
