import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectAssertions, defaultAssertionRules, parseAssertionRules, screenEntities, type AssertionRules } from '../../src/nlp/assertions.ts';
import { findSections, parseSectionRules } from '../../src/nlp/sections.ts';
import type { Entity } from '../../src/core/entity.ts';

/** Marks the mention with [brackets]; returns text without them and the entity. */
function mention(marked: string, label = 'Disease'): { text: string; entity: Entity } {
  const start = marked.indexOf('[');
  const end = marked.indexOf(']') - 1;
  const text = marked.replace('[', '').replace(']', '');
  return { text, entity: { start, end, text: text.slice(start, end), label, score: 0.9 } };
}

type Expect = Partial<{ negated: boolean; uncertain: boolean; hypothetical: boolean; historical: boolean; experiencer: string; relationship: string }>;

const table: [string, Expect][] = [
  ['Patient has [pneumonia].', { negated: false, uncertain: false, hypothetical: false, historical: false, experiencer: 'patient' }],
  ['No [fever].', { negated: true }],
  ['Patient denies [chest pain] or shortness of breath.', { negated: true }],
  ['Denies chest pain or [shortness of breath].', { negated: true }],
  ['Negative for [hematuria].', { negated: true }],
  ['Presented without [syncope].', { negated: true }],
  ['[Pulmonary embolism] was ruled out.', { negated: true }],
  ['[Pulmonary embolism] was not ruled out.', { negated: false }],
  ['No [fever] but reports cough.', { negated: true }],
  ['No fever but has [cough].', { negated: false }],
  ['No fever; [cough] persists.', { negated: false }],
  ['No fever.\n[Cough] persists.', { negated: false }],
  ['No fever. [Cough] persists.', { negated: false }],
  ['No fever, however [cough] persists.', { negated: false }],
  ['No change in [edema].', { negated: false }],
  ['Gram negative [bacteremia].', { negated: false }],
  ['Possible [pneumonia].', { uncertain: true, negated: false }],
  ['Suspected [appendicitis].', { uncertain: true }],
  ['Cannot exclude [myocardial infarction].', { uncertain: true, negated: false }],
  ['[Myocardial infarction] cannot be ruled out.', { uncertain: true, negated: false }],
  ['Probable [viral infection] causing symptoms.', { uncertain: true }],
  ['Return if [chest pain] recurs.', { hypothetical: true }],
  ['Call us if you develop [fever].', { hypothetical: true }],
  ['Take acetaminophen if needed for [headache].', { hypothetical: false }],
  ['History of [hypertension].', { historical: true, experiencer: 'patient' }],
  ['History of present illness: [cough] for three days.', { historical: false }],
  ['Family history of [breast cancer].', { experiencer: 'family', relationship: 'FAMMEMB', historical: false }],
  ['Mother has [diabetes].', { experiencer: 'family', relationship: 'MTH' }],
  ['[Diabetes] in his father.', { experiencer: 'family', relationship: 'FTH' }],
  ['Her sister had [breast cancer].', { experiencer: 'family', relationship: 'SIS' }],
  ['Brother with [asthma].', { experiencer: 'family', relationship: 'BRO' }],
  ['Mother has diabetes. Patient has [asthma].', { experiencer: 'patient' }],
  ['Mother had diabetes but the patient has [asthma].', { experiencer: 'patient' }],
  ['The patient reason is [fever].', { experiencer: 'patient' }],
  ['Denies fever, chills, night sweats, weight loss, chest pain, [palpitations].', { negated: true }],
  ['Did not result in any measurable change of the [vasculitis].', { negated: false }],
  ['Does not have [diabetes].', { negated: true }],
  ['Benefit close if not identical to that seen with [levodopa].', { negated: false, hypothetical: false }],
  ['No evidence of vasculitis was found in the many patients who later underwent repeated angiography after aneurysmal [hemorrhage].', { negated: false }],
];

