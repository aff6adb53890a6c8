import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Entity } from '../../src/core/entity.ts';
import { defaultAttributeRules, parseAttributeRules } from '../../src/nlp/attributes.ts';
import { drugsBeforeDoses, mergeAdjacent, relabelInconsistent, splitHistoryMarkers, tableNameKinds, withLabelConsistency, type NameKinds } from '../../src/nlp/label-consistency.ts';
import { sharedTerminology } from '../../src/nlp/linking/tables.ts';

const ent = (text: string, label = 'Medication', start = 0): Entity => ({ start, end: start + text.length, text, label, score: 0.9 });
const kinds = (): NameKinds => tableNameKinds(sharedTerminology());
const at = (text: string, part: string, label = 'Medication', score = 0.4): Entity => ({ start: text.indexOf(part), end: text.indexOf(part) + part.length, text: part, label, score });

test('disease rule: a drug-labelled name the tables know only as a disease becomes a disorder, marked rules', () => {
  const [e] = relabelInconsistent('', [ent('otitis media')], kinds());
  assert.equal(e!.label, 'Disease_disorder');
  assert.equal(e!.source, 'rules');
  assert.equal(e!.score, 0.9);
  assert.equal(relabelInconsistent('', [ent('Pneumonia')], kinds())[0]!.label, 'Disease_disorder');
});

test('disease rule: real drug names stay Medication', () => {
  for (const t of ['metformin', 'aspirin', 'warfarin', 'Heparin']) {
    const [e] = relabelInconsistent('', [ent(t)], kinds());
    assert.equal(e!.label, 'Medication', t);
    assert.equal(e!.source, undefined, t);
  }
});

test('disease rule: a name known both as a disease and as a chemical keeps the model label', () => {
  const k = kinds();
  assert.ok(k.disease('PCP') && k.chemical('PCP'), 'fixture: PCP is both in the tables');
  assert.equal(relabelInconsistent('', [ent('PCP')], k)[0]!.label, 'Medication');
  const fake: NameKinds = { disease: (t) => t === 'x', chemical: (t) => t === 'x' };
  assert.equal(relabelInconsistent('', [ent('x')], fake)[0]!.label, 'Medication');
});

test('disease rule: short forms and vaccines named after a disease keep the model label', () => {
  const k = kinds();
  assert.ok(k.disease('PE') && !k.chemical('PE'), 'fixture: PE is a disease name only');
  assert.equal(relabelInconsistent('PE', [ent('PE')], k)[0]!.label, 'Medication');
  const text = 'failed to respond to hepatitis B virus vaccinations';
  const s = text.indexOf('hepatitis B');
  assert.equal(relabelInconsistent(text, [ent('hepatitis B', 'Medication', s)], k)[0]!.label, 'Medication');
  const t2 = 'History of hepatitis B.';
  assert.equal(relabelInconsistent(t2, [ent('hepatitis B', 'Medication', 11)], k)[0]!.label, 'Disease_disorder');
});

test('disease rule: needs the tables; only from-labels are touched', () => {
  assert.equal(relabelInconsistent('', [ent('otitis media')], undefined)[0]!.label, 'Medication');
  const [sign] = relabelInconsistent('', [ent('otitis media', 'Sign_symptom')], kinds());
  assert.equal(sign!.label, 'Sign_symptom');
  assert.equal(sign!.source, undefined);
});

test('procedure rule: curated procedure words become a therapeutic procedure, marked rules', () => {
  for (const t of ['hemodialysis', 'Blood  transfusion', 'dialysis', 'intubation']) {
    const [e] = relabelInconsistent('', [ent(t)], kinds());
    assert.equal(e!.label, 'Therapeutic_procedure', t);
    assert.equal(e!.source, 'rules', t);
  }
});

test('procedure rule: only whole spans; ambiguous words (chemotherapy) and drugs stay Medication', () => {
  for (const t of ['chemotherapy', 'oxygen', 'dialysis solution', 'transfusion of cryoprecipitate', 'cisplatin']) {
    assert.equal(relabelInconsistent('', [ent(t)], kinds())[0]!.label, 'Medication', t);
  }
});

