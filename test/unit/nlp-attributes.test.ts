import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attachAttributes, attributeLabels, defaultAttributeRules, parseAttributeRules, relabelLabAnalytes, splitEmbeddedValues } from '../../src/nlp/attributes.ts';
import type { Entity } from '../../src/core/entity.ts';
import { MednerError } from '../../src/core/errors.ts';
import { ents } from '../support/entities.ts';

const attrsOf = (out: Entity[], text: string): string[] => (out.find((e) => e.text === text)?.attributes ?? []).map((a) => `${a.kind}:${a.text}`);

test('each test gets its own value in a run of results', () => {
  const text = 'WBC count was 12,700, ESR was 7 and CRP was 2.4 mg/dL.';
  const out = attachAttributes(text, ents(text, [['WBC count', 'Diagnostic_procedure'], ['12,700', 'Lab_value'], ['ESR', 'Diagnostic_procedure'], ['7', 'Lab_value'], ['CRP', 'Diagnostic_procedure'], ['2.4 mg/dL', 'Lab_value']]));
  assert.deepEqual(attrsOf(out, 'WBC count'), ['value:12,700']);
  assert.deepEqual(attrsOf(out, 'ESR'), ['value:7']);
  assert.deepEqual(attrsOf(out, 'CRP'), ['value:2.4 mg/dL']);
  assert.equal(out.find((e) => e.text === '7')?.attributes, undefined);
});

test('a value before its test ("elevated CRP") and a value after a coordinated list', () => {
  const text = 'Labs showed markedly elevated transaminases. Repeat WBC, ESR and CRP were normal.';
  const out = attachAttributes(text, ents(text, [['elevated', 'Lab_value'], ['transaminases', 'Diagnostic_procedure'], ['WBC', 'Diagnostic_procedure'], ['ESR', 'Diagnostic_procedure'], ['CRP', 'Diagnostic_procedure'], ['normal', 'Lab_value']]));
  assert.deepEqual(attrsOf(out, 'transaminases'), ['value:elevated']);
  for (const t of ['WBC', 'ESR', 'CRP']) assert.deepEqual(attrsOf(out, t), ['value:normal'], t);
});

test('a number right after its own test is not shared with a test before it in a list', () => {
  const text = 'RR 18 on the ventilator, SpO2 94%. Atrial fibrillation with RVR, CHA2DS2-VASc score 5.';
  const out = attachAttributes(text, ents(text, [['ventilator', 'Diagnostic_procedure'], ['SpO2', 'Diagnostic_procedure'], ['94%', 'Lab_value'], ['RVR', 'Diagnostic_procedure'], ['CHA2DS2-VASc score', 'Diagnostic_procedure'], ['5', 'Lab_value']]));
  assert.deepEqual(attrsOf(out, 'SpO2'), ['value:94%']);
  assert.deepEqual(attrsOf(out, 'ventilator'), []);
  assert.deepEqual(attrsOf(out, 'CHA2DS2-VASc score'), ['value:5']);
  assert.deepEqual(attrsOf(out, 'RVR'), []);
});

test('a body site or severity right before its finding is not shared with the list after it; one after the list is', () => {
  const text = 'Right upper quadrant pain and fever. Pain and swelling of the left knee. Elevated AST and ALT.';
  const out = attachAttributes(text, ents(text, [['Right upper quadrant', 'Biological_structure'], ['pain', 'Sign_symptom'], ['fever', 'Sign_symptom'], ['Pain', 'Sign_symptom'], ['swelling', 'Sign_symptom'], ['left knee', 'Biological_structure'], ['Elevated', 'Lab_value'], ['AST', 'Diagnostic_procedure'], ['ALT', 'Diagnostic_procedure']]));
  assert.deepEqual(attrsOf(out, 'pain'), ['bodySite:Right upper quadrant']);
  assert.deepEqual(attrsOf(out, 'fever'), []);
  assert.deepEqual(attrsOf(out, 'Pain'), ['bodySite:left knee']);
  assert.deepEqual(attrsOf(out, 'swelling'), ['bodySite:left knee']);
  assert.deepEqual(attrsOf(out, 'AST'), ['value:Elevated']);
  assert.deepEqual(attrsOf(out, 'ALT'), ['value:Elevated']);
});

