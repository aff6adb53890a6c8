import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expandAbbreviations, findAbbreviations } from '../../src/nlp/linking/abbreviations.ts';
import { splitComposite } from '../../src/nlp/linking/composite.ts';
import { DEFAULT_LINK_THRESHOLD, linkDocumentEntities, linkMention, type LinkSettings } from '../../src/nlp/linking/link-entities.ts';
import { Linker } from '../../src/nlp/linking/linker.ts';
import { bagKey, canonKey, conjugate, exactKey, withoutCause, withoutSalt, words } from '../../src/nlp/linking/normalize.ts';
import { matchesGold } from '../../src/nlp/linking/eval-link.ts';
import { parsePubtator } from '../../src/nlp/linking/pubtator.ts';
import { ICD10CM_SYSTEM } from '../../src/core/code-systems.ts';
import { DEFAULT_TABLES_DIR, MESH_SYSTEM, TABLES_FORMAT, loadTerminology, sharedTerminology } from '../../src/nlp/linking/tables.ts';
import type { Entity } from '../../src/core/entity.ts';

const linker = new Linker(sharedTerminology());
const DISEASE: LinkSettings = { terminologies: ['icd-10-cm', 'mesh'], threshold: DEFAULT_LINK_THRESHOLD };
const CHEMICAL: LinkSettings = { terminologies: ['mesh'], threshold: DEFAULT_LINK_THRESHOLD };
const settings = (label: string): LinkSettings | undefined => (label === 'Disease' ? DISEASE : label === 'Chemical' ? CHEMICAL : undefined);

function entity(text: string, mention: string, label: string, from = 0): Entity {
  const start = text.indexOf(mention, from);
  assert.ok(start >= 0, `text lacks ${mention}`);
  return { start, end: start + mention.length, text: mention, label, score: 0.9 };
}

function codesOf(text: string, mention: string, label = 'Disease') {
  return linkDocumentEntities(linker, text, [entity(text, mention, label)], settings)[0]!.codes ?? [];
}

test('normalization: case, accents, possessives, hyphens and punctuation, plurals, British spelling, word order', () => {
  assert.deepEqual(words("Crohn's Disease"), ['crohn', 'disease']);
  assert.deepEqual(words('Sjögren-syndrome,'), ['sjogren', 'syndrome']);
  assert.equal(exactKey('Myocardial Infarctions'), exactKey('myocardial infarction'));
  assert.equal(exactKey('kidney diseases'), 'kidney disease');
  assert.equal(exactKey('metastasis'), 'metastasis', 'no plural stripped from -sis');
  assert.equal(exactKey('anaemia'), exactKey('anemia'));
  assert.equal(exactKey('tumours'), exactKey('tumor'));
  assert.equal(bagKey('carcinoma of the breast'), bagKey('breast carcinoma'));
  assert.notEqual(exactKey('carcinoma of the breast'), exactKey('breast carcinoma'));
  assert.equal(canonKey('renal failure'), canonKey('kidney failure'));
  assert.equal(canonKey('brain tumors'), canonKey('brain neoplasms'));
});

test('abbreviations defined in the document expand, and only those', () => {
  const text = 'Patients with chronic kidney disease (CKD) and adverse drug reactions (ADRs) were seen. CKD stage 3 was common.';
  const abbr = findAbbreviations(text);
  assert.equal(abbr.get('CKD'), 'chronic kidney disease');
  assert.equal(abbr.get('ADR'), 'adverse drug reactions');
  assert.equal(expandAbbreviations('CKD stage 3', abbr), 'chronic kidney disease stage 3');
  assert.equal(expandAbbreviations('CKDX', abbr), 'CKDX', 'whole words only');
  assert.equal(findAbbreviations('The dose (mg) was low.').size, 0, 'a parenthesis whose letters the words before do not spell is no definition');
  // linked through the long form
  const codes = codesOf(text, 'CKD stage'.slice(0, 3));
  assert.deepEqual(codes, codesOf(text, 'chronic kidney disease'));
  assert.ok(codes.some((c) => c.system === ICD10CM_SYSTEM && c.code.startsWith('N18')), JSON.stringify(codes));
  assert.deepEqual(codesOf('CKD stage 3 was common.', 'CKD'), codesOf(text, 'chronic kidney disease'), 'undefined, but a clinical alias (clinical-aliases.json)');
  assert.deepEqual(codesOf('AKD stage 3 was common.', 'AKD'), [], 'undefined abbreviation the tables lack: no code');
});