for (const [marked, expect] of table) {
  test(`assertion: ${JSON.stringify(marked)}`, () => {
    const { text, entity } = mention(marked);
    const [out] = detectAssertions(text, [entity]);
    assert.ok(out);
    assert.equal(out.text, entity.text);
    for (const [k, v] of Object.entries(expect)) {
      assert.equal((out.assertion as unknown as Record<string, unknown>)[k], v, `${k} for ${JSON.stringify(marked)} (triggers ${out.assertion.triggers.join(',')})`);
    }
  });
}

test('a trigger is scoped per entity: only the mentions after "no" in its sentence', () => {
  const text = 'Cough present. No fever or chills. Rash noted.';
  const ents: Entity[] = ['Cough', 'fever', 'chills', 'Rash'].map((w) => {
    const start = text.indexOf(w);
    return { start, end: start + w.length, text: w, label: 'Disease', score: 0.8 };
  });
  const out = detectAssertions(text, ents);
  assert.deepEqual(out.map((e) => e.assertion.negated), [false, true, true, false]);
  assert.deepEqual(out[1]!.assertion.triggers, ['no']);
});

test('a trigger inside the mention does not modify it', () => {
  const text = 'No-reflow phenomenon observed.';
  const out = detectAssertions(text, [{ start: 0, end: 20, text: text.slice(0, 20), label: 'Disease', score: 0.7 }]);
  assert.equal(out[0]!.assertion.negated, false);
});

test('rules are configurable: custom trigger lists replace the shipped ones', () => {
  const rules: AssertionRules = { triggers: [{ phrase: 'kein', category: 'negated', direction: 'forward' }], pseudo: [], terminations: ['aber'] };
  const text = 'kein Fieber aber Husten';
  const ents: Entity[] = [
    { start: 5, end: 11, text: 'Fieber', label: 'Disease', score: 1 },
    { start: 17, end: 23, text: 'Husten', label: 'Disease', score: 1 },
  ];
  const out = detectAssertions(text, ents, rules);
  assert.deepEqual(out.map((e) => e.assertion.negated), [true, false]);
  // the shipped rules do not know "kein"
  assert.equal(detectAssertions(text, ents, defaultAssertionRules())[0]!.assertion.negated, false);
});

test('maxScopeWords limits how far a trigger reaches; a trigger may override it', () => {
  const text = 'no a b c d fever';
  const ent: Entity = { start: 11, end: 16, text: 'fever', label: 'Disease', score: 1 };
  const rules = (max?: number, own?: number): AssertionRules => ({
    triggers: [{ phrase: 'no', category: 'negated', direction: 'forward', ...(own !== undefined ? { maxScopeWords: own } : {}) }],
    pseudo: [],
    terminations: [],
    ...(max !== undefined ? { maxScopeWords: max } : {}),
  });
  assert.equal(detectAssertions(text, [ent], rules())[0]!.assertion.negated, true);
  assert.equal(detectAssertions(text, [ent], rules(4))[0]!.assertion.negated, true);
  assert.equal(detectAssertions(text, [ent], rules(3))[0]!.assertion.negated, false);
  assert.equal(detectAssertions(text, [ent], rules(3, 4))[0]!.assertion.negated, true);
  assert.throws(() => parseAssertionRules({ ...rules(), maxScopeWords: -1 }), /maxScopeWords/);
});

test('parseAssertionRules names the bad entry', () => {
  assert.throws(() => parseAssertionRules({ triggers: [{ phrase: 'x', category: 'maybe', direction: 'forward' }], pseudo: [], terminations: [] }), /triggers\[0\]\.category/);
  assert.throws(() => parseAssertionRules({ triggers: [] }), /expected/);
});

test('offsets are UTF-16 code units: text before the mention with astral characters', () => {
  const text = '😀 No [fever].'.replace('[', '').replace(']', '');
  const start = text.indexOf('fever');
  const out = detectAssertions(text, [{ start, end: start + 5, text: 'fever', label: 'Disease', score: 1 }]);
  assert.equal(out[0]!.assertion.negated, true);
});

