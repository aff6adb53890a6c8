import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Entity } from '../../src/core/entity.ts';
import { interpretationOf, observationCategory, observationFields, parseObservationValue, parseQuantity, ucumUnit } from '../../src/fhir/observation-value.ts';
import { dosageFor, durationQuantity, timingFor } from '../../src/fhir/dosage.ts';
import { procedureStatusFrom } from '../../src/fhir/clinical-details.ts';
import { parseClinicalRules, clinicalData } from '../../src/fhir/clinical-rules.ts';
import { MednerError } from '../../src/core/errors.ts';

const UCUM = 'http://unitsofmeasure.org';

test('numbers with a known unit become UCUM quantities, with comparators and thousands separators', () => {
  assert.deepEqual(parseQuantity('9.2 g/dL'), { value: 9.2, unit: 'g/dL', system: UCUM, code: 'g/dL' });
  assert.deepEqual(parseQuantity('5.9 mmol/l'), { value: 5.9, unit: 'mmol/L', system: UCUM, code: 'mmol/L' });
  assert.deepEqual(parseQuantity('< 7 g/dL'), { value: 7, comparator: '<', unit: 'g/dL', system: UCUM, code: 'g/dL' });
  assert.deepEqual(parseQuantity('12,700/mm3'), { value: 12700, unit: '/mm3', system: UCUM, code: '/mm3' });
  assert.deepEqual(parseQuantity('138 mEq/L'), { value: 138, unit: 'mEq/L', system: UCUM, code: 'meq/L' });
  assert.deepEqual(parseQuantity('38.9 °C'), { value: 38.9, unit: '°C', system: UCUM, code: 'Cel' });
  assert.deepEqual(parseQuantity('1 g'), { value: 1, unit: 'g', system: UCUM, code: 'g' });
  assert.equal(parseQuantity('12 widgets'), undefined);
  assert.equal(parseQuantity('CRP'), undefined);
  assert.equal(ucumUnit('MG/DL')?.code, 'mg/dL');
});