test('procedure list: every excluded word is really absent from procedures', () => {
  const lc = defaultAttributeRules().labelConsistency!;
  assert.ok(lc.excluded && Object.keys(lc.excluded).length > 0);
  for (const w of Object.keys(lc.excluded!)) assert.ok(!lc.procedures.includes(w), w);
});

test('target labels the model lacks are not produced', () => {
  const labels = new Set(['Medication', 'Disease_disorder']);
  assert.equal(relabelInconsistent('', [ent('hemodialysis')], kinds(), undefined, labels)[0]!.label, 'Medication');
  assert.equal(relabelInconsistent('', [ent('otitis media')], kinds(), undefined, labels)[0]!.label, 'Disease_disorder');
});

test('no labelConsistency block: nothing changes; the schema rejects a bad block', () => {
  const { labelConsistency: _, ...rest } = defaultAttributeRules();
  const input = [ent('hemodialysis'), ent('otitis media', 'Medication', 20)];
  assert.deepEqual(relabelInconsistent('', input, kinds(), rest), input);
  assert.throws(() => parseAttributeRules({ ...rest, labelConsistency: { from: ['Medication'], diseaseTo: 'Disease_disorder' } }), /RULES_INVALID|invalid/);
});

test('withLabelConsistency wraps an engine; the input entities are not modified', async () => {
  const input = [ent('hemodialysis'), ent('aspirin', 'Medication', 20)];
  const engine = { extract: async (texts: string[]) => texts.map(() => input), name: 'fake' };
  const wrapped = withLabelConsistency(engine, kinds(), new Set(['Medication', 'Therapeutic_procedure', 'Disease_disorder']));
  const [out] = await wrapped.extract(['x']);
  assert.deepEqual(out!.map((e) => e.label), ['Therapeutic_procedure', 'Medication']);
  assert.equal(input[0]!.label, 'Medication');
  assert.equal(wrapped.name, 'fake');
});

test('combination products: two drug spans joined by a hyphen or slash become one, other gaps and labels do not', () => {
  const none: NameKinds = { disease: () => false, chemical: () => true };
  const amox = 'Amoxicillin-clavulanate 875 mg orally twice daily.';
  const out = relabelInconsistent(amox, [at(amox, 'Amoxicillin', 'Medication', 0.42), at(amox, 'clavulanate', 'Medication', 0.25), at(amox, '875 mg', 'Dosage')], none);
  assert.deepEqual(out.map((e) => `${e.label}:${e.text}`), ['Medication:Amoxicillin-clavulanate', 'Dosage:875 mg']);
  assert.equal(out[0]!.source, 'rules');
  assert.equal(out[0]!.score, 0.25);
  const kept = 'Discharged on amoxicillin-clavulanate 875 mg.';
  assert.deepEqual(relabelInconsistent(kept, [at(kept, 'amoxicillin-'), at(kept, 'clavulanate')], none).map((e) => e.text), ['amoxicillin-clavulanate']);
  const pip = 'Piperacillin/tazobactam 4.5 g IV.';
  assert.equal(relabelInconsistent(pip, [at(pip, 'Piperacillin'), at(pip, 'tazobactam')], none).length, 1);
  for (const text of ['Aspirin and clopidogrel were given.', 'Aspirin, clopidogrel.', 'Aspirin clopidogrel']) {
    const pair = [at(text, 'Aspirin'), at(text, 'clopidogrel')];
    assert.equal(relabelInconsistent(text, pair, none).length, 2, text);
  }
  const mixed = 'Heparin-induced thrombocytopenia.';
  assert.equal(relabelInconsistent(mixed, [at(mixed, 'Heparin'), at(mixed, 'induced thrombocytopenia', 'Disease_disorder')], none).length, 2);
  // A dosage form after a drug is part of it; a drug after a drug is not.
  const inh = 'Albuterol inhaler 2 puffs every 4 hours as needed.';
  assert.deepEqual(relabelInconsistent(inh, [at(inh, 'Albuterol'), at(inh, 'inhaler')], none).map((e) => e.text), ['Albuterol inhaler']);
  const two = 'Aspirin clopidogrel';
  assert.equal(relabelInconsistent(two, [at(two, 'Aspirin'), at(two, 'clopidogrel')], none).length, 2);
  // Salts and release suffixes join too; a dosage form alone names no drug and goes.
  const salt = 'Metoprolol tartrate 25 mg PO BID; then infusion.';
  assert.deepEqual(relabelInconsistent(salt, [at(salt, 'Metoprolol'), at(salt, 'tartrate'), at(salt, 'infusion')], none).map((e) => e.text), ['Metoprolol tartrate']);
  const k = 'Potassium 40 mEq orally.';
  assert.deepEqual(relabelInconsistent(k, [at(k, 'Potassium')], none).map((e) => e.text), ['Potassium'], 'a salt word alone is a drug');
  const adj = 'Mastectomy followed by adjuvant chemotherapy and empiric antibiotics.';
  assert.deepEqual(relabelInconsistent(adj, [at(adj, 'adjuvant'), at(adj, 'chemotherapy'), at(adj, 'empiric'), at(adj, 'antibiotics')], none).map((e) => e.text), ['chemotherapy', 'antibiotics'], 'a modifier alone names no drug');
  const generic = 'Liver biopsy consistent with drug induced hepatitis; no new medication.';
  assert.deepEqual(relabelInconsistent(generic, [at(generic, 'drug'), at(generic, 'medication')], none), []);
  // A dash between spaces separates (an allergy list), it joins nothing.
  const list = 'Allergies: Penicillin - amoxicillin; sulfa.';
  assert.equal(relabelInconsistent(list, [at(list, 'Penicillin'), at(list, 'amoxicillin')], none).length, 2);
  // Without the joiner in the rules nothing is combined.
  const { combineJoiner: _j, ...lc } = defaultAttributeRules().labelConsistency!;
  const rules = { ...defaultAttributeRules(), labelConsistency: lc };
  assert.equal(relabelInconsistent(amox, [at(amox, 'Amoxicillin'), at(amox, 'clavulanate')], none, rules).length, 2);
});