// ---- issue 17: scope over lists, post-triggers, tests' targets, status, allergies, sections (one test per rule) ----

type Expect17 = Expect & Partial<{ clinicalStatus: string; medicationStatus: string; allergy: string; criticality: string; section: string }>;

const scopeTable: [string, Expect17][] = [
  // a trigger distributes over the coordinated list it governs
  ['Denies fever, [chills] or night sweats.', { negated: true }],
  ['Denies fever, chills or [night sweats].', { negated: true }],
  ['No [nausea], vomiting, or diarrhea.', { negated: true }],
  // ... and stops at the comma after a list it closed
  ['Denies fever or chills, [cough] for two weeks.', { negated: false }],
  // ... and at list items not coordinated with it
  ['Patient has a history of part-time employment (finding), not in labor force (finding), [chronic kidney disease stage 1].', { negated: false, historical: true }],
  ['Patient has a history of acute bronchitis (disorder), [viral sinusitis] (disorder), stress (finding).', { historical: true, clinicalStatus: 'inactive', negated: false }],
  ['Not in labor force (finding), [hypertension].', { negated: false }],
  // sentence, section ends and but/however
  ['No fever.\nAssessment: [pneumonia].', { negated: false }],
  ['Denies chest pain but has [dyspnea].', { negated: false }],
  ['Denies chest pain; however [dyspnea] is present.', { negated: false }],
  // post-triggers
  ['[Pulmonary embolism] has been ruled out.', { negated: true }],
  ['Rapid strep test [negative] and [influenza] negative.'.replace('[negative]', 'negative'), { negated: true }],
  ['[Influenza A] and B negative.', { negated: true }],
  ['[Chest pain], troponin negative.', { negated: false }],
  ['Blood, urine and [sputum cultures] were negative.', { negated: true }],
  // rule out / evaluate for / testing for / possible -> unconfirmed
  ['Rule out [pulmonary embolism].', { uncertain: true, negated: false }],
  ['CT to evaluate for [appendicitis].', { uncertain: true }],
  ['Stool testing for [Salmonella] and Shigella.', { uncertain: true }],
  ['Stool testing for Salmonella and [Shigella].', { uncertain: true }],
  ['Possible [pneumonia] in the right lower lobe.', { uncertain: true }],
  ['COPD exacerbation. [CHF] not excluded.', { uncertain: true, negated: false }],
  ['[Pulmonary embolism] has not been ruled out.', { uncertain: true, negated: false }],
  // historical -> clinicalStatus, not verification
  ['History of [hypertension].', { historical: true, clinicalStatus: 'inactive', negated: false, uncertain: false }],
  ['[Pneumonia], now resolved.', { historical: true, clinicalStatus: 'resolved' }],
  ['Prior to admission she developed [heart failure].', { historical: false }],
  // medication status: history keeps it active, stop words set it
  ['History of hypertension on [lisinopril].', { medicationStatus: undefined as unknown as string }],
  ['[Metformin] was discontinued.', { medicationStatus: 'stopped' }],
  ['Lisinopril held because of the kidney injury.'.replace('Lisinopril', '[Lisinopril]'), { medicationStatus: 'on-hold' }],
  ['Stopped [atorvastatin] last month.', { medicationStatus: 'stopped' }],
  ['Aspirin discontinued, [metoprolol] continued.', { medicationStatus: undefined as unknown as string }],
  ['Lisinopril, [metformin], stopped.', { medicationStatus: undefined as unknown as string }],
  // allergies
  ['Allergic to [penicillin].', { allergy: 'allergy', negated: false }],
  ['Allergy to penicillin and [sulfa drugs].', { allergy: 'allergy' }],
  ['Intolerant of [codeine] (nausea).', { allergy: 'intolerance' }],
  ['Severe allergy to [peanuts].', { allergy: 'allergy', criticality: 'high' }],
  ['[Penicillin] allergy.', { allergy: 'allergy' }],
  ['Not allergic to [penicillin].', { allergy: 'allergy', negated: true }],
  ['Allergies:\n[Penicillin] (hives)', { allergy: 'allergy', section: 'allergies' }],
  // sections
  ['Family History:\nMother - [breast cancer].', { experiencer: 'family', relationship: 'MTH', section: 'family-history' }],
  ['Family History: [diabetes].', { experiencer: 'family', relationship: 'FAMMEMB' }],
  ['Past Medical History:\n[Asthma]', { historical: true, section: 'past-medical-history' }],
  ['Plan:\nStart [metformin] 500 mg daily.', { medicationStatus: 'intended', section: 'plan' }],
  ['# Medications\n[acetaminophen] 325 mg oral tablet', { section: 'medications', allergy: undefined as unknown as string }],
  // header lines the list does not name, by keyword: an allergy list ends at "Medications at home:"
  ['Allergies: Penicillin (rash).\nMedications at home: [metformin] 1000 mg PO BID', { section: 'medications', allergy: undefined as unknown as string }],
  ['Allergies: Sulfa.\nCurrent outpatient medication list: [lisinopril] 10 mg daily', { section: 'medications', allergy: undefined as unknown as string }],
  ['Family history:\nMother: [ovarian cancer]', { experiencer: 'family', section: 'family-history' }],
  ['Allergies:\nCodeine: nausea\n[Penicillin]: hives', { allergy: 'allergy', section: 'allergies' }],
  ['Plan: start lisinopril.\nOncology Follow-up\n[letrozole] 2.5 mg daily since 2024', { section: 'title', medicationStatus: undefined as unknown as string }],
  // start -> intended, continue -> active (even in a plan section)
  ['Assessment and plan: atrial fibrillation. Start [apixaban] 5 mg twice daily.', { medicationStatus: 'intended', section: 'plan' }],
  ['Plan: Continue [letrozole].', { medicationStatus: 'active', section: 'plan' }],
  ['Plan: Avoid NSAIDs and [IV contrast].', { negated: true }],
  ['Take nitroglycerin 0.4 mg SL as needed for [chest pain].', { hypothetical: true }],
  ['A 29-year-old woman with no past medical history had a witnessed generalized [tonic-clonic seizure] at work.', { negated: false }],
  ['A woman with no history of asthma who presents with [wheezing].', { negated: false }],
  ['No history of [asthma].', { negated: true }],
  ['Denies having had a [stroke].', { negated: true }],
  ['First unprovoked seizure. [Epilepsy] is not yet established.', { uncertain: true }],
  ['Check TB QuantiFERON and [hepatitis B] serologies before biologic therapy.', { uncertain: true }],
  ['The risk of [bleeding] with aspirin was discussed.', { hypothetical: true }],
  ['The risk of bleeding with [aspirin] was discussed.', { hypothetical: false }],
  ['He was switched from [atorvastatin] to rosuvastatin 20 mg daily.', { medicationStatus: 'stopped' }],
  ['He was switched from atorvastatin to [rosuvastatin] 20 mg daily.', { medicationStatus: undefined as unknown as string }],
  ['She was started on [metformin] in 2019.', { medicationStatus: undefined as unknown as string }],
];

