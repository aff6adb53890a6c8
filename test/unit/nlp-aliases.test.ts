import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Entity } from '../../src/core/entity.ts';
import { ALIASES_FILE, applyClinicalAliases, defaultClinicalAliases, parseClinicalAliases, type ClinicalAlias } from '../../src/nlp/linking/aliases.ts';
import { linkMention } from '../../src/nlp/linking/link-entities.ts';
import { Linker } from '../../src/nlp/linking/linker.ts';
import { DEFAULT_TABLES_DIR, loadTerminology, sharedTerminology } from '../../src/nlp/linking/tables.ts';
import { buildGazetteer, nameKey, sharedGazetteer, type DictionaryRules } from '../../src/nlp/dictionary/gazetteer.ts';
import { assertEntities } from '../../src/nlp/assertions.ts';
import { loadLabelMapping } from '../../src/fhir/label-mapping.ts';
import { withNlpStack } from '../../src/pipeline/nlp-engine.ts';

const CLINICAL_MAPPING = fileURLToPath(new URL('../../models/medner-clinical-bge-small/label-mapping.json', import.meta.url));
const linker = new Linker(sharedTerminology());
/** The committed tables without the aliases. */
const rawTables = loadTerminology(DEFAULT_TABLES_DIR, []);

/** The accepted MeSH id and the ICD-10-CM code of a disease mention, as the NLP stage gives them. */
function codes(l: Linker, text: string): [string | undefined, string | undefined] {
  const m = linkMention(l, text, 'Disease', 0.75, undefined, { meshOnly: true, icd: true });
  return [m.accepted[0]?.id, m.icd[0]?.code];
}

function fakeEngine() {
  return {
    model: { name: 'fake', version: '0' },
    async extract(ts: string[]): Promise<Entity[][]> {
      return ts.map(() => []);
    },
  };
}

test('shipped aliases: each links exactly as its target (MeSH id, ICD-10-CM code), or gets the code it names', () => {
  const aliases = defaultClinicalAliases();
  assert.ok(aliases.length >= 30 && aliases.length <= 100, `${aliases.length} aliases`);
  for (const a of aliases) {
    const [mesh, icd] = codes(linker, a.alias);
    const [tMesh, tIcd] = codes(linker, a.target);
    assert.equal(mesh, tMesh, `${a.alias} -> ${a.target}: MeSH`);
    assert.equal(icd, a.icd10cm ?? tIcd, `${a.alias} -> ${a.target}: ICD-10-CM`);
    assert.ok(mesh !== undefined || icd !== undefined, `${a.alias}: no code at all`);
  }
});

test('shipped aliases: the ICD-10-CM categories of the everyday names', () => {
  const expected: [string, string][] = [
    ['COPD', 'J44'], ['GERD', 'K21'], ['DVT', 'I82'], ['deep vein thrombosis', 'I82'], ['type 2 diabetes', 'E11'], ['Type II diabetes', 'E11'],
    ['T2DM', 'E11'], ['type 1 diabetes', 'E10'], ['CKD', 'N18'], ['CHF', 'I50'], ['HTN', 'I10'], ['CAD', 'I25'], ['AFib', 'I48'],
    ['UTI', 'N39'], ['dyslipidemia', 'E78'], ['OSA', 'G47'], ['AKI', 'N17'], ['MI', 'I21'], ['PE', 'I26'], ['TIA', 'G45'],
  ];
  for (const [name, category] of expected) assert.equal(codes(linker, name)[1]?.slice(0, 3), category, name);
  // before the aliases these names got no code at all
  const bare = new Linker(rawTables);
  for (const name of ['COPD', 'GERD', 'DVT', 'type 2 diabetes', 'dyslipidemia', 'HTN']) assert.deepEqual(codes(bare, name), [undefined, undefined], name);
});

test('applying an alias: the alias takes the target ids; the given tables are not changed', () => {
  const alias: ClinicalAlias = { alias: 'zz lung disease', target: 'chronic obstructive pulmonary disease', dictionary: false };
  const t = applyClinicalAliases(rawTables, [alias]);
  assert.notEqual(t, rawTables);
  const [mesh, icd] = codes(new Linker(t), 'ZZ lung diseases');
  assert.deepEqual([mesh, icd], codes(new Linker(rawTables), 'chronic obstructive pulmonary disease'));
  assert.equal(mesh, 'D029424');
  assert.equal(codes(new Linker(rawTables), 'zz lung disease')[0], undefined, 'the tables given are unchanged');
  // an explicit code replaces the target's
  const withCode = applyClinicalAliases(rawTables, [{ ...alias, icd10cm: 'J44.1' }]);
  assert.deepEqual(codes(new Linker(withCode), 'zz lung disease'), ['D029424', 'J44.1']);
});

