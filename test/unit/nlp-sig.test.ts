import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Entity } from '../../src/core/entity.ts';
import { attachAttributes, defaultAttributeRules, parseAttributeRules } from '../../src/nlp/attributes.ts';
import { splitSigs } from '../../src/nlp/sig.ts';
import { MednerError } from '../../src/core/errors.ts';
import { ents } from '../support/entities.ts';

const sig = defaultAttributeRules().sig!;
const spans = (out: Entity[]): string[] => out.map((e) => `${e.label}:${e.text}`);
const attrsOf = (out: Entity[], text: string): string[] => (out.find((e) => e.text === text)?.attributes ?? []).map((a) => `${a.kind}:${a.text}`);

test('a whole sig in one dose span is split into dose, route and frequency', () => {
  const text = 'Gentamicin 80 mg IV q8h was started.';
  assert.deepEqual(spans(splitSigs(text, ents(text, [['Gentamicin', 'Medication'], ['80 mg IV q8h', 'Dosage']]), sig)), [
    'Medication:Gentamicin',
    'Dosage:80 mg',
    'Administration:IV',
    'Frequency:q8h',
  ]);
});

test('a dose span with a frequency only ("500 mg bid") gives dose and frequency', () => {
  const text = 'Cephalexin 500 mg bid for 7 days.';
  assert.deepEqual(spans(splitSigs(text, ents(text, [['Cephalexin', 'Medication'], ['500 mg bid', 'Dosage']]), sig)), ['Medication:Cephalexin', 'Dosage:500 mg', 'Frequency:bid', 'Duration:for 7 days']);
});

test('untagged route and frequency right after a dose are picked up; the clause ends the sig', () => {
  const text = 'Heparin 5000 units subcutaneously every 8 hours for prophylaxis.';
  const out = attachAttributes(text, ents(text, [['Heparin', 'Medication'], ['5000 units', 'Dosage']]));
  assert.deepEqual(attrsOf(out, 'Heparin'), ['dose:5000 units', 'route:subcutaneously', 'frequency:every 8 hours']);
});

test('route and frequency mis-tagged as other labels after a dose are replaced by their parts', () => {
  const text = 'Lorazepam 1 mg sublingually nightly.';
  const out = attachAttributes(text, ents(text, [['Lorazepam', 'Medication'], ['1 mg', 'Dosage'], ['sublingually', 'Medication'], ['nightly', 'Dosage']]));
  assert.deepEqual(spans(out), ['Medication:Lorazepam', 'Dosage:1 mg', 'Administration:sublingually', 'Frequency:nightly']);
  assert.deepEqual(attrsOf(out, 'Lorazepam'), ['dose:1 mg', 'route:sublingually', 'frequency:nightly']);
});

test('a number cut off before its unit ("[650] [mg]") joins the dose', () => {
  const text = 'Ibuprofen 400 mg PO q6h.';
  const out = splitSigs(text, ents(text, [['Ibuprofen', 'Medication'], ['400', 'Lab_value'], ['mg', 'Dosage']]), sig);
  assert.deepEqual(spans(out), ['Medication:Ibuprofen', 'Dosage:400 mg', 'Administration:PO', 'Frequency:q6h']);
});

test('an interval and "as needed" are one frequency span', () => {
  const text = 'Morphine 2 mg IV every 4 hours prn pain.';
  const out = splitSigs(text, ents(text, [['Morphine', 'Medication'], ['2 mg', 'Dosage']]), sig);
  assert.deepEqual(spans(out), ['Medication:Morphine', 'Dosage:2 mg', 'Administration:IV', 'Frequency:every 4 hours prn']);
});

test('nothing changes when the sig is already one span per part, or when no sig vocabulary follows', () => {
  const text = 'Warfarin 5 mg orally daily; aspirin 81 mg with food. Therapy lasted 3 weeks.';
  const input = ents(text, [['Warfarin', 'Medication'], ['5 mg', 'Dosage'], ['orally', 'Administration'], ['daily', 'Frequency'], ['aspirin', 'Medication'], ['81 mg', 'Dosage']]);
  const out = splitSigs(text, input, sig);
  assert.deepEqual(out, input);
  // A "dose" that is how long is no dose: it becomes the Duration it is.
  const weeks = splitSigs(text, [...input, ...ents(text, [['3 weeks', 'Dosage']])], sig);
  assert.deepEqual(spans(weeks).slice(-1), ['Duration:3 weeks']);
});

