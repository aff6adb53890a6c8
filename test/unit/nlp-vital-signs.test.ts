import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Entity } from '../../src/core/entity.ts';
import { attachAttributes, defaultAttributeRules, parseAttributeRules } from '../../src/nlp/attributes.ts';
import { findVitalSigns, tagVitalSigns } from '../../src/nlp/vital-signs.ts';
import { MednerError } from '../../src/core/errors.ts';
import { ents } from '../support/entities.ts';

const vitals = defaultAttributeRules().vitals!;
const spans = (out: Entity[]): string[] => out.map((e) => `${e.label}:${e.text}`);
const attrsOf = (out: Entity[], text: string): string[] => (out.find((e) => e.text === text)?.attributes ?? []).map((a) => `${a.kind}:${a.text}`);

test('vital signs as notes write them: name, linking words, value', () => {
  const text = 'Vitals: BP 150/95 mmHg, HR 88 bpm, RR 18, SpO2 96% on room air, temperature of 38.5 °C; his weight today is 82 kg.';
  const found = findVitalSigns(text, vitals).map((v) => `${text.slice(...v.name)}=${text.slice(...v.value)}`);
  assert.deepEqual(found, ['BP=150/95 mmHg', 'HR=88 bpm', 'RR=18', 'SpO2=96%', 'temperature=38.5 °C', 'weight=82 kg']);
  const terse = 'PE: Temp 38.9 C, BP 142/88, HR 104, RR 24.';
  assert.deepEqual(findVitalSigns(terse, vitals).map((v) => `${terse.slice(...v.name)}=${terse.slice(...v.value)}`), ['Temp=38.9 C', 'BP=142/88', 'HR=104', 'RR=24']);
  // 'T' alone only with a temperature's unit; Tmax too. Tumour markers keep the number of their name.
  const icu = 'Objective: T 37.8 C, Tmax 38.4, HR 112. Labs: CA 15-3 22 U/mL, CA-125 of 35 U/mL. T 4 tumor.';
  assert.deepEqual(findVitalSigns(icu, vitals).map((v) => `${icu.slice(...v.name)}=${icu.slice(...v.value)}`), ['T=37.8 C', 'Tmax=38.4', 'HR=112', 'CA 15-3=22 U/mL', 'CA-125=35 U/mL']);
  const scores = 'PHQ-9 today 19. MMSE 24/30. GCS 15. NIHSS was 4.';
  assert.deepEqual(findVitalSigns(scores, vitals).map((v) => `${scores.slice(...v.name)}=${scores.slice(...v.value)}`), ['PHQ-9=19', 'MMSE=24/30', 'GCS=15', 'NIHSS=4']);
  // Laboratory abbreviations written 'name number' in a panel; a body structure the model made of ALT is replaced.
  const panel = 'Platelets 142, AST 38, ALT 41. INR 1.1. Vitamin K 10 mg.';
  assert.deepEqual(findVitalSigns(panel, vitals).map((v) => `${panel.slice(...v.name)}=${panel.slice(...v.value)}`), ['AST=38', 'ALT=41', 'INR=1.1']);
  assert.deepEqual(spans(tagVitalSigns(panel, ents(panel, [['AST', 'Diagnostic_procedure'], ['ALT', 'Biological_structure']]), vitals)), ['Diagnostic_procedure:AST', 'Lab_value:38', 'Diagnostic_procedure:ALT', 'Lab_value:41', 'Diagnostic_procedure:INR', 'Lab_value:1.1']);
  // Dates the model put inside a match are replaced (vitals.replace); other labels still block it.
  assert.deepEqual(spans(tagVitalSigns(scores, ents(scores, [['PHQ-9', 'Diagnostic_procedure'], ['today', 'Date'], ['19', 'Date']]), vitals)).slice(0, 2), ['Diagnostic_procedure:PHQ-9', 'Lab_value:19']);
  assert.deepEqual(spans(tagVitalSigns(scores, ents(scores, [['PHQ-9', 'Diagnostic_procedure'], ['19', 'Medication']]), vitals)).slice(0, 2), ['Diagnostic_procedure:PHQ-9', 'Medication:19']);
});