test('abbreviations: word initials before the letter rule; the document\'s definition before the dictionary', () => {
  // the letter rule alone takes the inner "a" of "adenomatous" for the second A
  assert.equal(findAbbreviations('Families with attenuated adenomatous polyposis coli (AAPC) were seen.').get('AAPC'), 'attenuated adenomatous polyposis coli');
  assert.equal(findAbbreviations('Patients with non-insulin-dependent diabetes mellitus (NIDDM) were seen.').get('NIDDM'), 'non-insulin-dependent diabetes mellitus');
  assert.equal(findAbbreviations('Phenobarbital (PB) is safe.').get('PB'), 'Phenobarbital', 'no initials: the letter rule still applies');
  // "DM" is myotonic dystrophy in most training abstracts; here the document defines it
  const text = 'Two patients with dermatomyositis (DM) were treated. DM improved.';
  const dm = codesOf(text, 'DM').find((c) => c.system === MESH_SYSTEM);
  assert.equal(dm?.code, codesOf(text, 'dermatomyositis').find((c) => c.system === MESH_SYSTEM)?.code);
  assert.equal(dm?.code, 'D003882');
  assert.equal(linker.link('DM', 'Disease').parts[0]!.candidates[0]?.id, 'D009223', 'undefined: the dictionary decides');
});

test('composite mentions: shared head, each part its own concept', () => {
  assert.deepEqual(splitComposite('breast and ovarian cancer')?.parts, [['breast cancer', 'breast'], ['ovarian cancer']]);
  assert.deepEqual(splitComposite('sagittal and left transverse sinus thrombosis')?.parts[0], [
    'sagittal thrombosis',
    'sagittal sinus thrombosis',
    'sagittal transverse sinus thrombosis',
    'sagittal',
  ]);
  assert.equal(splitComposite('chronic kidney disease'), undefined);
  const r = linker.link('colon and lung cancer', 'Disease');
  assert.equal(r.composite, true);
  assert.deepEqual(r.parts.map((p) => p.candidates[0]?.id), ['D003110', 'D008175']);
  const nv = linker.link('nausea and vomiting', 'Disease');
  assert.deepEqual(nv.parts.map((p) => p.candidates[0]?.id), ['D009325', 'D014839']);
  // a composite the training mentions name as a whole, without "and": its concepts, ICD-10-CM by each one's bridge
  const hc = linker.link('hemorrhagic cystitis', 'Disease');
  assert.equal(hc.composite, true);
  assert.deepEqual(hc.parts.map((p) => p.candidates[0]?.id), ['D006470', 'D003556']);
  const hcl = linkMention(linker, 'Hemorrhagic cystitis', 'Disease', DEFAULT_LINK_THRESHOLD, new Map());
  assert.deepEqual(hcl.accepted.map((a) => a?.id), ['D006470', 'D003556']);
  assert.notEqual(hcl.icd[0]?.code, hcl.icd[1]?.code, 'each part its own ICD-10-CM code (or none), never the whole name twice');
  // a name that is itself in the dictionary wins over the split
  assert.equal(linker.link('hereditary breast and ovarian cancer', 'Disease').composite, false);
  // gold matching: every part, any '+' alternative
  const [doc] = parsePubtator('1|t|x\n1|a|y\n1\t0\t1\tx\tDisease\tD1|D2\n1\t0\t1\tx\tDisease\tD3+D4\n');
  assert.equal(matchesGold(['D2', 'D1'], doc!.mentions[0]!), true);
  assert.equal(matchesGold(['D1'], doc!.mentions[0]!), false);
  assert.equal(matchesGold(['D4'], doc!.mentions[1]!), true);
});

test('ICD-10-CM: a bare name means its "unspecified" code, not a "not elsewhere classified" header (pain R52, not G89)', () => {
  const t = sharedTerminology();
  assert.equal(t.icdExact.get('pain')?.code, 'R52');
  assert.equal(t.icd.get('G89')?.display, 'Pain, not elsewhere classified', 'fixture: the NEC header is in the table');
});