test('a lab test span that ends in its value is split; marker names that end in a number are not', () => {
  const text = 'Labs: BUN 62, Cr 3.4 (up from 2.1). CD 34 positive. CKD stage 3.';
  const model = ents(text, [['BUN 62', 'Diagnostic_procedure'], ['Cr', 'Diagnostic_procedure'], ['3.4', 'Lab_value'], ['2.1', 'Lab_value'], ['CD 34', 'Diagnostic_procedure'], ['positive', 'Lab_value'], ['CKD stage 3', 'Diagnostic_procedure']]);
  assert.deepEqual(
    splitEmbeddedValues(text, model).map((e) => `${e.label}:${e.text}${e.source ? '*' : ''}`),
    ['Diagnostic_procedure:BUN', 'Lab_value:62*', 'Diagnostic_procedure:Cr', 'Lab_value:3.4', 'Lab_value:2.1', 'Diagnostic_procedure:CD 34', 'Lab_value:positive', 'Diagnostic_procedure:CKD stage 3'],
  );
  const out = attachAttributes(text, model);
  assert.deepEqual(attrsOf(out, 'BUN'), ['value:62']);
  assert.equal(attrsOf(out, 'Cr')[0], 'value:3.4', 'the earlier value ("up from 2.1") may follow it, never go to BUN');
});

test('ages, shorthand and counts are never a value: they are dropped before attachment', async () => {
  const { dropNotValues } = await import('../../src/nlp/attributes.ts');
  const text = 'HPI: 72 yo M with HTN p/w chest pressure x 2 hours and N/V. Troponin 1.2 ng/mL.';
  const model = ents(text, [['72 yo M', 'Lab_value'], ['HTN', 'Diagnostic_procedure'], ['p/w', 'Lab_value'], ['chest pressure', 'Diagnostic_procedure'], ['x 2 hours', 'Lab_value'], ['N/V', 'Lab_value'], ['Troponin', 'Diagnostic_procedure'], ['1.2 ng/mL', 'Lab_value']]);
  assert.deepEqual(dropNotValues(model).filter((e) => e.label === 'Lab_value').map((e) => e.text), ['1.2 ng/mL']);
  const out = attachAttributes(text, model);
  assert.deepEqual(attrsOf(out, 'HTN'), []);
  assert.deepEqual(attrsOf(out, 'chest pressure'), []);
  assert.deepEqual(attrsOf(out, 'Troponin'), ['value:1.2 ng/mL']);
});

test('a temperature goes to a temperature, never to another test', () => {
  const text = 'Fever to 40.1 C for 3 days and decreased oral intake. Temp 38.2 C.';
  const out = attachAttributes(text, ents(text, [['40.1 C', 'Lab_value'], ['oral', 'Diagnostic_procedure'], ['Temp', 'Diagnostic_procedure'], ['38.2 C', 'Lab_value']]));
  assert.deepEqual(attrsOf(out, 'oral'), []);
  assert.deepEqual(attrsOf(out, 'Temp'), ['value:38.2 C']);
});

test('dose, route and frequency go to their drug, not to the next one; nothing crosses a sentence', () => {
  const text = 'Started metoprolol 25 mg orally twice daily and lisinopril 10 mg daily. Aspirin was stopped. 81 mg';
  const out = attachAttributes(
    text,
    ents(text, [['metoprolol', 'Medication'], ['25 mg', 'Dosage'], ['orally', 'Administration'], ['twice daily', 'Frequency'], ['lisinopril', 'Medication'], ['10 mg', 'Dosage'], ['daily', 'Frequency'], ['Aspirin', 'Medication'], ['81 mg', 'Dosage']]),
  );
  assert.deepEqual(attrsOf(out, 'metoprolol'), ['dose:25 mg', 'route:orally', 'frequency:twice daily']);
  assert.deepEqual(attrsOf(out, 'lisinopril'), ['dose:10 mg', 'frequency:daily']);
  assert.deepEqual(attrsOf(out, 'Aspirin'), []);
});