test('no vital sign without a value of its form', () => {
  for (const text of ['Weight loss of 5 kg over two months.', 'The heart rate was regular.', 'Temperature was normal.', 'BP meds were held.', 'HR: see chart.', 'Weight 82 today.']) {
    assert.deepEqual(findVitalSigns(text, vitals), [], text);
  }
});

test("the model's uneven vital spans become one test and one value each", () => {
  const text = 'SpO2 96%, HR 88 bpm, RR 18, temperature 38.5 °C and weight 64 kg.';
  const input = ents(text, [['SpO2', 'Diagnostic_procedure'], ['96%', 'Lab_value'], ['HR 88 bpm', 'Lab_value'], ['RR 18', 'Lab_value'], ['38.5 °C', 'Lab_value'], ['weight', 'Lab_value'], ['64', 'Lab_value']]);
  const out = tagVitalSigns(text, input, vitals);
  assert.deepEqual(spans(out), [
    'Diagnostic_procedure:SpO2',
    'Lab_value:96%',
    'Diagnostic_procedure:HR',
    'Lab_value:88 bpm',
    'Diagnostic_procedure:RR',
    'Lab_value:18',
    'Diagnostic_procedure:temperature',
    'Lab_value:38.5 °C',
    'Diagnostic_procedure:weight',
    'Lab_value:64 kg',
  ]);
  // The model's exact spans are kept as they were; new or changed ones are the rules'.
  assert.equal(out[0], input[0]);
  assert.equal(out[1], input[1]);
  assert.equal(out[7], input[4]);
  assert.deepEqual(out.filter((e) => e.source === 'rules').map((e) => e.text), ['HR', '88 bpm', 'RR', '18', 'temperature', 'weight', '64 kg']);
  // Attachment then gives each test its own value (the saturation no longer takes the temperature).
  const attached = attachAttributes(text, input);
  assert.deepEqual(attrsOf(attached, 'SpO2'), ['value:96%']);
  assert.deepEqual(attrsOf(attached, 'temperature'), ['value:38.5 °C']);
  assert.deepEqual(attrsOf(attached, 'weight'), ['value:64 kg']);
});

test('a model span of another label, or one reaching outside the vital sign, leaves it alone', () => {
  const text = 'Blood pressure monitoring 120/80 mmHg was planned; pulse 80 bpm.';
  const input = ents(text, [['Blood pressure monitoring', 'Diagnostic_procedure'], ['pulse 80', 'Sign_symptom']]);
  assert.equal(tagVitalSigns(text, input, vitals).length, 2);
  assert.deepEqual(spans(tagVitalSigns(text, input, vitals)), ['Diagnostic_procedure:Blood pressure monitoring', 'Sign_symptom:pulse 80']);
  const same = 'BP 120/80 mmHg.';
  const exact = ents(same, [['BP', 'Diagnostic_procedure'], ['120/80 mmHg', 'Lab_value']]);
  const out = tagVitalSigns(same, exact, vitals);
  assert.equal(out[0], exact[0]);
  assert.equal(out[1], exact[1]);
});

test('a bad vitals expression is named when the rules load', () => {
  const raw = JSON.parse(JSON.stringify(defaultAttributeRules())) as { vitals: { signs: { value: string }[] } };
  raw.vitals.signs[0]!.value = '\\d+(';
  assert.throws(() => parseAttributeRules(raw, 'rules.json'), (err: unknown) => err instanceof MednerError && /vitals/.test(err.message));
  const missing = JSON.parse(JSON.stringify(defaultAttributeRules())) as { vitals: Record<string, unknown> };
  delete missing.vitals.signs;
  assert.throws(() => parseAttributeRules(missing, 'rules.json'), (err: unknown) => err instanceof MednerError && /signs/.test(err.message));
});