test('ICD-10-CM: the MeSH bridge never gives a manifestation code ("... in diseases classified elsewhere")', () => {
  const t = sharedTerminology();
  assert.ok(t.icd.get('N08')?.display.includes('in diseases classified elsewhere'), 'fixture: N08 is a manifestation code');
  for (const [mesh, codes] of t.bridge) {
    for (const code of codes) assert.ok(!/in diseases classified elsewhere/i.test(t.icd.get(code)!.display), `${mesh} -> ${code}`);
  }
  assert.equal(t.bridge.get('D007674'), undefined, 'Kidney Diseases had only N08');
});

test('ICD-10-CM: the MeSH bridge gives a congenital (chapter Q) code only to a mention that says so', () => {
  const t = sharedTerminology();
  assert.deepEqual(t.bridge.get('D008944'), ['Q23.3'], 'fixture: Disease Ontology bridges Mitral Valve Insufficiency to the congenital code only');
  const linker = new Linker(t);
  const top = { id: 'D008944', score: 0.95 } as Parameters<Linker['icd']>[1];
  assert.equal(linker.icd('mitral valve insufficiency', top), undefined);
  assert.equal(linker.icd('congenital mitral valve insufficiency', top)?.code, 'Q23.3');
  // The alias codes what clinicians write: nonrheumatic mitral insufficiency.
  assert.equal(codesOf('Moderate mitral regurgitation on echo.', 'mitral regurgitation').find((c) => c.system === ICD10CM_SYSTEM)?.code, 'I34.0');
});

test('ICD-10-CM: type 2 diabetes mellitus E11, essential hypertension I10, asthma J45, display exactly as in the table', () => {
  const tables = sharedTerminology();
  const text = 'History of type 2 diabetes mellitus, essential hypertension and asthma. Hypertension is controlled.';
  const icd = (m: string) => codesOf(text, m).find((c) => c.system === ICD10CM_SYSTEM);
  const e11 = icd('type 2 diabetes mellitus');
  assert.equal(e11?.code.slice(0, 3), 'E11');
  const i10 = icd('essential hypertension');
  assert.equal(i10?.code, 'I10');
  assert.equal(i10?.display, 'Essential (primary) hypertension');
  assert.equal(icd('asthma')?.code.slice(0, 3), 'J45');
  assert.equal(icd('Hypertension')?.code, 'I10', 'through the MeSH bridge');
  for (const m of ['type 2 diabetes mellitus', 'essential hypertension', 'asthma']) {
    const c = icd(m)!;
    assert.equal(c.display, tables.icd.get(c.code)!.display);
    assert.equal(c.version, '2022');
    assert.match(c.code, /^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$/, 'dotted form');
  }
  const mesh = codesOf(text, 'type 2 diabetes mellitus').find((c) => c.system === MESH_SYSTEM);
  assert.equal(mesh?.code, 'D003924');
  assert.equal(mesh?.display, undefined, 'no MeSH heading is shipped: no display');
});

test('chemicals get MeSH only; a label without link settings is left alone', () => {
  const text = 'She takes metformin and lisinopril.';
  const [met, other] = linkDocumentEntities(linker, text, [entity(text, 'metformin', 'Chemical'), entity(text, 'lisinopril', 'Drug')], settings);
  assert.deepEqual(met!.codes?.map((c) => [c.system, c.code]), [[MESH_SYSTEM, 'D008687']]);
  assert.equal(other!.codes, undefined);
});

test('threshold: below it no code is given; nonsense never gets one', () => {
  assert.deepEqual(codesOf('xyzzy qqqq wibble.', 'xyzzy qqqq wibble'), []);
  const text = 'A case of asthmatic wheeze.';
  const l = linkMention(linker, 'asthmatic wheeze', 'Disease', 1, findAbbreviations(text));
  assert.ok((l.result.parts[0]!.candidates[0]?.score ?? 0) < 1);
  assert.deepEqual(l.accepted, [undefined], 'threshold 1: only exact single-id names pass');
  const low = linkMention(linker, 'asthmatic wheeze', 'Disease', 0, findAbbreviations(text));
  assert.notEqual(low.accepted[0], undefined);
});

