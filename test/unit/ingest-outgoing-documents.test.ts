import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { documentsFromFile, sniffFormat, splitHl7 } from '../../src/ingest/outgoing-documents.ts';

test('format is sniffed from the content', () => {
  const rows: [string, string | undefined][] = [
    ['MSH|^~\\&|A', 'hl7v2'],
    ['\x0bMSH|^~\\&|A', 'hl7v2'],
    ['  \n{"resourceType":"DocumentReference"}', 'fhir'],
    ['\ufeff{"a":1}', 'fhir'],
    ['<DocumentReference xmlns="http://hl7.org/fhir"/>', 'fhir'],
    ['hello', undefined],
    ['', undefined],
  ];
  for (const [s, want] of rows) assert.equal(sniffFormat(Buffer.from(s, 'utf8')), want, JSON.stringify(s));
});

test('HL7 files split at MSH, batch envelopes dropped, any line ending', () => {
  const file = 'FHS|^~\\&\nBHS|^~\\&\nMSH|^~\\&|A|||||||MDM^T02|1|P|2.5\nPID|1\r\nMSH|^~\\&|B|||||||ORU^R01|2|P|2.5\rOBX|1\nBTS|2\nFTS|1\n';
  assert.deepEqual(splitHl7(file), ['MSH|^~\\&|A|||||||MDM^T02|1|P|2.5\rPID|1\r', 'MSH|^~\\&|B|||||||ORU^R01|2|P|2.5\rOBX|1\r']);
});

test('the samples become one record each, keyed by document id', () => {
  const mdm = documentsFromFile('samples/mdm-discharge-summary.hl7', readFileSync('samples/mdm-discharge-summary.hl7'));
  assert.equal(mdm.length, 1);
  assert.equal(mdm[0]?.format, 'hl7v2');
  assert.equal(mdm[0]?.key, 'DOC-DEMO-HL7-0001');
  const oru = documentsFromFile('samples/oru-pathology-report.hl7', readFileSync('samples/oru-pathology-report.hl7'));
  assert.equal(oru[0]?.key, 'MSG-DEMO-0002');
  const fhir = documentsFromFile('samples/documentreference-progress-note.json', readFileSync('samples/documentreference-progress-note.json'));
  assert.deepEqual(fhir.map((d) => [d.format, d.key]), [['fhir', 'DOC-DEMO-FHIR-0001']]);
});

test('NDJSON files give one record per line; unknown content is refused', () => {
  const nd = Buffer.from('{"resourceType":"DocumentReference","id":"a"}\n\n{"resourceType":"DocumentReference","id":"b"}\nnot json\n');
  assert.deepEqual(documentsFromFile('x.ndjson', nd).map((d) => d.key), ['DocumentReference/a', 'DocumentReference/b', 'x.ndjson#2']);
  assert.throws(() => documentsFromFile('y.txt', Buffer.from('plain text')), /neither HL7/);
});
