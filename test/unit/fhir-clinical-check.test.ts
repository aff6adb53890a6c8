import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readFileSync, existsSync } from 'node:fs';
import { evaluateChecks, goldEntities, loadCheckSet, resourcesFor, summarizeChecks } from '../../src/pipeline/clinical-check.ts';
import { loadLabelMapping } from '../../src/fhir/label-mapping.ts';
import { validateFhirResource } from '../../src/fhir/validate.ts';

const MAPPING_FILE = fileURLToPath(new URL('../../src/fhir/mappings/maccrobat.label-mapping.json', import.meta.url));
const mapping = loadLabelMapping(MAPPING_FILE);
const MODEL = { name: 'gold-entities', version: '0' };
const set = loadCheckSet();

test('the check set is large enough and covers labs, vitals, doses, procedures, negation and family', () => {
  assert.ok(set.length >= 50, `${set.length} sentences`);
  const kinds = new Set(set.flatMap((s) => s.checks.map((c) => c.type ?? `absent ${c.absent}`)));
  for (const k of ['Observation', 'MedicationStatement', 'Procedure', 'Condition', 'FamilyMemberHistory', 'absent MedicationStatement']) assert.ok(kinds.has(k), k);
  assert.equal(new Set(set.map((s) => s.id)).size, set.length, 'ids are unique');
});

test('gold entities -> attributes -> FHIR give every expected outcome of the clinical check set', () => {
  const results = set.flatMap((s) => evaluateChecks(s, resourcesFor(s, goldEntities(s), mapping, MODEL)));
  const wrong = results.filter((r) => !r.ok).map((r) => `${r.sentence}#${r.check} ${r.kind}: ${r.why}`);
  assert.deepEqual(wrong, []);
  assert.equal(summarizeChecks(results).share, 1);
});

test('every derived resource of the check set passes the FHIR subset schema', () => {
  for (const s of set) {
    for (const r of resourcesFor(s, goldEntities(s), mapping, MODEL)) {
      assert.deepEqual(validateFhirResource(r).errors, [], `${s.id} ${r.resourceType}`);
    }
  }
});

test('the checks can fail: without attributes, values and doses are missing', () => {
  // Strip the attribute spans: heads alone must not satisfy the value/dose checks.
  const results = set.flatMap((s) => {
    const heads = goldEntities(s).filter((e) => !['Lab_value', 'Dosage', 'Frequency', 'Administration', 'Severity', 'Biological_structure'].includes(e.label));
    return evaluateChecks(s, resourcesFor(s, heads, mapping, MODEL));
  });
  // Over the checks that ask for what attributes give (a value, a dose, a route, a timing, a body site, a severity):
  // the attribute rules find some of them in the text themselves (vital signs, a dose right after a
  // drug: src/nlp/vital-signs.ts, src/nlp/sig.ts); the rest must fail.
  const needsAttributes = (r: (typeof results)[number]): boolean => {
    const c = set.find((s) => s.id === r.sentence)!.checks[r.check]!;
    return ['quantity', 'valueString', 'components', 'dose', 'route', 'timing', 'bodySite', 'severity', 'dosageText'].some((k) => k in c);
  };
  const sum = summarizeChecks(results.filter(needsAttributes));
  // (lab panels and vital signs are read by rule from the text itself: src/nlp/vital-signs.ts)
  assert.ok(sum.share < 0.7, `share without attributes ${sum.share}`);
  assert.ok(results.some((r) => r.sentence === 'vital-weight' && r.ok));
  assert.ok(results.some((r) => r.sentence === 'lab-potassium-analyte' && !r.ok));
  // A MedicationStatement without its dosage fails its check.
  const med = set.find((s) => s.id === 'med-metoprolol')!;
  const stripped = resourcesFor(med, goldEntities(med), mapping, MODEL).map((r) => (r.resourceType === 'MedicationStatement' ? { ...r, dosage: undefined } : r));
  assert.equal(evaluateChecks(med, stripped)[0]?.ok, false);
  assert.equal(evaluateChecks(med, resourcesFor(med, goldEntities(med), mapping, MODEL))[0]?.ok, true);
  assert.ok(results.some((r) => r.sentence === 'lab-hb' && !r.ok && /became Procedure/.test(r.why ?? '')));
});

test('a model folder that ships the clinical label mapping ships it unchanged', (t) => {
  const shipped = readFileSync(MAPPING_FILE, 'utf8');
  const models = new URL('../../models/', import.meta.url);
  let checked = 0;
  for (const name of ['medner-clinical-bge-small']) {
    const own = fileURLToPath(new URL(`${name}/label-mapping.json`, models));
    if (!existsSync(own)) continue;
    // Identical but for $schema, whose relative path depends on where the file sits.
    const { $schema: _a, ...copy } = JSON.parse(readFileSync(own, 'utf8')) as Record<string, unknown>;
    const { $schema: _b, ...source } = JSON.parse(shipped) as Record<string, unknown>;
    assert.deepEqual(copy, source, `${own} differs from src/fhir/mappings/maccrobat.label-mapping.json`);
    checked++;
  }
  if (checked === 0) t.diagnostic('no model folder ships the clinical mapping yet');
});

test('a test the note calls negative stays an Observation (Negative); a test not done is a Procedure not done', () => {
  const one = (id: string, text: string, entities: [string, string][]) => {
    const s = { id, text, entities, checks: [] };
    return resourcesFor(s as never, goldEntities(s as never), mapping, MODEL);
  };
  const ua = one('ua', 'Urinalysis negative for leukocyte esterase and nitrites.', [['Urinalysis', 'Diagnostic_procedure'], ['leukocyte esterase', 'Diagnostic_procedure'], ['nitrites', 'Diagnostic_procedure']]);
  const byText = (rs: typeof ua, t: string) => rs.find((r) => (r as { code?: { text?: string } }).code?.text === t);
  for (const t of ['leukocyte esterase', 'nitrites']) {
    const o = byText(ua, t) as { resourceType: string; interpretation?: { coding?: { code?: string }[] }[] };
    assert.equal(o.resourceType, 'Observation', t);
    assert.equal(o.interpretation?.[0]?.coding?.[0]?.code, 'NEG', t);
    assert.equal(validateFhirResource(o).ok, true, t);
  }
  const ct = one('ct', 'No CT was performed.', [['CT', 'Diagnostic_procedure']]);
  assert.equal((byText(ct, 'CT') as { resourceType: string; status?: string }).resourceType, 'Procedure');
  assert.equal((byText(ct, 'CT') as { status?: string }).status, 'not-done');
});