test('a target the tables do not have is a load-time error naming the alias; so is an unknown code', () => {
  assert.throws(
    () => applyClinicalAliases(rawTables, [{ alias: 'COPD', target: 'chronic obstructive pulmonary diseases of zebras', dictionary: true }]),
    (err: Error & { code?: string }) => err.code === 'TERMINOLOGY_INVALID' && err.message.includes('"COPD"') && err.message.includes('of zebras'),
  );
  assert.throws(
    () => applyClinicalAliases(rawTables, [{ alias: 'GERD', target: 'gastroesophageal reflux disease', icd10cm: 'K99.9', dictionary: true }]),
    (err: Error & { code?: string }) => err.code === 'TERMINOLOGY_INVALID' && err.message.includes('"GERD"') && err.message.includes('K99.9'),
  );
  // a target is a name of the tables, not another alias
  assert.throws(() => applyClinicalAliases(rawTables, [{ alias: 'zz', target: 'COPD', dictionary: false }]), { code: 'TERMINOLOGY_INVALID' });
});

test('the aliases file: the shipped one validates; missing fields, bad codes and an alias listed twice are refused', () => {
  const raw = JSON.parse(readFileSync(ALIASES_FILE, 'utf8')) as { aliases: ClinicalAlias[] };
  assert.equal(parseClinicalAliases(raw).length, raw.aliases.length);
  assert.throws(() => parseClinicalAliases({ aliases: [{ alias: 'COPD', target: 'chronic obstructive pulmonary disease' }] }), { code: 'RULES_INVALID' });
  assert.throws(() => parseClinicalAliases({ aliases: [{ alias: 'DVT', target: 'venous thrombosis', icd10cm: 'i82', dictionary: true }] }), { code: 'RULES_INVALID' });
  assert.throws(
    () => parseClinicalAliases({ aliases: [{ alias: 'COPD', target: 'chronic obstructive pulmonary disease', dictionary: true }, { alias: 'copd', target: 'emphysema', dictionary: false }] }),
    (err: Error & { code?: string }) => err.code === 'RULES_INVALID' && err.message.includes('twice'),
  );
});

test('dictionary flag: only aliases marked for the dictionary are matched in text; the stop list still applies', () => {
  const rules: DictionaryRules = { sources: {}, minChars: 4, minWords: 1, minCharsSingleWord: 5, exclude: [{ names: ['HTN'] }] };
  const aliases: ClinicalAlias[] = [
    { alias: 'COPD', target: 'chronic obstructive pulmonary disease', dictionary: true },
    { alias: 'MI', target: 'myocardial infarction', dictionary: false },
    { alias: 'HTN', target: 'hypertension', dictionary: true },
  ];
  const g = buildGazetteer(DEFAULT_TABLES_DIR, rules, aliases);
  assert.equal(g.size, 1);
  assert.ok(g.has(nameKey('copd')), 'a short form marked safe passes the length rules');
  assert.ok(!g.has(nameKey('MI')));
  assert.ok(!g.has(nameKey('HTN')), 'stop list');
  // the shipped dictionary
  const shipped = sharedGazetteer();
  for (const n of ['COPD', 'GERD', 'DVT', 'CHF', 'type 2 diabetes', 'deep vein thrombosis', 'dyslipidemia']) assert.ok(shipped.has(nameKey(n)), n);
  for (const n of ['MI', 'PE', 'PAD', 'HLD', 'IDA']) assert.ok(!shipped.has(nameKey(n)), n);
});

test('the clinical stack: "History of COPD and GERD." gives J44/K21 codes; "denies DVT" stays refuted', async () => {
  const clinical = loadLabelMapping(CLINICAL_MAPPING);
  const engine = withNlpStack(fakeEngine(), clinical, {});
  const docs = ['History of COPD and GERD.', 'The patient denies DVT.', 'PMH: type 2 diabetes, HTN, dyslipidemia.'];
  const out = (await engine.extract(docs)).map((es, i) => assertEntities(docs[i]!, es));
  const icd = (es: typeof out[number]) => es.map((e) => [e.text, e.source, e.codes?.find((c) => c.system.endsWith('icd-10-cm'))?.code.slice(0, 3)]);
  assert.deepEqual(icd(out[0]!), [
    ['COPD', 'dictionary', 'J44'],
    ['GERD', 'dictionary', 'K21'],
  ]);
  assert.equal(out[0]![0]!.assertion.historical, true);
  assert.deepEqual(icd(out[1]!), [['DVT', 'dictionary', 'I82']]);
  assert.equal(out[1]![0]!.assertion.negated, true);
  assert.deepEqual(icd(out[2]!), [
    ['type 2 diabetes', 'dictionary', 'E11'],
    ['HTN', 'dictionary', 'I10'],
    ['dyslipidemia', 'dictionary', 'E78'],
  ]);
});