test('values: quantity, bare number, blood pressure components, strings for words, ranges and fractions', () => {
  assert.deepEqual(parseObservationValue('9.2 g/dL', 'hemoglobin'), { kind: 'quantity', quantity: { value: 9.2, unit: 'g/dL', system: UCUM, code: 'g/dL' } });
  assert.deepEqual(parseObservationValue('850', 'erythrocyte count'), { kind: 'quantity', quantity: { value: 850 } });
  const bp = parseObservationValue('150/95 mmHg', 'blood pressure');
  assert.equal(bp.kind, 'bloodPressure');
  if (bp.kind === 'bloodPressure') {
    assert.deepEqual(bp.systolic, { value: 150, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' });
    assert.equal(bp.diastolic.value, 95);
  }
  assert.deepEqual(parseObservationValue('20/40', 'visual acuity'), { kind: 'string', text: '20/40' });
  assert.deepEqual(parseObservationValue('9.1–9.2 mg/dl', 'calcium'), { kind: 'string', text: '9.1–9.2 mg/dl' });
  assert.deepEqual(parseObservationValue('unremarkable', 'chest X-ray'), { kind: 'string', text: 'unremarkable' });
  assert.deepEqual(parseObservationValue('2+', 'urine protein'), { kind: 'string', text: '2+' }, 'a semi-quantitative grade is no number');
  assert.deepEqual(parseObservationValue('850 ug/g', 'fecal calprotectin'), { kind: 'quantity', quantity: { value: 850, unit: 'µg/g', system: UCUM, code: 'ug/g' } });
  assert.deepEqual(parseObservationValue('12 nmol/mmol', 'ratio'), { kind: 'string', text: '12 nmol/mmol' }, 'an unknown unit is not cut to a known prefix');
  assert.deepEqual(parseObservationValue('3 + pitting', 'edema'), { kind: 'string', text: '3 + pitting' });
});

test('category by the test name; interpretation with R4 displays, not from reference ranges or after "not"', () => {
  assert.equal(observationCategory('Blood pressure')?.code, 'vital-signs');
  assert.equal(observationCategory('CT of the abdomen')?.code, 'imaging');
  assert.equal(observationCategory('ECG')?.code, 'procedure');
  assert.equal(observationCategory('serum creatinine'), undefined);
  assert.deepEqual(interpretationOf('markedly elevated'), { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'HH', display: 'Critical high' });
  assert.equal(interpretationOf('elevated at 45 mg/L')?.display, 'High');
  assert.equal(interpretationOf('low')?.code, 'L');
  assert.equal(interpretationOf('within normal limits')?.code, 'N');
  assert.equal(interpretationOf('6.04 pmol/L (normal range 12.00–22.00)'), undefined);
  assert.equal(interpretationOf('not elevated'), undefined);
});

test('observationFields reads the value attribute and the words between test and value', () => {
  const text = 'Her hemoglobin was low at 9.2 g/dL.';
  const e: Entity = { start: 4, end: 14, text: 'hemoglobin', label: 'Diagnostic_procedure', score: 0.9, attributes: [{ kind: 'value', label: 'Lab_value', start: 26, end: 34, text: '9.2 g/dL', score: 0.9 }] };
  const f = observationFields(text, e);
  assert.equal(f.value?.kind, 'quantity');
  assert.equal(f.interpretation?.code, 'L');
});

test('observationFields reads test-to-value text as one: a degree word before a value span the model cut short', () => {
  const text = 'CRP was markedly elevated at 145 mg/L.';
  const value = (s: string, kind: 'value' = 'value') => ({ kind, label: 'Lab_value', start: text.indexOf(s), end: text.indexOf(s) + s.length, text: s, score: 0.6 });
  const e: Entity = { start: 0, end: 3, text: 'CRP', label: 'Diagnostic_procedure', score: 0.6, attributes: [value('elevated'), value('145 mg/L')] };
  const f = observationFields(text, e);
  assert.equal(f.value?.kind, 'quantity');
  assert.equal(f.interpretation?.code, 'HH');
  // "not" before the words still reads as no interpretation.
  const neg = 'CRP was not elevated at 4 mg/L.';
  const n: Entity = { start: 0, end: 3, text: 'CRP', label: 'Diagnostic_procedure', score: 0.6, attributes: [{ kind: 'value', label: 'Lab_value', start: neg.indexOf('4 mg/L'), end: neg.indexOf('4 mg/L') + 6, text: '4 mg/L', score: 0.6 }] };
  assert.equal(observationFields(neg, n).interpretation, undefined);
});

test('dosage: text, UCUM dose, timing from frequency, route as text, as needed', () => {
  const med: Entity = {
    start: 0, end: 10, text: 'metoprolol', label: 'Medication', score: 0.9,
    attributes: [
      { kind: 'dose', label: 'Dosage', start: 11, end: 16, text: '25 mg', score: 0.9 },
      { kind: 'route', label: 'Administration', start: 17, end: 23, text: 'orally', score: 0.9 },
      { kind: 'frequency', label: 'Frequency', start: 24, end: 35, text: 'twice daily', score: 0.9 },
    ],
  };
  assert.deepEqual(dosageFor(med), {
    text: '25 mg orally twice daily',
    timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' }, code: { text: 'twice daily' } },
    route: { text: 'orally' },
    doseAndRate: [{ doseQuantity: { value: 25, unit: 'mg', system: UCUM, code: 'mg' } }],
  });
  assert.deepEqual(timingFor('q8h').timing?.repeat, { frequency: 1, period: 8, periodUnit: 'h' });
  assert.deepEqual(timingFor('every 6 hours as needed'), { asNeeded: true, timing: { repeat: { frequency: 1, period: 6, periodUnit: 'h' } } });
  assert.deepEqual(timingFor('daily').timing?.repeat, { frequency: 1, period: 1, periodUnit: 'd' });
  assert.deepEqual(timingFor('TID').timing?.repeat, { frequency: 3, period: 1, periodUnit: 'd' });
  assert.deepEqual(timingFor('at bedtime').timing?.repeat, { frequency: 1, period: 1, periodUnit: 'd', when: ['HS'] });
  assert.deepEqual(timingFor('weekly').timing?.repeat, { frequency: 1, period: 1, periodUnit: 'wk' });
  assert.equal(dosageFor({ ...med, attributes: [] }), undefined);
});

test('procedure status from the sentence: completed when past, in-progress when ongoing, else unknown', () => {
  const st = (text: string, word: string) => {
    const start = text.indexOf(word);
    return procedureStatusFrom(text, { start, end: start + word.length, text: word, label: 'Therapeutic_procedure', score: 1 });
  };
  assert.equal(st('She underwent appendectomy in 2019.', 'appendectomy'), 'completed');
  assert.equal(st('The abscess was surgically drained.', 'drained'), 'completed');
  assert.equal(st('He is currently receiving hemodialysis.', 'hemodialysis'), 'in-progress');
  assert.equal(st('Consider colonoscopy.', 'colonoscopy'), 'unknown');
});

test('the rule tables are validated', () => {
  assert.ok(Object.keys(clinicalData().units).length > 50);
  const bad = structuredClone(clinicalData().rules) as unknown as { timings: { pattern: string }[] };
  bad.timings.push({ pattern: '([' });
  assert.throws(() => parseClinicalRules(bad), (e: unknown) => e instanceof MednerError && e.code === 'RULES_INVALID');
  assert.throws(() => parseClinicalRules({}), (e: unknown) => e instanceof MednerError && e.code === 'RULES_INVALID');
});

test('an infusion rate is Dosage.doseAndRate.rateQuantity; in "from A to B" the value is B', () => {
  const text = 'Norepinephrine at 12 mcg/min. Lactate improved from 6.1 to 2.8 mmol/L.';
  const attr = (w: string, kind: 'dose' | 'value', label: string) => ({ kind, label, start: text.indexOf(w), end: text.indexOf(w) + w.length, text: w, score: 0.9 });
  const drug: Entity = { start: 0, end: 14, text: 'Norepinephrine', label: 'Medication', score: 0.9, attributes: [attr('12 mcg/min', 'dose', 'Dosage')] };
  assert.deepEqual(dosageFor(drug)?.doseAndRate, [{ rateQuantity: { value: 12, unit: 'µg/min', system: UCUM, code: 'ug/min' } }]);
  const lactate: Entity = { start: text.indexOf('Lactate'), end: text.indexOf('Lactate') + 7, text: 'Lactate', label: 'Diagnostic_procedure', score: 0.9, attributes: [attr('6.1', 'value', 'Lab_value'), attr('2.8 mmol/L', 'value', 'Lab_value')] };
  const v = observationFields(text, lactate).value;
  assert.equal(v?.kind === 'quantity' ? v.quantity.value : undefined, 2.8);
});

test('a laboratory flag after the value ("(H)", "L") is the interpretation; lower case is no flag', () => {
  const text = 'Platelets 450 K/uL (H). Potassium 3.1 mmol/L L. Urine 2 l.';
  const test = (name: string, ...vals: string[]): Entity => ({ start: text.indexOf(name), end: text.indexOf(name) + name.length, text: name, label: 'Diagnostic_procedure', score: 0.9, attributes: vals.map((w) => ({ kind: 'value' as const, label: 'Lab_value', start: text.indexOf(w, text.indexOf(name)), end: text.indexOf(w, text.indexOf(name)) + w.length, text: w, score: 0.9 })) });
  assert.equal(observationFields(text, test('Platelets', '450 K/uL', 'H')).interpretation?.code, 'H');
  assert.equal(observationFields(text, test('Potassium', '3.1 mmol/L', 'L')).interpretation?.code, 'L');
  assert.equal(observationFields(text, test('Urine', '2', 'l')).interpretation, undefined);
});

test('valueSummary: the value as listed by medner demo', async () => {
  const { valueSummary } = await import('../../src/fhir/observation-value.ts');
  assert.equal(valueSummary({ resourceType: 'Observation', status: 'final', code: { text: 'Hb' }, valueQuantity: { value: 9.2, unit: 'g/dL' }, interpretation: [{ coding: [{ code: 'L' }] }] } as never), '9.2 g/dL (L)');
  assert.equal(
    valueSummary({ resourceType: 'Observation', status: 'final', code: { text: 'BP' }, component: [{ code: { text: 's' }, valueQuantity: { value: 150, unit: 'mmHg' } }, { code: { text: 'd' }, valueQuantity: { value: 95, unit: 'mmHg' } }] } as never),
    '150/95 mmHg',
  );
  assert.equal(valueSummary({ resourceType: 'MedicationStatement', status: 'active', subject: {}, dosage: [{ text: '25 mg orally twice daily' }] } as never), '25 mg orally twice daily');
  assert.equal(valueSummary({ resourceType: 'Condition', subject: {} } as never), undefined);
});

test('dosage: how long is Timing.repeat.boundsDuration in UCUM, beside the frequency', () => {
  const text = 'Amoxicillin 500 mg three times daily for 7 days';
  const span = (part: string, kind: 'dose' | 'frequency' | 'duration', label: string) => ({ kind, label, start: text.indexOf(part), end: text.indexOf(part) + part.length, text: part, score: 0.5 });
  const med: Entity = { start: 0, end: 11, text: 'Amoxicillin', label: 'Medication', score: 0.5, attributes: [span('500 mg', 'dose', 'Dosage'), span('three times daily', 'frequency', 'Frequency'), span('for 7 days', 'duration', 'Duration')] };
  const d = dosageFor(med)!;
  assert.equal(d.text, '500 mg three times daily for 7 days');
  assert.deepEqual(d.timing?.repeat, { frequency: 3, period: 1, periodUnit: 'd', boundsDuration: { value: 7, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' } });
  assert.deepEqual(durationQuantity('x 2 weeks'), { value: 2, unit: 'weeks', system: 'http://unitsofmeasure.org', code: 'wk' });
  assert.deepEqual(durationQuantity('for one month'), { value: 1, unit: 'month', system: 'http://unitsofmeasure.org', code: 'mo' });
  assert.equal(durationQuantity('for a while'), undefined);
});
