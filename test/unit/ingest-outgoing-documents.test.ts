import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { documentsFromFile } from '../../src/ingest/outgoing-documents.ts';
import { splitHl7 } from '../../src/formats/hl7v2/format.ts';
import { DEFAULT_FORMATS } from '../../src/formats/registry.ts';

test('the format is recognized from the content, by the formats in registry order', () => {
  const rows: [string, string | undefined][] = [
    ['MSH|^~\\&|A', 'hl7v2'],
    ['\x0bMSH|^~\\&|A', 'hl7v2'],
    ['  \n{"resourceType":"DocumentReference"}', 'fhir'],
    ['\ufeff{"a":1}', 'fhir'],
    ['<DocumentReference xmlns="http://hl7.org/fhir"/>', 'fhir'],
    ['hello', undefined],
    ['', undefined],
  ];
  for (const [s, want] of rows) assert.equal(DEFAULT_FORMATS.recognize(Buffer.from(s, 'utf8'))?.name, want, JSON.stringify(s));
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

test('a UTF-8 byte order mark is not an error: the HL7 message is sent without it', () => {
  const msg = 'MSH|^~\\&|LAB||||||ORU^R01|M1|P|2.5\rPID|1||123\rOBX|1|TX|||Gr\u00fc\u00dfe\r';
  const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(msg, 'utf8')]);
  const docs = documentsFromFile('lab.hl7', withBom);
  assert.equal(docs.length, 1);
  assert.equal(docs[0]?.key, 'M1');
  // Bytes pass through unchanged (after the BOM): UTF-8 stays UTF-8, not re-encoded.
  assert.deepEqual(docs[0]?.value, Buffer.from(msg, 'utf8'));
  const json = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"resourceType":"DocumentReference","id":"d"}')]);
  assert.equal(documentsFromFile('d.json', json)[0]?.value.toString('utf8'), '{"resourceType":"DocumentReference","id":"d"}');
});

test('latin1 HL7 bytes are passed through byte for byte (MSH-18 decides at intake)', () => {
  const bytes = Buffer.from('MSH|^~\\&|A|||||||MDM^T02|1|P|2.5|||||8859/1\rOBX|1|TX|||caf\xe9\r', 'latin1');
  assert.deepEqual(documentsFromFile('a.hl7', bytes)[0]?.value, bytes);
});

test('a UTF-16 file (BOM) is re-encoded to UTF-8', () => {
  const text = '{"resourceType":"DocumentReference","id":"u16"}';
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  assert.deepEqual(documentsFromFile('u.json', le).map((d) => [d.key, d.value.toString('utf8')]), [['DocumentReference/u16', text]]);
});

test('empty, blank, unknown, non-UTF-8 JSON and message-less HL7 files are refused with a code', () => {
  const cases: [string, Buffer, string][] = [
    ['e.hl7', Buffer.alloc(0), 'EMPTY_INPUT'],
    ['b.hl7', Buffer.from([0xef, 0xbb, 0xbf, 0x20, 0x0a]), 'EMPTY_INPUT'],
    ['x.bin', Buffer.from([0x00, 0x01, 0x02, 0xff]), 'UNKNOWN_FORMAT'],
    ['l.json', Buffer.from('{"a":"caf\xe9"}', 'latin1'), 'BAD_ENCODING'],
    ['h.hl7', Buffer.from('\x0b\x1c\r'), 'NO_MESSAGES'], // an MLLP frame with nothing in it
  ];
  for (const [file, buf, code] of cases) {
    assert.throws(() => documentsFromFile(file, buf), (err: unknown) => (err as { code?: string }).code === code, file);
  }
});