test('drug before a dose: an untagged word starting a list item, then a dose and a route or frequency, is the drug', () => {
  const text = 'Discharge medications: acetaminophen 650 mg every 6 hours, docusate 100 mg twice daily.\nsenna 8.6 mg PO at bedtime';
  const ents: Entity[] = [at(text, 'acetaminophen'), at(text, '650 mg', 'Dosage'), at(text, 'every 6 hours', 'Frequency'), at(text, '100 mg', 'Dosage'), at(text, 'twice daily', 'Frequency')];
  const out = drugsBeforeDoses(text, ents);
  assert.deepEqual(out.filter((e) => e.label === 'Medication').map((e) => `${e.text}:${e.source ?? 'model'}`), ['acetaminophen:model', 'docusate:rules', 'senna:rules']);
  // Not: an order verb, a concentration, a dose without a route or frequency, a word inside a sentence, a lab analyte.
  for (const t of ['Plan: take 2 tablets daily.', 'Labs: glucose 250 mg/dL daily.', 'Home meds: lisinopril 10 mg.', 'She was given morphine 4 mg IV.', 'Labs: potassium 40 mEq orally']) {
    assert.deepEqual(drugsBeforeDoses(t, []), [], t);
  }
  // An entity on the word or a value on the dose stops it; a model without the label is left alone.
  const v = 'Labs: troponin 5 ng daily';
  assert.deepEqual(drugsBeforeDoses(v, [at(v, '5 ng', 'Lab_value')]).length, 1);
  assert.deepEqual(drugsBeforeDoses(text, ents, undefined, new Set(['Disease'])), ents);
});