for (const [marked, expect] of scopeTable) {
  test(`assertion (scope rules): ${JSON.stringify(marked)}`, () => {
    const text = marked.replace(/\[|\]/g, '');
    const start = marked.indexOf('[');
    const end = marked.indexOf(']') - 1;
    const [out] = detectAssertions(text, [{ start, end, text: text.slice(start, end), label: 'Disease', score: 0.9 }]);
    for (const [k, v] of Object.entries(expect)) {
      assert.equal((out!.assertion as unknown as Record<string, unknown>)[k], v, `${k} for ${JSON.stringify(marked)} (triggers ${out!.assertion.triggers.join(',')})`);
    }
  });
}

test('"ruled out" between a test and a finding negates the finding, not the test; at the end it negates what is before it', () => {
  const text = 'Chest CT ruled out pulmonary embolism. MI ruled out. PE ruled out by CT angiography. Sepsis cannot be excluded. Stroke was excluded.';
  const words: [string, string][] = [['Chest CT', 'Diagnostic_procedure'], ['pulmonary embolism', 'Disease'], ['MI', 'Disease'], ['PE', 'Disease'], ['CT angiography', 'Diagnostic_procedure'], ['Sepsis', 'Disease'], ['Stroke', 'Disease']];
  let from = 0;
  const ents: Entity[] = words.map(([w, label]) => {
    const start = text.indexOf(w, from);
    from = start + w.length;
    return { start, end: start + w.length, text: w, label, score: 0.9 };
  });
  const out = detectAssertions(text, ents);
  const state = (w: string) => {
    const a = out.find((o) => o.text === w)!.assertion;
    return a.negated ? 'negated' : a.uncertain ? 'uncertain' : 'present';
  };
  assert.deepEqual(
    words.map(([w]) => `${w}:${state(w)}`),
    ['Chest CT:present', 'pulmonary embolism:negated', 'MI:negated', 'PE:negated', 'CT angiography:present', 'Sepsis:uncertain', 'Stroke:negated'],
  );
  // Without preferForward the same trigger also negates the test before it.
  const rules = structuredClone(defaultAssertionRules());
  for (const t of rules.triggers) if (t.phrase === 'ruled out') delete t.preferForward;
  const plain = detectAssertions(text, ents, rules);
  assert.equal(plain.find((o) => o.text === 'Chest CT')!.assertion.negated, true);
});