test('deterministic: same codes whatever the order, the batch or a fresh load of the tables', () => {
  const text = 'Breast and ovarian cancer, renal failure, CKD, chronic kidney disease (CKD), aspirin, hepatotoxicity, myocardial infarctions.';
  const ents: Entity[] = [
    entity(text, 'Breast and ovarian cancer', 'Disease'),
    entity(text, 'renal failure', 'Disease'),
    entity(text, 'CKD', 'Disease'),
    entity(text, 'aspirin', 'Chemical'),
    entity(text, 'hepatotoxicity', 'Disease'),
    entity(text, 'myocardial infarctions', 'Disease'),
  ];
  const a = linkDocumentEntities(linker, text, ents, settings);
  const b = linkDocumentEntities(linker, text, [...ents].reverse(), settings).reverse();
  const fresh = linkDocumentEntities(new Linker(loadTerminology(DEFAULT_TABLES_DIR)), text, ents, settings);
  assert.deepEqual(b, a);
  assert.deepEqual(fresh, a);
  assert.ok(a.filter((e) => e.codes).length >= 4);
});

const shared = path.resolve(fileURLToPath(new URL('../../../shared/data', import.meta.url)));
test('terminology:build reproduces the committed tables byte for byte', { skip: existsSync(path.join(shared, 'terminology')) ? false : `needs ${shared} (absent)` }, () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'medner-terminology-'));
  try {
    execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../scripts/terminology-build.ts', import.meta.url)), '--data', shared, '--out', out], { stdio: 'pipe' });
    for (const f of ['manifest.json', 'icd10cm.tsv.gz', 'mesh-terms.tsv.gz', 'mesh-icd10cm.tsv.gz']) {
      assert.ok(readFileSync(path.join(out, f)).equals(readFileSync(path.join(DEFAULT_TABLES_DIR, f))), `${f} differs from the committed one`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

/** A tiny tables folder: the named MeSH terms (label, term, id), no ICD-10-CM bridge. */
function tinyTables(terms: [label: string, term: string, id: string][]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medner-tiny-terms-'));
  const gz = (name: string, rows: string[]): void => writeFileSync(path.join(dir, name), gzipSync(`${rows.join('\n')}\n`));
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ format: TABLES_FORMAT, version: 'tiny', icd10cm: { system: ICD10CM_SYSTEM, version: '2022' } }));
  gz('icd10cm.tsv.gz', ['code\tbillable\tdisplay', 'E11\t0\tType 2 diabetes mellitus']);
  gz('mesh-icd10cm.tsv.gz', ['mesh\ticd10cm\tdoid']);
  gz('mesh-terms.tsv.gz', ['id\tlabel\tterm\tmentions\tdo', ...terms.map(([label, term, id]) => `${id}\t${label}\t${term}\t3\t0`)]);
  return dir;
}

test('normalization rules: Greek letters, roman numerals of numbered kinds, British spellings (sulph, leuc, -bre)', () => {
  assert.equal(exactKey('TNF-α'), exactKey('TNF alpha'));
  assert.equal(exactKey('β-blocker'), exactKey('beta blocker'));
  assert.equal(exactKey('Type II diabetes'), exactKey('type 2 diabetes'));
  assert.equal(exactKey('von Willebrand disease type IIA'), 'von willebrand disease type 2a');
  assert.equal(exactKey('factor VIII deficiency'), exactKey('factor 8 deficiency'));
  assert.equal(exactKey('IV drug use'), 'iv drug use', 'a roman numeral only after a word that numbers a kind');
  assert.equal(exactKey('X-linked'), 'x linked');
  assert.equal(exactKey('chondroitin sulphate'), exactKey('chondroitin sulfate'));
  assert.equal(exactKey('leucocytoclastic vasculitis'), exactKey('leukocytoclastic vasculitis'));
  assert.equal(exactKey('nerve fibres'), exactKey('nerve fibers'));
  assert.equal(exactKey('aluminium'), exactKey('aluminum'));
});

test('salt words: a drug salt is looked up as its active compound; anions that make their own compound stay', () => {
  assert.equal(withoutSalt('Metformin hydrochloride'), 'metformin');
  assert.equal(withoutSalt('sodium valproate'), 'valproate');
  assert.equal(withoutSalt('magnesium sulfate'), undefined);
  assert.equal(withoutSalt('sodium'), undefined, 'nothing but a salt word');
  const tiny = new Linker(loadTerminology(tinyTables([['Chemical', 'metformin', 'D008687'], ['Chemical', 'metoprolol', 'D008790']]), []));
  const top = tiny.link('metformin hydrochloride', 'Chemical').parts[0]!.candidates[0]!;
  assert.deepEqual([top.id, top.via], ['D008687', 'exact']);
});