test('adjacent spans of a mergeAdjacent label with one space between are one; other labels and gaps are not', () => {
  const text = 'Laparoscopic cholecystectomy; CRP markedly elevated; hot flashes; Laparoscopic  cholecystectomy.';
  const e = [at(text, 'Laparoscopic', 'Therapeutic_procedure'), at(text, 'cholecystectomy', 'Therapeutic_procedure'), at(text, 'markedly', 'Lab_value'), at(text, 'elevated', 'Lab_value'), at(text, 'hot', 'Sign_symptom'), at(text, 'flashes', 'Sign_symptom')];
  const last = text.lastIndexOf('Laparoscopic');
  e.push({ ...at(text, 'Laparoscopic', 'Therapeutic_procedure'), start: last, end: last + 12 }, { ...at(text, 'cholecystectomy', 'Therapeutic_procedure'), start: last + 14, end: last + 29 });
  const rules = defaultAttributeRules().labelConsistency!.mergeAdjacent!;
  assert.deepEqual(rules, ['Lab_value', 'Therapeutic_procedure']);
  assert.deepEqual(
    mergeAdjacent(text, e, rules).map((x) => `${x.label}:${text.slice(x.start, x.end)}`),
    ['Therapeutic_procedure:Laparoscopic cholecystectomy', 'Lab_value:markedly elevated', 'Sign_symptom:hot', 'Sign_symptom:flashes', 'Therapeutic_procedure:Laparoscopic', 'Therapeutic_procedure:cholecystectomy'],
  );
  assert.equal(mergeAdjacent(text, e, []).length, e.length);
});

test('a span with a dash between spaces is two mentions: substance before reaction', () => {
  const text = 'Allergies: Penicillin - anaphylaxis; sulfa - rash; latex.';
  const out = relabelInconsistent(text, [at(text, 'Penicillin - anaphylaxis'), at(text, 'sulfa - rash', 'Disease_disorder')], kinds());
  assert.deepEqual(out.map((e) => `${e.label}:${e.text}`), ['Medication:Penicillin', 'Disease_disorder:anaphylaxis', 'Medication:sulfa', 'Disease_disorder:rash']);
  const hyphen = 'Heparin-induced thrombocytopenia.';
  assert.equal(relabelInconsistent(hyphen, [at(hyphen, 'Heparin-induced thrombocytopenia', 'Disease_disorder')], kinds()).length, 1, 'a hyphen inside a word splits nothing');
});

test('a device whose placement is the procedure, labelled a body structure, is a procedure; the body part is not', () => {
  const none: NameKinds = { disease: () => false, chemical: () => true };
  const text = 'A chest tube was placed in the right chest.';
  const out = relabelInconsistent(text, [at(text, 'chest tube', 'Biological_structure'), at(text, 'right chest', 'Biological_structure')], none);
  assert.deepEqual(out.map((e) => `${e.text}:${e.label}`), ['chest tube:Therapeutic_procedure', 'right chest:Biological_structure']);
});

test('allergy list: the mention that starts an item is the substance; vitamin K is one drug; ICD-10-CM names are disease names', () => {
  const text = 'Allergies: Sulfa (hives); latex.\nPlan: Vitamin K 10 mg IV once. Melena for 2 days.';
  const out = relabelInconsistent(text, [at(text, 'Sulfa', 'Disease_disorder'), at(text, 'hives', 'Sign_symptom'), at(text, 'latex', 'Detailed_description'), at(text, 'Vitamin'), at(text, 'K'), at(text, 'Melena')], kinds());
  assert.deepEqual(out.map((e) => `${e.label}:${e.text}`), ['Medication:Sulfa', 'Sign_symptom:hives', 'Medication:latex', 'Medication:Vitamin K', 'Disease_disorder:Melena']);
  // Outside an allergy list nothing is a substance by place.
  const hpi = 'HPI: Hives after sulfa.';
  assert.equal(relabelInconsistent(hpi, [at(hpi, 'Hives', 'Sign_symptom')], kinds())[0]!.label, 'Sign_symptom');
});

test('a span that starts a curated procedure phrase the text completes is that procedure', () => {
  const none: NameKinds = { disease: () => false, chemical: () => true };
  const text = 'Physical therapy daily. Cardiac rehabilitation referral placed. Cardiac murmur.';
  const out = relabelInconsistent(text, [at(text, 'Physical', 'Diagnostic_procedure'), at(text, 'Cardiac', 'Diagnostic_procedure'), { ...at(text, 'Cardiac', 'Biological_structure'), start: text.lastIndexOf('Cardiac'), end: text.lastIndexOf('Cardiac') + 7 }], none);
  assert.deepEqual(out.map((e) => `${e.label}:${e.text}`), ['Therapeutic_procedure:Physical therapy', 'Therapeutic_procedure:Cardiac rehabilitation', 'Biological_structure:Cardiac']);
});

