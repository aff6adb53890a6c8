import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type * as fhir4 from 'fhir/r4.js';
import { integrationServices, uniqueName } from '../support/services.ts';
import type { ClinicalDocument } from '../../src/core/clinical-document.ts';
import { attachAttributes } from '../../src/nlp/attributes.ts';
import { buildDocumentTransaction } from '../../src/fhir/document-output.ts';
import { FhirClient } from '../../src/fhir/fhir-client.ts';
import { FhirServerWriter } from '../../src/fhir/fhir-writer.ts';
import { checkDocument, goldEntities, loadCheckSet } from '../../src/pipeline/clinical-check.ts';
import { loadLabelMapping } from '../../src/fhir/label-mapping.ts';
import { assertEntities } from '../../src/nlp/assertions.ts';

/**
 * The clinical output (values in UCUM, blood-pressure components, dosage with timing and route,
 * severity, body sites) against the real HAPI FHIR server: the server takes the transaction and
 * gives back what was written. Unique document and patient ids per run.
 */

const svc = await integrationServices(['fhir']);
const mapping = loadLabelMapping(fileURLToPath(new URL('../../src/fhir/mappings/maccrobat.label-mapping.json', import.meta.url)));
const run = uniqueName('clin');

test('a note with values, blood pressure, doses and findings is written and read back as built', { skip: svc.skip, timeout: 60_000 }, async () => {
  if (!svc.ok) return;
  const client = new FhirClient({ baseUrl: svc.services.fhirBaseUrl, timeoutMs: 30_000, auth: { kind: 'none' }, maxRetries: 3 });
  const set = loadCheckSet();
  const ids = ['vital-bp', 'lab-hb', 'lab-potassium-analyte', 'med-metoprolol', 'med-apap-prn', 'sev-site-swelling', 'img-ct-no-value', 'med-amox-clav-duration', 'lab-ua-negative', 'vital-terse',
    // 2026-12-01 (fourth session): infusion rates (rateQuantity), new UCUM units, survey/exam categories, flags, unconfirmed and refuted findings
    'med-infusion-rate', 'lab-tumour-marker', 'unc-serologies', 'lab-drug-level', 'diet-not-drug', 'vital-t-celsius', 'lab-panel-flags', 'score-phq9-gcs', 'neg-no-pmh-then-event', 'proc-plan-result'];
  const picked = ids.map((id) => set.find((s) => s.id === id)!);
  // One document holding the sentences, entities shifted to their place.
  let text = '';
  const entities = picked.flatMap((s) => {
    const offset = text.length;
    text += `${s.text} `;
    return goldEntities(s).map((e) => ({ ...e, start: e.start + offset, end: e.end + offset }));
  });
  const base = checkDocument(picked[0]!);
  const doc: ClinicalDocument = {
    ...base,
    id: `DOC-${run}`,
    format: 'hl7v2',
    sourceReference: undefined,
    patient: { identifier: { system: 'urn:medner:test:mrn', value: `MRN-${run}` }, createIfAbsent: true },
    text,
    segments: [{ start: 0, end: text.length, origin: 'OBX[1]' }],
  };
  delete doc.sourceReference;
  const out = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, attachAttributes(text, entities)), model: { name: 'medner-it', version: '0.0.1' }, mapping });
  await new FhirServerWriter(client).writeDocument(doc, out);

  const read = async <T extends fhir4.Resource>(type: string, id: string): Promise<T> => (await client.read(type, id)) as T;
  const built = (out.bundle.entry ?? []).map((e) => e.resource!).filter((r) => ['Observation', 'MedicationStatement', 'Condition', 'Procedure'].includes(r.resourceType));
  const byText = (type: string, t: string) => built.find((r) => r.resourceType === type && ((r as fhir4.Observation).code ?? (r as fhir4.MedicationStatement).medicationCodeableConcept)?.text === t)!;

  const bp = await read<fhir4.Observation>('Observation', byText('Observation', 'Blood pressure').id!);
  assert.deepEqual(bp.component?.map((c) => [c.code.text, c.valueQuantity?.value, c.valueQuantity?.code]), [
    ['Systolic blood pressure', 150, 'mm[Hg]'],
    ['Diastolic blood pressure', 95, 'mm[Hg]'],
  ]);
  assert.equal(bp.category?.[0]?.coding?.[0]?.code, 'vital-signs');
  const hb = await read<fhir4.Observation>('Observation', byText('Observation', 'hemoglobin').id!);
  assert.deepEqual(hb.valueQuantity, { value: 9.2, unit: 'g/dL', system: 'http://unitsofmeasure.org', code: 'g/dL' });
  const k = await read<fhir4.Observation>('Observation', byText('Observation', 'potassium').id!);
  assert.equal(k.interpretation?.[0]?.coding?.[0]?.code, 'H');
  const meto = await read<fhir4.MedicationStatement>('MedicationStatement', byText('MedicationStatement', 'metoprolol').id!);
  assert.deepEqual(meto.dosage?.[0]?.timing?.repeat, { frequency: 2, period: 1, periodUnit: 'd' });
  assert.equal(meto.dosage?.[0]?.doseAndRate?.[0]?.doseQuantity?.code, 'mg');
  const apap = await read<fhir4.MedicationStatement>('MedicationStatement', byText('MedicationStatement', 'Acetaminophen').id!);
  assert.equal(apap.dosage?.[0]?.asNeededBoolean, true);
  const ct = await read<fhir4.Procedure>('Procedure', byText('Procedure', 'CT scan').id!);
  assert.equal(ct.status, 'completed');
  assert.equal(ct.bodySite?.[0]?.text, 'abdomen');
  assert.ok(!built.some((r) => r.resourceType === 'MedicationStatement' && (r as fhir4.MedicationStatement).medicationCodeableConcept?.text === 'potassium'));
  // How long: boundsDuration in UCUM beside the frequency.
  const amox = await read<fhir4.MedicationStatement>('MedicationStatement', byText('MedicationStatement', 'amoxicillin-clavulanate').id!);
  assert.deepEqual(amox.dosage?.[0]?.timing?.repeat, { frequency: 2, period: 1, periodUnit: 'd', boundsDuration: { value: 7, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' } });
  // A test the note calls negative: an Observation with interpretation Negative, no Procedure.
  const nitrites = await read<fhir4.Observation>('Observation', byText('Observation', 'nitrites').id!);
  assert.equal(nitrites.interpretation?.[0]?.coding?.[0]?.code, 'NEG');
  assert.ok(!built.some((r) => r.resourceType === 'Procedure' && (r as fhir4.Procedure).code?.text === 'nitrites'));
  const temp = await read<fhir4.Observation>('Observation', byText('Observation', 'Temp').id!);
  assert.equal(temp.valueQuantity?.code, 'Cel');
  assert.equal(temp.category?.[0]?.coding?.[0]?.code, 'vital-signs');
  // Infusion rates are rateQuantity; the server took the new UCUM units and categories.
  const vaso = await read<fhir4.MedicationStatement>('MedicationStatement', byText('MedicationStatement', 'vasopressin').id!);
  assert.deepEqual(vaso.dosage?.[0]?.doseAndRate?.[0]?.rateQuantity, { value: 0.04, unit: 'units/min', system: 'http://unitsofmeasure.org', code: '[IU]/min' });
  const phq = await read<fhir4.Observation>('Observation', byText('Observation', 'PHQ-9').id!);
  assert.equal(phq.category?.[0]?.coding?.[0]?.code, 'survey');
  const calpro = await read<fhir4.Observation>('Observation', byText('Observation', 'Fecal calprotectin').id!);
  assert.equal(calpro.valueQuantity?.code, 'ug/g');
  const plt = await read<fhir4.Observation>('Observation', byText('Observation', 'Platelets').id!);
  assert.equal(plt.interpretation?.[0]?.coding?.[0]?.code, 'H');
});