test('severity and body site go to the finding; the abbreviation in brackets stands for its long form', () => {
  const text = 'She reported severe pain in the left knee. Visual acuity (VA) was 20/40.';
  const out = attachAttributes(text, ents(text, [['severe', 'Severity'], ['pain', 'Sign_symptom'], ['left knee', 'Biological_structure'], ['Visual acuity', 'Diagnostic_procedure'], ['VA', 'Diagnostic_procedure'], ['20/40', 'Lab_value']]));
  assert.deepEqual(attrsOf(out, 'pain'), ['severity:severe', 'bodySite:left knee']);
  assert.deepEqual(attrsOf(out, 'Visual acuity'), ['value:20/40']);
  assert.deepEqual(attrsOf(out, 'VA'), []);
});

test('pure: input untouched, order kept, labels without rules pass through, existing attributes kept', () => {
  const text = 'Chemical X 5 mg given.';
  const input = ents(text, [['Chemical X', 'Chemical'], ['5 mg', 'Dosage']]);
  const copy = structuredClone(input);
  const out = attachAttributes(text, input);
  assert.deepEqual(input, copy);
  assert.deepEqual(out, copy);
  const pre: Entity[] = [{ ...input[0]!, label: 'Medication', attributes: [] }, input[1]!];
  assert.deepEqual(attachAttributes(text, pre)[0]!.attributes, []);
});

test('rules are validated by schema; the shipped rules name their attribute labels', () => {
  assert.throws(() => parseAttributeRules({ rules: [] }), (e: unknown) => e instanceof MednerError && e.code === 'RULES_INVALID');
  const bad = structuredClone(defaultAttributeRules());
  bad.sentenceBreak = '([';
  assert.throws(() => parseAttributeRules(bad), (e: unknown) => e instanceof MednerError && /regular expression/.test(e.message));
  assert.deepEqual([...attributeLabels()].sort(), ['Administration', 'Biological_structure', 'Dosage', 'Duration', 'Frequency', 'Lab_value', 'Severity']);
});

test('attachment eval: MODIFY relations (events resolved to triggers) are the gold; end to end needs exact spans', async () => {
  const { parseBratAnn } = await import('../../src/nlp/brat.ts');
  const { goldFromBrat, evaluateAttachment, evaluateEndToEnd } = await import('../../src/nlp/attributes-eval.ts');
  const text = 'Hemoglobin was 9.2 g/dL and platelets were 48. She took aspirin 81 mg.';
  const ann = [
    'T1\tDiagnostic_procedure 0 10\tHemoglobin',
    'E1\tDiagnostic_procedure:T1 ',
    'T2\tLab_value 15 23\t9.2 g/dL',
    'T3\tDiagnostic_procedure 28 37\tplatelets',
    'T4\tLab_value 43 45\t48',
    'T5\tMedication 56 63\taspirin',
    'T6\tDosage 64 69\t81 mg',
    'R1\tMODIFY Arg1:T2 Arg2:E1\t',
    'R2\tMODIFY Arg1:T4 Arg2:T3\t',
    'R3\tMODIFY Arg1:T6 Arg2:T5\t',
  ].join('\n');
  const docs = goldFromBrat([parseBratAnn(ann, text, 'x.ann')]);
  const r = evaluateAttachment(docs, 'inline');
  assert.equal(r.goals.valuesToTests.spans, 2);
  assert.equal(r.goals.valuesToTests.exactAccuracy, 1);
  assert.equal(r.goals.dosesToMedications.exactAccuracy, 1);
  // A model that cut "9.2 g/dL" to "9.2" loses that pair end to end.
  const predicted = docs[0]!.entities.map((e) => (e.text === '9.2 g/dL' ? { ...e, end: e.start + 3, text: '9.2' } : e));
  const e2e = evaluateEndToEnd(docs, [predicted], 'inline');
  assert.deepEqual([e2e.goals.valuesToTests.tp, e2e.goals.valuesToTests.fp, e2e.goals.valuesToTests.fn], [1, 1, 1]);
  assert.equal(e2e.goals.dosesToMedications.f1, 1);
});