test('an attribute span on a section header is dropped before it can attach; NPO is a procedure; "extended release" names no drug', () => {
  const none: NameKinds = { disease: () => false, chemical: () => true };
  const text = 'CC: abdominal pain.\nPlan: NPO. Start morphine extended release 30 mg PO every 12 hours.';
  const out = relabelInconsistent(text, [at(text, 'CC', 'Biological_structure'), at(text, 'pain', 'Sign_symptom'), at(text, 'NPO'), at(text, 'morphine'), at(text, 'release')], none);
  assert.deepEqual(out.map((e) => `${e.label}:${e.text}`), ['Sign_symptom:pain', 'Therapeutic_procedure:NPO', 'Medication:morphine']);
});

test('procedure suffix: a drug or body-structure span ending in a surgical suffix is a procedure', () => {
  const none: NameKinds = { disease: () => false, chemical: () => true };
  const text = 'She had a hysterectomy and a right lobectomy; the colostomy bag; heart; lobectomy.';
  const e = [at(text, 'hysterectomy'), at(text, 'right lobectomy', 'Biological_structure'), at(text, 'colostomy', 'Sign_symptom'), at(text, 'heart', 'Biological_structure'), { ...at(text, 'lobectomy', 'Medication'), start: text.lastIndexOf('lobectomy'), end: text.lastIndexOf('lobectomy') + 9 }];
  assert.deepEqual(
    relabelInconsistent(text, e, none).map((x) => `${x.text}:${x.label}`),
    ['hysterectomy:Therapeutic_procedure', 'right lobectomy:Therapeutic_procedure', 'colostomy:Sign_symptom', 'heart:Biological_structure', 'lobectomy:Therapeutic_procedure'],
  );
  // Not for a model without the procedure label.
  assert.equal(relabelInconsistent(text, e, none, undefined, new Set(['Medication', 'Biological_structure']))[0]!.label, 'Medication');
});

test('history shorthand: a leading h/o is cut off; s/p inside a span splits off the procedure done', () => {
  const text = 'HPI: 72 yo M with h/o HTN, DM2 and CAD s/p CABG in 2015.';
  const e = [at(text, 'h/o HTN', 'Diagnostic_procedure'), at(text, 'DM2', 'Diagnostic_procedure'), at(text, 'CAD s/p CABG', 'Diagnostic_procedure'), at(text, '72 yo M', 'Lab_value')];
  assert.deepEqual(
    splitHistoryMarkers(text, e).map((x) => `${x.label}:${x.text}`),
    ['Lab_value:72 yo M', 'Diagnostic_procedure:HTN', 'Diagnostic_procedure:DM2', 'Diagnostic_procedure:CAD', 'Therapeutic_procedure:CABG'],
  );
  // With the tables: the short forms are curated aliases of disorders, so they become disorders.
  assert.deepEqual(
    relabelInconsistent(text, e, kinds()).map((x) => `${x.label}:${x.text}`),
    ['Lab_value:72 yo M', 'Disease_disorder:HTN', 'Disease_disorder:DM2', 'Disease_disorder:CAD', 'Therapeutic_procedure:CABG'],
  );
});

test('disease from tests: a test-labelled disease name is the disorder unless something reads it as a test', () => {
  const text = 'Assessment: AKI on CKD stage 3. Acute pancreatitis. PE: lungs clear. HIV negative. Hepatitis C serology sent. Pancreatitis 4.';
  const tests = ['AKI', 'CKD stage 3', 'Acute pancreatitis', 'PE', 'HIV', 'Hepatitis C'].map((w) => at(text, w, 'Diagnostic_procedure'));
  const last = text.lastIndexOf('Pancreatitis');
  const e = [...tests, { ...at(text, 'Pancreatitis', 'Diagnostic_procedure'), start: last, end: last + 12 }, at(text, '4', 'Lab_value')];
  const out = relabelInconsistent(text, e, kinds());
  assert.deepEqual(
    out.filter((x) => x.label !== 'Lab_value').map((x) => `${x.text}:${x.label === 'Disease_disorder' ? 'disorder' : 'test'}`),
    ['AKI:disorder', 'CKD stage 3:disorder', 'Acute pancreatitis:disorder', 'PE:test', 'HIV:test', 'Hepatitis C:test', 'Pancreatitis:test'],
  );
});