test('screenEntities drops header words, trigger words, no-known-allergy mentions and fragments, and keeps the rest', () => {
  const text = 'Allergies: No Known Allergies.\nAllergic to penicillin.\nHx: acute bronchitis (disorder), a / 3 acute\nPlan: aspirin';
  const words = ['Allergies', 'Known Allergies', 'Allergic', 'penicillin', 'acute bronchitis', 'disorder', 'a', '/', '3', 'acute', 'Plan', 'aspirin'];
  let from = 0;
  const ents: Entity[] = words.map((w) => {
    const start = text.indexOf(w, from);
    from = start + w.length;
    return { start, end: start + w.length, text: w, label: 'Disease', score: 0.9 };
  });
  const { kept, dropped } = screenEntities(text, ents);
  assert.deepEqual(kept.map((e) => e.text), ['penicillin', 'acute bronchitis', 'aspirin']);
  assert.deepEqual(
    dropped.map((d) => `${d.entity.text}:${d.reason}`),
    ['Allergies:header', 'Known Allergies:no-known-allergy', 'Allergic:cue', 'disorder:semantic-tag', 'a:stop-words', '/:punctuation', '3:digits', 'acute:stop-words', 'Plan:header'],
  );
});

test('notations are no finding, test or drug: counts, obstetric history, how oxygen is given; RA elsewhere is kept', () => {
  const text = 'G2P1 at 36 weeks. Nebs x3. SpO2 88% on RA, 94% on 2L NC. Goal INR 2.5-3.5. Decreased oral intake. DNR/DNI confirmed. History of RA on methotrexate.';
  const words: [string, number][] = [['G2P1', 0], ['x3', 0], ['RA', 0], ['2L NC', 0], ['Goal INR', 0], ['oral', 0], ['DNR/DNI', 0], ['RA', text.indexOf('History')]];
  const ents: Entity[] = words.map(([w, from]) => ({ start: text.indexOf(w, from), end: text.indexOf(w, from) + w.length, text: w, label: 'Sign_symptom', score: 0.5 }));
  const { kept, dropped } = screenEntities(text, ents);
  assert.deepEqual(dropped.map((d) => `${d.entity.text}:${d.reason}`), ['G2P1:notation', 'x3:notation', 'RA:notation', '2L NC:notation', 'Goal INR:notation', 'oral:notation', 'DNR/DNI:notation']);
  assert.deepEqual(kept.map((e) => `${e.text}@${e.start}`), [`RA@${text.indexOf('History of RA') + 11}`]);
});