test('lab analytes labelled as drugs: a value or a lab word next to them makes them tests, without the drug codes', () => {
  const coded = (text: string, part: string): Entity => ({
    start: text.indexOf(part),
    end: text.indexOf(part) + part.length,
    text: part,
    label: 'Medication',
    score: 0.3,
    codes: [{ system: 'https://www.nlm.nih.gov/mesh', code: 'D019344', score: 1 }],
  });
  const repeat = 'Possible sepsis, lactate to be repeated.';
  const [test1] = relabelLabAnalytes(repeat, [coded(repeat, 'lactate')]);
  assert.equal(test1!.label, 'Diagnostic_procedure');
  assert.equal(test1!.codes, undefined);
  const value = 'Serum potassium was 5.9 mmol/L.';
  assert.equal(relabelLabAnalytes(value, [coded(value, 'potassium')])[0]!.label, 'Diagnostic_procedure');
  // A dose or route next to it: the drug stays, codes and all.
  const drug = 'Potassium chloride 20 mEq orally; potassium to be given slowly.';
  const kcl = ents(drug, [['Potassium chloride', 'Medication'], ['20 mEq', 'Dosage'], ['orally', 'Administration']]);
  assert.deepEqual(relabelLabAnalytes(drug, kcl).map((e) => e.label), ['Medication', 'Dosage', 'Administration']);
  const given = coded(drug, 'potassium to');
  const plain = { ...given, end: given.start + 'potassium'.length, text: 'potassium' };
  assert.equal(relabelLabAnalytes(drug, [plain])[0]!.label, 'Medication');
  assert.ok(relabelLabAnalytes(drug, [plain])[0]!.codes);
});

test('lab analytes: a value before the analyte, past a semicolon or another entity, is not its own', () => {
  const text = 'Blood glucose rose to 250 mg/dL on steroids; insulin sliding scale was started.';
  const input = ents(text, [['Blood glucose', 'Diagnostic_procedure'], ['250 mg/dL', 'Lab_value'], ['insulin', 'Medication']]);
  assert.equal(relabelLabAnalytes(text, input)[2]!.label, 'Medication');
  const own = '5.9 mmol/L potassium on the first panel.';
  assert.equal(relabelLabAnalytes(own, ents(own, [['5.9 mmol/L', 'Lab_value'], ['potassium', 'Medication']]))[1]!.label, 'Diagnostic_procedure');
});

test('value and dose spans never cut a number: "[2].6" becomes 2.6, "1[.5 mg]" 1.5 mg', async () => {
  const { completeNumbers } = await import('../../src/nlp/attributes.ts');
  const labels = new Set(['Lab_value', 'Dosage']);
  const text = 'INR 2.6 on warfarin; lorazepam 1.5 mg; sodium 131.';
  const at = (start: number, end: number, label: string): Entity => ({ start, end, text: text.slice(start, end), label, score: 0.3 });
  const inr = text.indexOf('2.6');
  const lz = text.indexOf('1.5 mg');
  const out = completeNumbers(text, [at(0, 3, 'Diagnostic_procedure'), at(inr, inr + 1, 'Lab_value'), at(lz + 1, lz + 6, 'Dosage'), at(text.indexOf('131'), text.indexOf('131') + 3, 'Lab_value')], labels);
  assert.deepEqual(out.map((e) => e.text), ['INR', '2.6', '1.5 mg', '131']);
  // Other labels, and a widening into another entity, are left alone.
  const date = [at(inr, inr + 1, 'Date')];
  assert.deepEqual(completeNumbers(text, date, labels), date);
  const blocked = [at(inr, inr + 1, 'Lab_value'), at(inr + 2, inr + 3, 'Lab_value')];
  assert.deepEqual(completeNumbers(text, blocked, labels).map((e) => e.text), ['2', '6']);
  // Through attachment: the test gets the whole number.
  const attached = attachAttributes(text, [at(0, 3, 'Diagnostic_procedure'), at(inr, inr + 1, 'Lab_value')]);
  assert.deepEqual(attrsOf(attached, 'INR'), ['value:2.6']);
});
