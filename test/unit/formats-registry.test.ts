import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as fhir4 from 'fhir/r4.js';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import type { ClinicalDocument } from '../../src/core/clinical-document.ts';
import { MednerError } from '../../src/core/errors.ts';
import { schemaValidator } from '../../src/core/json-schema.ts';
import { buildDocumentTransaction } from '../../src/fhir/document-output.ts';
import { parseLabelMapping } from '../../src/fhir/label-mapping.ts';
import { IntakeError } from '../../src/formats/errors.ts';
import type { InputFormat } from '../../src/formats/input-format.ts';
import { DEFAULT_FORMATS, InputFormats, SHIPPED_FORMATS } from '../../src/formats/registry.ts';
import { documentsFromFile } from '../../src/ingest/outgoing-documents.ts';
import { assertEntities } from '../../src/nlp/assertions.ts';

/**
 * A format the shipped registry does not have: a dictation system's export, one note per record,
 * a header line `DICT|<patient MRN>|<document id>` and the narrative after it.
 */
const dictation: InputFormat = {
  name: 'dictation',
  topicKey: 'dict',
  defaultTopic: 'medner.documents.dictation',
  recognizes: (raw) => Buffer.from(raw.subarray(0, 5)).toString('latin1') === 'DICT|',
  read(raw, ctx) {
    const text = Buffer.from(raw).toString('utf8');
    const nl = text.indexOf('\n');
    const [, mrn, id] = text.slice(0, nl === -1 ? text.length : nl).split('|');
    if (!mrn || !id || nl === -1) throw new IntakeError('MISSING_FIELD', 'DICT header needs a patient and a document id, then the narrative');
    const body = text.slice(nl + 1);
    const doc: ClinicalDocument = {
      id,
      format: 'dictation',
      messageType: 'DICT',
      patient: { identifier: { system: 'urn:medner:test:dictation-mrn', value: mrn }, createIfAbsent: true },
      status: 'current',
      lifecycle: { action: 'original' },
      source: ctx.source,
      text: body,
      segments: [{ start: 0, end: body.length, origin: 'body' }],
    };
    return [doc];
  },
  recordsOfFile(fileName, content) {
    const id = content.toString('utf8').split('\n')[0]?.split('|')[2];
    return [{ key: id || fileName, value: content }];
  },
};

const formats = DEFAULT_FORMATS.with(dictation);
const source = { kind: 'file', path: 'dictation.txt', index: 0 } as const;
const record = Buffer.from('DICT|MRN-77|DICT-1\nPatient has pneumonia. No fever.\n');