test('a medication-status word after the drug\'s own sig and a comma speaks of that drug', () => {
  const text = 'Trial of fluoxetine 20 mg daily, stopped due to sexual side effects. Sertraline, stopped.';
  const at = (w: string, label: string): Entity => ({ start: text.indexOf(w), end: text.indexOf(w) + w.length, text: w, label, score: 0.9 });
  const fluoxetine: Entity = { ...at('fluoxetine', 'Medication'), attributes: [{ kind: 'dose', ...at('20 mg', 'Dosage') }, { kind: 'frequency', ...at('daily', 'Frequency') }] };
  const out = detectAssertions(text, [fluoxetine, at('Sertraline', 'Medication')]);
  assert.deepEqual(out.map((o) => o.assertion.medicationStatus), ['stopped', undefined]);
});

test('a prn indication after a frequency span that holds "as needed" is hypothetical', () => {
  const text = 'Ondansetron 8 mg PO every 8 hours as needed for nausea.';
  const ents: Entity[] = [['Ondansetron', 'Medication'], ['every 8 hours as needed', 'Frequency'], ['nausea', 'Sign_symptom']].map(([w, label]) => ({ start: text.indexOf(w!), end: text.indexOf(w!) + w!.length, text: w!, label: label!, score: 0.9 }));
  const out = detectAssertions(text, ents);
  assert.equal(out.find((o) => o.text === 'nausea')!.assertion.hypothetical, true);
  const rules = { ...defaultAssertionRules(), triggersMayOverlap: [] };
  assert.equal(detectAssertions(text, ents, rules).find((o) => o.text === 'nausea')!.assertion.hypothetical, false, 'without it the trigger is lost');
});

test('normal findings ("afebrile") are no Condition: screened out as normal-finding; "discontinue" stops a drug', () => {
  const text = 'Afebrile. Asymptomatic today. Febrile overnight.';
  const ents: Entity[] = ['Afebrile', 'Asymptomatic', 'Febrile'].map((w) => ({ start: text.indexOf(w), end: text.indexOf(w) + w.length, text: w, label: 'Sign_symptom', score: 0.5 }));
  const { kept, dropped } = screenEntities(text, ents);
  assert.deepEqual(kept.map((e) => e.text), ['Febrile']);
  assert.deepEqual(dropped.map((d) => `${d.entity.text}:${d.reason}`), ['Afebrile:normal-finding', 'Asymptomatic:normal-finding']);
  const plan = 'Plan:\nDiscontinue ibuprofen. Start metformin.';
  const meds: Entity[] = ['ibuprofen', 'metformin'].map((w) => ({ start: plan.indexOf(w), end: plan.indexOf(w) + w.length, text: w, label: 'Medication', score: 0.5 }));
  const out = detectAssertions(plan, meds);
  assert.deepEqual(out.map((o) => o.assertion.medicationStatus), ['stopped', 'intended']);
});

test('the shipped rules and sections validate against their schemas; a bad file is named', () => {
  assert.ok(defaultAssertionRules().triggers.length > 100);
  assert.throws(() => parseAssertionRules({ triggers: [{ phrase: 'x', category: 'negated', direction: 'forward', scope: 'wide' }], pseudo: [], terminations: [] }), /scope/);
  assert.ok(findSections('Allergies: none\nPlan: rest').map((s) => s.id).join() === 'allergies,plan');
  assert.throws(() => parseSectionRules({ sections: [{ id: 'x', context: 'nowhere', headers: ['x'] }] }), /RULES_INVALID|invalid/);
  assert.throws(() => parseAssertionRules({ ...defaultAssertionRules(), notations: ['(unclosed'] }), /notations\[0\] is not a regular expression/);
});