test('a sig stops where another entity straddles it and never takes a dose span it cannot cover', () => {
  const text = 'Prednisone 60 mg daily tapered, dose of two weeks.';
  const input = ents(text, [['Prednisone', 'Medication'], ['60 mg daily tapered', 'Dosage'], ['weeks', 'Dosage']]);
  assert.deepEqual(splitSigs(text, input, sig), input);
  const text2 = 'Metformin 500 mg twice daily with meals.';
  const input2 = ents(text2, [['Metformin', 'Medication'], ['500 mg', 'Dosage'], ['twice daily with meals', 'Frequency']]);
  assert.deepEqual(spans(splitSigs(text2, input2, sig)), ['Medication:Metformin', 'Dosage:500 mg', 'Frequency:twice daily with meals']);
});

test('each drug of a list keeps its own sig', () => {
  const text = 'Discharged on amlodipine 5 mg daily and metformin 1000 mg twice daily.';
  const out = attachAttributes(text, ents(text, [['amlodipine', 'Medication'], ['5 mg daily', 'Dosage'], ['metformin', 'Medication'], ['1000 mg twice daily', 'Dosage']]));
  assert.deepEqual(attrsOf(out, 'amlodipine'), ['dose:5 mg', 'frequency:daily']);
  assert.deepEqual(attrsOf(out, 'metformin'), ['dose:1000 mg', 'frequency:twice daily']);
});

test('rules without a sig section change nothing; a bad sig expression is RULES_INVALID', () => {
  const { sig: _omit, words, ...rest } = structuredClone(defaultAttributeRules());
  const text = 'Gentamicin 80 mg IV q8h was started.';
  // Attribute words that reuse the sig vocabulary need the sig section (the others stay).
  const out = attachAttributes(text, ents(text, [['Gentamicin', 'Medication'], ['80 mg IV q8h', 'Dosage']]), parseAttributeRules({ ...rest, words: words?.filter((w) => !w.sig) }));
  assert.deepEqual(attrsOf(out, 'Gentamicin'), ['dose:80 mg IV q8h']);
  const bad = structuredClone(defaultAttributeRules());
  bad.sig!.routes = ['(unclosed'];
  assert.throws(() => parseAttributeRules(bad), (e: unknown) => e instanceof MednerError && e.code === 'RULES_INVALID');
});

test('a compound unit is one dose ("15 mg/kg"), not cut at its first unit', () => {
  const text = 'Vancomycin 15 mg/kg IV q12h.';
  assert.deepEqual(spans(splitSigs(text, ents(text, [['Vancomycin', 'Medication'], ['15 mg/kg IV q12h', 'Dosage']]), sig)), [
    'Medication:Vancomycin',
    'Dosage:15 mg/kg',
    'Administration:IV',
    'Frequency:q12h',
  ]);
});

test('a dose right after a drug opens a sig where the model tagged the number as something else', () => {
  const text = 'Insulin glargine 20 units subcutaneously at bedtime.';
  const out = splitSigs(text, ents(text, [['Insulin glargine', 'Medication'], ['20', 'Lab_value']]), sig);
  assert.deepEqual(spans(out), ['Medication:Insulin glargine', 'Dosage:20 units', 'Administration:subcutaneously', 'Frequency:at bedtime']);
  assert.ok(out.slice(1).every((e) => e.source === 'rules' && e.score === 1));
  const attached = attachAttributes(text, ents(text, [['Insulin glargine', 'Medication'], ['20', 'Lab_value']]));
  assert.deepEqual(attrsOf(attached, 'Insulin glargine'), ['dose:20 units', 'route:subcutaneously', 'frequency:at bedtime']);
});

test('a concentration after a drug-labelled analyte opens no sig; nor does a dose after another label', () => {
  const lab = 'Potassium 5.9 mmol/L on admission.';
  const input = ents(lab, [['Potassium', 'Medication'], ['5.9 mmol/L', 'Lab_value']]);
  assert.deepEqual(spans(splitSigs(lab, input, sig)), ['Medication:Potassium', 'Lab_value:5.9 mmol/L']);
  const weight = 'Weight 82 kg today.';
  assert.deepEqual(spans(splitSigs(weight, ents(weight, [['Weight', 'Diagnostic_procedure']]), sig)), ['Diagnostic_procedure:Weight']);
  // Without openAfter the same text is left alone.
  const text = 'Insulin glargine 20 units subcutaneously at bedtime.';
  const { openAfter: _drop, ...noOpen } = sig;
  assert.deepEqual(spans(splitSigs(text, ents(text, [['Insulin glargine', 'Medication'], ['20', 'Lab_value']]), noOpen)), ['Medication:Insulin glargine', 'Lab_value:20']);
});