test('the shipped registry lists HL7 v2 then FHIR; a name or topic key registered twice is refused', () => {
  assert.deepEqual(DEFAULT_FORMATS.names, ['hl7v2', 'fhir']);
  assert.equal(SHIPPED_FORMATS.length, 2);
  assert.throws(() => formats.with(dictation), /registered twice/);
  assert.throws(() => DEFAULT_FORMATS.with({ ...dictation, topicKey: 'hl7' }), /topicKey hl7 is another format's/);
  assert.throws(() => DEFAULT_FORMATS.with({ ...dictation, name: 'Dictation' }), /lower-case/);
});

test('the shipped topics: TOPIC_HL7_IN and TOPIC_FHIR_IN, else the formats\' defaults', () => {
  const defaults = loadConfig({});
  assert.deepEqual(DEFAULT_FORMATS.topics(defaults), ['medner.documents.hl7v2', 'medner.documents.fhir']);
  const set = loadConfig({ TOPIC_HL7_IN: 'site.hl7', TOPIC_FHIR_IN: 'site.fhir' });
  assert.deepEqual(DEFAULT_FORMATS.topics(set), ['site.hl7', 'site.fhir']);
  assert.equal(DEFAULT_FORMATS.formatOfTopic(set)('site.fhir'), 'fhir');
  assert.equal(DEFAULT_FORMATS.formatOfTopic(set)('medner.documents.fhir'), undefined);
  assert.throws(() => loadConfig({ TOPIC_HL7_IN: 'bad topic!' }), (e: unknown) => e instanceof ConfigError && /TOPIC_HL7_IN="bad topic!": not a Kafka topic name/.test(e.message));
});

test('a TOPIC_<KEY>_IN no format reads, or two formats on one topic, is a configuration error naming the setting', () => {
  const misspelt = loadConfig({ TOPIC_HL7V2_IN: 'site.hl7' });
  assert.throws(() => DEFAULT_FORMATS.checkConfig(misspelt), (e: unknown) => e instanceof ConfigError && e.code === 'CONFIG_INVALID' && /TOPIC_HL7V2_IN="site.hl7": no input format reads TOPIC_HL7V2_IN \(known: TOPIC_HL7_IN, TOPIC_FHIR_IN\)/.test(e.message));
  const same = loadConfig({ TOPIC_HL7_IN: 'one', TOPIC_FHIR_IN: 'one' });
  assert.throws(() => DEFAULT_FORMATS.checkConfig(same), /TOPIC_FHIR_IN="one": the same topic as hl7v2's/);
  DEFAULT_FORMATS.checkConfig(loadConfig({}));
  // A registered format's key is known.
  const dict = loadConfig({ TOPIC_DICT_IN: 'site.dictation' });
  assert.throws(() => DEFAULT_FORMATS.checkConfig(dict), /TOPIC_DICT_IN/);
  formats.checkConfig(dict);
});

test('a fake input format, registered with one line, is recognized, read, routed, sent and mapped', async () => {
  // recognized among the shipped formats, which keep theirs
  assert.equal(formats.recognize(record)?.name, 'dictation');
  assert.equal(formats.recognize(Buffer.from('MSH|^~\\&|A'))?.name, 'hl7v2');
  assert.equal(DEFAULT_FORMATS.recognize(record), undefined);
  // read, by recognition or by name (from its topic), to documents that fit the shared contract
  const docs = await formats.read(record, { source });
  assert.equal(docs.length, 1);
  assert.deepEqual(await formats.read(record, { source, format: 'dictation' }), docs);
  const valid = schemaValidator('clinical-document.schema.json');
  assert.ok(valid(docs[0]), JSON.stringify(valid.errors));
  assert.equal(docs[0]!.text, 'Patient has pneumonia. No fever.\n');
  // its errors are intake errors with their reason; the shipped registry does not read it
  await assert.rejects(formats.read(Buffer.from('DICT|MRN-1\nx'), { source }), (e: unknown) => e instanceof IntakeError && e.code === 'MISSING_FIELD');
  await assert.rejects(DEFAULT_FORMATS.read(record, { source }), (e: unknown) => e instanceof IntakeError && e.code === 'NOT_HL7');
  // its topic: TOPIC_DICT_IN, else its default; records on that topic are read by it
  const config = loadConfig({ TOPIC_DICT_IN: 'site.dictation' });
  assert.equal(formats.topicOf(config, 'dictation'), 'site.dictation');
  assert.equal(formats.topicOf(loadConfig({}), 'dictation'), 'medner.documents.dictation');
  assert.deepEqual(formats.topics(config), ['medner.documents.hl7v2', 'medner.documents.fhir', 'site.dictation']);
  assert.equal(formats.formatOfTopic(config)('site.dictation'), 'dictation');
  // `medner send` makes its records, keyed by document id
  assert.deepEqual(documentsFromFile('a.txt', record, formats).map((d) => [d.format, d.key]), [['dictation', 'DICT-1']]);
  assert.throws(() => documentsFromFile('a.txt', record), (e: unknown) => e instanceof MednerError && e.code === 'UNKNOWN_FORMAT');
  // the FHIR mapping needs nothing format-specific: the document says medner makes the Patient
  const mapping = parseLabelMapping({ labels: { Disease: { resourceType: 'Condition' } } }, 'test mapping');
  const start = docs[0]!.text.indexOf('pneumonia');
  const out = buildDocumentTransaction({ doc: docs[0]!, entities: assertEntities(docs[0]!.text, [{ start, end: start + 9, text: 'pneumonia', label: 'Disease', score: 0.9 }]), model: { name: 'm', version: '1' }, mapping });
  const patient = out.bundle.entry!.find((e) => e.resource?.resourceType === 'Patient');
  assert.equal(patient?.request?.method, 'POST');
  assert.equal(patient?.request?.ifNoneExist, 'identifier=urn%3Amedner%3Atest%3Adictation-mrn%7CMRN-77');
  const condition = out.bundle.entry!.find((e) => e.resource?.resourceType === 'Condition')?.resource as fhir4.Condition | undefined;
  assert.equal(condition?.code?.text, 'pneumonia');
});

test('without createIfAbsent the subject is a logical reference by identifier and no Patient is written', async () => {
  const docs = await formats.read(record, { source });
  const doc: ClinicalDocument = { ...docs[0]!, patient: { identifier: docs[0]!.patient.identifier! } };
  const mapping = parseLabelMapping({ labels: { Disease: { resourceType: 'Condition' } } }, 'test mapping');
  const out = buildDocumentTransaction({ doc, entities: [], model: { name: 'm', version: '1' }, mapping });
  assert.equal(out.bundle.entry!.some((e) => e.resource?.resourceType === 'Patient'), false);
});