test('cause words: "X-induced Y" and "Y induced by X" are looked up as Y; a generic head alone is not', () => {
  assert.equal(withoutCause('cocaine-induced seizures'), 'seizures');
  assert.equal(withoutCause('seizures induced by cocaine'), 'seizures');
  assert.equal(withoutCause('PLP-associated disease'), undefined);
  assert.equal(withoutCause('seizures'), undefined);
  const tiny = new Linker(loadTerminology(tinyTables([['Disease', 'dyskinesia', 'D004409'], ['Disease', 'drug induced liver injury', 'D056486']]), []));
  const top = tiny.link('drug-induced dyskinesias', 'Disease').parts[0]!.candidates[0]!;
  assert.deepEqual([top.id, top.via], ['D004409', 'exact']);
});

test('fuzzy stage: a name with a negation word is no candidate for a mention without one, and back', () => {
  const tiny = new Linker(loadTerminology(tinyTables([
    ['Disease', 'non-insulin-dependent diabetes mellitus', 'D003924'],
    ['Disease', 'diabetes', 'D003920'],
  ]), []));
  assert.deepEqual(tiny.fuzzy('insulin-dependent diabetes mellitus', 'Disease').map((c) => c.id), ['D003920']);
  assert.deepEqual(tiny.fuzzy('non insulin dependant diabetes', 'Disease').map((c) => c.id), ['D003924']);
});

test('acids and their conjugate bases: "uric acid" is looked up as urate, "valproate" as valproic acid', () => {
  assert.equal(conjugate('Uric acid'), 'urate');
  assert.equal(conjugate('valproate'), 'valproic acid');
  assert.equal(conjugate('aspirin'), undefined);
  const tiny = new Linker(loadTerminology(tinyTables([['Chemical', 'urate', 'D014527'], ['Chemical', 'valproic acid', 'D014635'], ['Chemical', 'uracil', 'D014498']]), []));
  const ids = ['uric acid', 'valproate'].map((t) => tiny.link(t, 'Chemical').parts[0]!.candidates[0]!);
  assert.deepEqual(ids.map((c) => [c.id, c.via]), [['D014527', 'exact'], ['D014635', 'exact']]);
});

test('short forms: with shortForms "defined", an undefined short form gets no code unless a curated alias; a defined one does', async () => {
  const { linkDocumentEntities, isUndefinedShortForm } = await import('../../src/nlp/linking/link-entities.ts');
  const { findAbbreviations } = await import('../../src/nlp/linking/abbreviations.ts');
  const linker = new Linker(sharedTerminology());
  const settings = { terminologies: ['icd-10-cm', 'mesh'] as ('icd-10-cm' | 'mesh')[], threshold: 0.75, dictionary: 'Disease' as const };
  const text = 'Denies CP or SOB. History of COPD. Cleft palate (CP) was repaired; CP closure at age 1.';
  const at = (w: string, from = 0): Entity => ({ start: text.indexOf(w, from), end: text.indexOf(w, from) + w.length, text: w, label: 'Sign_symptom', score: 0.9 });
  const ents = [at('CP'), at('COPD')];
  const defined = linkDocumentEntities(linker, text, ents, () => ({ ...settings, shortForms: 'defined' }));
  // The document defines CP as cleft palate, so here it is coded; COPD is a curated alias.
  assert.ok(defined[0]!.codes && defined[0]!.codes.length > 0);
  assert.ok(defined[1]!.codes && defined[1]!.codes.length > 0);
  const note = 'Denies CP or SOB. History of COPD.';
  const noteEnts = [0, 1].map((i) => ({ ...ents[i]!, start: note.indexOf(ents[i]!.text), end: note.indexOf(ents[i]!.text) + ents[i]!.text.length }));
  const out = linkDocumentEntities(linker, note, noteEnts, () => ({ ...settings, shortForms: 'defined' }));
  assert.equal(out[0]!.codes, undefined, 'undefined CP: no code');
  assert.ok(out[1]!.codes && out[1]!.codes.length > 0, 'COPD keeps its code');
  assert.ok(linkDocumentEntities(linker, note, noteEnts, () => settings)[0]!.codes, 'default all: the tables decide');
  assert.equal(isUndefinedShortForm('CP', findAbbreviations(note)), true);
  assert.equal(isUndefinedShortForm('Cp', undefined), false);
  assert.equal(isUndefinedShortForm('K', undefined), true, 'a single letter is no name');
});
