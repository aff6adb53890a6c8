import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseDocuments } from '../../src/formats/intake.ts';
import { IntakeError } from '../../src/formats/errors.ts';
import type { ClinicalDocument } from '../../src/core/clinical-document.ts';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/formats/${name}`, import.meta.url));
const parse = (name: string): Promise<ClinicalDocument[]> => parseDocuments(fixture(name), { source: { kind: 'file', path: name, index: 0 } });
async function one(name: string): Promise<ClinicalDocument> {
  const docs = await parse(name);
  assert.equal(docs.length, 1, `${name}: one document`);
  return docs[0]!;
}
async function rejects(name: string, code: string): Promise<void> {
  await assert.rejects(parse(name), (e: unknown) => e instanceof IntakeError && e.code === code, `${name} should fail with ${code}`);
}
const slice = (d: ClinicalDocument, origin: string): string[] => d.segments.filter((s) => s.origin === origin).map((s) => d.text.slice(s.start, s.end));

const NOTE = [
  'Subjective: patient reports mild headache since Monday.',
  'Denies fever or chills.',
  'Dictated by resident; reviewed.',
  'Assessment: tension-type headache.',
  'Plan: ibuprofen 400 mg PRN.',
].join('\n');

test('CR, LF and CRLF segment endings and an MLLP frame with BOM give the same document', async () => {
  for (const f of ['mdm-t02-cr.hl7', 'mdm-t02-lf.hl7', 'mdm-t02-crlf.hl7', 'mdm-t02-mllp.hl7']) {
    const d = await one(f);
    assert.equal(d.text, NOTE, f);
    assert.equal(d.id, 'DOC-100');
    assert.equal(d.messageType, 'MDM^T02');
    assert.equal(d.messageId, 'C100');
    assert.deepEqual(d.patient, { identifier: { value: 'MRN12345', system: 'urn:oid:2.16.840.1.113883.3.999', type: 'MR' }, createIfAbsent: true });
    assert.deepEqual(d.encounter, { identifier: { system: 'urn:medner:hl7v2:authority:GENHOSP', value: 'VN778' } });
    assert.deepEqual(d.type, { system: 'http://loinc.org', code: '11506-3', display: 'Progress note' });
    assert.equal(d.date, '2024-03-12T09:30:00-05:00');
    assert.equal(d.status, 'current');
    assert.equal(d.docStatus, 'final');
    assert.deepEqual(d.lifecycle, { action: 'original' });
  }
});

test('multi-OBX note: OBX in order, repetitions are lines, NTE follows its OBX, segments map back', async () => {
  const d = await one('mdm-t02-cr.hl7');
  assert.deepEqual(d.segments.map((s) => s.origin), ['OBX[1]', 'OBX[1].NTE[1]', 'OBX[2]']);
  assert.deepEqual(slice(d, 'OBX[1]'), ['Subjective: patient reports mild headache since Monday.\nDenies fever or chills.']);
  assert.deepEqual(slice(d, 'OBX[1].NTE[1]'), ['Dictated by resident; reviewed.']);
  assert.deepEqual(slice(d, 'OBX[2]'), ['Assessment: tension-type headache.\nPlan: ibuprofen 400 mg PRN.']);
});

test('a stray LF inside CR-terminated OBX text never costs a segment', async () => {
  const d = await one('mdm-t02-stray-lf.hl7');
  assert.equal(d.text, NOTE.replace('headache since', 'headache\nsince').replace('fever or', 'fever\nor'));
  assert.deepEqual(d.segments.map((s) => s.origin), ['OBX[1]', 'OBX[1].NTE[1]', 'OBX[2]']);
  assert.equal(d.patient.identifier?.value, 'MRN12345');
});

test('two MLLP frames in one input give two documents', async () => {
  const docs = await parse('mdm-two-frames.mllp');
  assert.deepEqual(docs.map((d) => d.id), ['DOC-A', 'DOC-B']);
  assert.ok(docs.every((d) => d.text === NOTE));
});

test('every escape decoded once, after splitting; FT formatting honoured', async () => {
  const d = await one('oru-escapes.hl7');
  assert.deepEqual(slice(d, 'OBX[1]'), ['Pipe | caret ^ amp & tilde ~ backslash \\ literal \\R\\ done']);
  assert.deepEqual(slice(d, 'OBX[2]'), ['Hex AB utf8 é wide \nnext']);
  assert.deepEqual(slice(d, 'OBX[3]'), ['Important normal charset   end']);
  assert.deepEqual(slice(d, 'OBX[4]'), ['Line one\nLine two\n\nAfter two\nAfter one\nIndented\nTemp   skipped\nCenteredFillNoFill']);
  // TX is never split on components or subcomponents; an unknown sequence stays literally
  assert.deepEqual(slice(d, 'OBX[5]'), ['Unescaped caret ^ and amp & stay, path C:\\temp\\file kept']);
  assert.equal(d.id, 'FIL-77');
  assert.equal(d.idSystem, 'urn:oid:1.2.3');
  assert.equal(d.messageType, 'ORU^R01');
});

test('non-default delimiters from MSH-1/MSH-2', async () => {
  const d = await one('mdm-delimiters.hl7');
  assert.equal(d.id, 'DOC-ND');
  assert.equal(d.text, 'Uses | and ^ and ~ and & literally, escaped # $ * @ !\nsecond line');
  assert.equal(d.patient.identifier?.value, 'MRN555');
  assert.equal(d.encounter?.identifier?.value, 'VN9');
});

test('ED: Base64 text/plain, Hex RTF; PDF alone is UNSUPPORTED_CONTENT_TYPE, next to text it is listed as omitted', async () => {
  assert.equal((await one('mdm-t02-ed-base64.hl7')).text, 'Discharge summary.\nPatient stable.\nFollow up in 2 weeks — café.');
  assert.equal((await one('oru-ed-rtf-hex.hl7')).text, 'Impression: no acute disease.\nCafé visit');
  await rejects('oru-ed-pdf.hl7', 'UNSUPPORTED_CONTENT_TYPE');
  const mixed = await one('oru-ed-pdf-and-text.hl7');
  assert.equal(mixed.text, 'Report text line.');
  assert.deepEqual(
    mixed.omitted?.map(({ raw, ...o }) => ({ ...o, raw: raw?.slice(0, 9) })),
    [{ origin: 'OBX[2]', reason: 'UNSUPPORTED_CONTENT_TYPE', contentType: 'application/pdf', raw: 'OBX|2|ED|' }],
  );
});

test('a bad ED (placeholder instead of base64) next to TX narrative: the narrative is kept, the part listed with its bytes; alone it is BAD_ENCODING', async () => {
  const doc = await one('mdm-t02-ed-bad-base64.hl7');
  assert.equal(doc.text.split('\n').length, 3);
  assert.ok(doc.text.startsWith('Admitted with community acquired pneumonia'));
  assert.deepEqual(doc.omitted?.map((o) => [o.origin, o.reason]), [['OBX[4]', 'BAD_ENCODING']]);
  assert.ok(doc.omitted?.[0]?.raw?.startsWith('OBX|4|ED|'));
  await rejects('mdm-t02-ed-bad-base64-only.hl7', 'BAD_ENCODING');
});

test('MSH-18 character sets: 8859/1, empty, and invalid bytes for declared UTF-8', async () => {
  assert.equal((await one('mdm-8859-1.hl7')).text, 'Fièvre légère, température 38°C.');
  assert.equal((await one('mdm-ascii-empty-msh18.hl7')).text, 'Plain ASCII only.');
  await rejects('mdm-utf8-invalid.hl7', 'BAD_ENCODING');
});

test('lifecycle: T06 addendum, T10 replacement, T08 edit, T11 cancel', async () => {
  const add = await one('mdm-t06-addendum.hl7');
  assert.deepEqual(add.lifecycle, { action: 'append', parentId: 'DOC-100' });
  assert.equal(add.id, 'DOC-101');
  assert.equal(add.text, 'Addendum: MRI reviewed, normal.');
  const rep = await one('mdm-t10-replace.hl7');
  assert.deepEqual(rep.lifecycle, { action: 'replace', parentId: 'DOC-100' });
  const edit = await one('mdm-t08-edit.hl7');
  assert.deepEqual(edit.lifecycle, { action: 'edit', parentId: 'DOC-100' });
  assert.equal(edit.docStatus, 'amended');
  const cancel = await one('mdm-t11-cancel.hl7');
  assert.deepEqual(cancel.lifecycle, { action: 'cancel', parentId: 'DOC-100' });
  assert.equal(cancel.status, 'entered-in-error');
  assert.equal(cancel.text, '');
  await rejects('mdm-t06-no-parent.hl7', 'MISSING_FIELD');
});

test('ORU: one document per OBR with narrative, OBR NTE kept, numeric results skipped, blank TX line kept', async () => {
  const docs = await parse('oru-multi-obr.hl7');
  assert.deepEqual(docs.map((d) => d.id), ['FIL-1', 'PL-3']);
  assert.equal(docs[0]!.text, 'Order comment.\nFINDINGS: Lungs clear.\n\nIMPRESSION: Normal.');
  assert.deepEqual(docs[0]!.segments.map((s) => s.origin), ['OBR[1].NTE[1]', 'OBX[1]', 'OBX[2]', 'OBX[3]']);
  assert.equal(docs[0]!.date, '2024-03-11T08:00:00');
  assert.deepEqual(docs[0]!.type, { system: 'C4', code: '71020', display: 'Chest XR' });
  assert.equal(docs[1]!.text, 'Specimen: skin.\nDiagnosis: benign nevus.');
  assert.equal(docs[1]!.docStatus, 'preliminary');
});

test('reason codes: NOT_HL7, UNSUPPORTED_EVENT, NO_NARRATIVE', async () => {
  await rejects('not-hl7.txt', 'NOT_HL7');
  await rejects('adt-a01.hl7', 'UNSUPPORTED_EVENT');
  await rejects('mdm-t02-no-obx.hl7', 'NO_NARRATIVE');
  await assert.rejects(parseDocuments(Buffer.from('MSH|^~\\&|A\rOBX|1|TX|||x'), { source: { kind: 'file', path: 'x', index: 0 }, format: 'hl7v2' }), (e: unknown) => e instanceof IntakeError && e.code === 'UNSUPPORTED_EVENT');
  await assert.rejects(parseDocuments(Buffer.from('PID|1||123'), { source: { kind: 'file', path: 'x', index: 0 }, format: 'hl7v2' }), (e: unknown) => e instanceof IntakeError && e.code === 'NOT_HL7');
});

test('error messages carry no patient data', async () => {
  for (const [name, secret] of [['mdm-t06-no-parent.hl7', 'MRN12345'], ['mdm-utf8-invalid.hl7', 'Fi'], ['adt-a01.hl7', 'Testperson']] as const) {
    await assert.rejects(parse(name), (e: unknown) => e instanceof IntakeError && !e.message.includes(secret) && !e.message.includes('Testperson'));
  }
});

test('NTE comments on a numeric result are narrative; numeric results alone are NO_NARRATIVE', async () => {
  const src = { kind: 'file', path: 'inline', index: 0 } as const;
  const head = 'MSH|^~\\&|LAB|H|||20240101||ORU^R01|M1|P|2.5\rPID|1||123^^^H^MR\rOBR|1||F-9|2345-7^Glucose^LN\r';
  const docs = await parseDocuments(Buffer.from(`${head}OBX|1|NM|2345-7^Glucose^LN||95|mg/dL|||||F\rNTE|1||Specimen slightly hemolyzed.\r`), { source: src });
  assert.equal(docs.length, 1);
  assert.equal(docs[0]!.text, 'Specimen slightly hemolyzed.');
  assert.deepEqual(docs[0]!.segments.map((s) => s.origin), ['OBX[1].NTE[1]']);
  await assert.rejects(parseDocuments(Buffer.from(`${head}OBX|1|NM|2345-7^Glucose^LN||95|mg/dL|||||F\r`), { source: src }), (e: unknown) => e instanceof IntakeError && e.code === 'NO_NARRATIVE');
});

test('MSH-2 with fewer than four encoding characters: the missing ones are simply not in use', async () => {
  const docs = await parseDocuments(Buffer.from('MSH|^~|A|B|||20240101||MDM^T02|M2|P|2.3\rPID|1||123^^^H^MR\rTXA|1|CN|TX|||||||||D9\rOBX|1|TX|||a \\ b & c~d||||||F\r'), { source: { kind: 'file', path: 'inline', index: 0 } });
  assert.equal(docs[0]!.text, 'a \\ b & c\nd');
});

test('sender variants: document number in a later TXA-12 component, MIME type in ED type, hex/entity-like text', async () => {
  const src = { kind: 'file', path: 'inline', index: 0 } as const;
  const mdm = [
    'MSH|^~\\&|EHR|EHR|||20230101083000||MDM^T02|77|D|2.3',
    'PID|1||a1b2c3^^^^EPI||Name^Given||19700101|F',
    'PV1|||^^^SOME HOSPITAL^^^^^',
    'TXA||CN||20230101083000|99^DOC^A|||||||^^55501|||||PA|',
    'OBX|1|TX|||Summary: likely viral upper respiratory infection.',
    'OBX|2|TX|||Plan: fluids \\T\\ rest\\X0D\\Return if worse\\E\\X0A\\E\\ note',
  ].join('\n');
  const d = (await parseDocuments(Buffer.from(mdm), { source: src }))[0]!;
  assert.equal(d.id, '55501');
  assert.equal(d.idSystem, undefined);
  assert.equal(d.patient.identifier?.value, 'a1b2c3');
  assert.equal(d.patient.identifier?.type, 'EPI');
  assert.equal(d.docStatus, 'preliminary');
  assert.equal(d.encounter, undefined);
  assert.equal(d.text, 'Summary: likely viral upper respiratory infection.\nPlan: fluids & rest\nReturn if worse\\X0A\\ note');
  const pdf = `MSH|^~\\&|A|B|||20230101||MDM^T02|78|T|2.3\rPID|||0021\rTXA||^^X|AP^application/pdf|||||||||^^^^^UNIQ.DOC.1|||||AU||AV\rOBX||ED|42^Doc|1|^application/pdf^^Base64^JVBERi0xLjQK||||||F\r`;
  await assert.rejects(parseDocuments(Buffer.from(pdf), { source: src }), (e: unknown) => e instanceof IntakeError && e.code === 'UNSUPPORTED_CONTENT_TYPE' && e.message.includes('application/pdf'));
  const txt = pdf.replace('^application/pdf^^Base64^JVBERi0xLjQK', `^text/plain^^Base64^${Buffer.from('Plain note.').toString('base64')}`);
  const t = (await parseDocuments(Buffer.from(txt), { source: src }))[0]!;
  assert.equal(t.text, 'Plain note.');
  assert.equal(t.id, 'UNIQ.DOC.1');
});