test('a dose after a drug that a dose span already covers is split once', () => {
  const text = 'Metformin, 500 mg twice daily.';
  const out = splitSigs(text, ents(text, [['Metformin', 'Medication'], ['500 mg twice daily', 'Dosage']]), sig);
  assert.deepEqual(spans(out), ['Medication:Metformin', 'Dosage:500 mg', 'Frequency:twice daily']);
  assert.ok(out.every((e) => e.source === undefined));
});

test('how long a drug is given is a Duration part of its sig, attached to the drug', () => {
  const text = 'Prednisone 40 mg daily x 5 days, then stop.';
  const out = splitSigs(text, ents(text, [['Prednisone', 'Medication'], ['40 mg daily x 5 days', 'Dosage']]), sig);
  assert.deepEqual(spans(out), ['Medication:Prednisone', 'Dosage:40 mg', 'Frequency:daily', 'Duration:x 5 days']);
  // A duration the model tagged as a dose is no dose.
  const amox = 'Amoxicillin 500 mg orally three times daily for 7 days.';
  const attached = attachAttributes(amox, ents(amox, [['Amoxicillin', 'Medication'], ['500 mg', 'Dosage'], ['7 days', 'Dosage']]));
  assert.deepEqual(attrsOf(attached, 'Amoxicillin'), ['dose:500 mg', 'route:orally', 'frequency:three times daily', 'duration:for 7 days']);
});

test('a dose a plain word or two after the drug opens its sig too ("heparin bolus 4000 units IV"); not past an entity', () => {
  const text = 'Heparin bolus 4000 units IV, then infusion.';
  const out = attachAttributes(text, ents(text, [['Heparin', 'Medication'], ['4000 units IV', 'Lab_value']]));
  assert.deepEqual(attrsOf(out, 'Heparin'), ['dose:4000 units', 'route:IV']);
  const blocked = 'Heparin given with aspirin 325 mg.';
  const input = ents(blocked, [['Heparin', 'Medication'], ['aspirin', 'Medication']]);
  const split = splitSigs(blocked, input, sig);
  assert.deepEqual(spans(split), ['Medication:Heparin', 'Medication:aspirin', 'Dosage:325 mg']);
  assert.deepEqual(attrsOf(attachAttributes(blocked, input), 'aspirin'), ['dose:325 mg']);
  const far = 'Heparin was given as a 4000 units bolus.';
  assert.deepEqual(spans(splitSigs(far, ents(far, [['Heparin', 'Medication']]), sig)), ['Medication:Heparin']);
});

test('an analyte the model called a test but written as a drug order is the drug; a lab result is not', async () => {
  const { relabelDosedAnalytes } = await import('../../src/nlp/attributes.ts');
  const order = 'Potassium 40 mEq orally now.';
  const out = attachAttributes(order, ents(order, [['Potassium', 'Diagnostic_procedure'], ['40 mEq', 'Lab_value']]));
  assert.deepEqual(spans(out), ['Medication:Potassium', 'Dosage:40 mEq', 'Administration:orally']);
  assert.deepEqual(attrsOf(out, 'Potassium'), ['dose:40 mEq', 'route:orally']);
  for (const text of ['Potassium 4.1 mmol/L.', 'Potassium 40 mEq/L.', 'Potassium was 4.1.', 'Potassium 40 mEq.']) {
    const input = ents(text, [['Potassium', 'Diagnostic_procedure']]);
    assert.equal(relabelDosedAnalytes(text, input)[0]!.label, 'Diagnostic_procedure', text);
  }
  // Any test-labelled name written as an order, with up to openAfterWords plain words before the dose.
  const list = '3. Potassium chloride 20 mEq PO daily\n4. Insulin glargine 22 units subcutaneously at bedtime\n5. Vancomycin trough 15 mcg/mL daily';
  const relabelled = relabelDosedAnalytes(list, ents(list, [['Potassium chloride', 'Diagnostic_procedure'], ['Insulin', 'Diagnostic_procedure'], ['Vancomycin trough', 'Diagnostic_procedure']]));
  assert.deepEqual(relabelled.map((e) => `${e.text}:${e.label}`), ['Potassium chloride:Medication', 'Insulin:Medication', 'Vancomycin trough:Diagnostic_procedure']);
  // A mass or unit rate is an infusion by itself; a volume rate is no drug order.
  const icu = 'On vasopressin 0.04 units/min. Urine output 20 mL/hr.';
  assert.deepEqual(relabelDosedAnalytes(icu, ents(icu, [['vasopressin', 'Diagnostic_procedure'], ['Urine output', 'Diagnostic_procedure']])).map((e) => e.label), ['Medication', 'Diagnostic_procedure']);
});
