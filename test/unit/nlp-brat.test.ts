import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BratError, bratToBio, flattenEntities, parseBratAnn, readBratDir, resolveEntity, splitWords } from '../../src/nlp/brat.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'brat');

describe('brat reader', () => {
  it('reads the fixture folder: entities, discontinuous spans, events, relations, attributes, notes', async () => {
    const docs = await readBratDir(FIXTURES);
    assert.deepEqual(
      docs.map((d) => d.name),
      ['note1', 'note2', 'note3'],
    );
    const d = docs[0]!;
    assert.equal(d.entities.length, 17);
    const t8 = d.entities.find((e) => e.id === 'T8')!;
    assert.equal(t8.label, 'Lab_value');
    assert.equal(d.text.slice(t8.start, t8.end), '9.2 g/dL');
    assert.equal(t8.line, 8);
    const t17 = d.entities.find((e) => e.id === 'T17')!;
    assert.equal(t17.fragments.length, 2);
    assert.equal(d.text.slice(t17.start, t17.end), 'Hemoglobin was 9.2 g/dL', 'discontinuous: full extent');
    assert.deepEqual(
      t17.fragments.map((f) => d.text.slice(f.start, f.end)),
      ['Hemoglobin', 'g/dL'],
    );
    assert.equal(d.events.length, 2);
    assert.deepEqual(d.events[0], { id: 'E1', label: 'Sign_symptom', trigger: 'T5', args: [], line: 18 });
    assert.equal(d.relations.length, 7);
    assert.deepEqual(d.relations[0], { id: 'R1', type: 'MODIFY', arg1: 'T3', arg2: 'E1', line: 20 });
    assert.equal(resolveEntity(d, 'E1')?.text, 'pain');
    assert.equal(resolveEntity(d, 'T11')?.text, 'aspirin');
    assert.equal(resolveEntity(d, 'E9'), undefined);
    assert.deepEqual(d.attributes, [{ id: 'A1', name: 'Certainty', target: 'E2', value: 'Confirmed', line: 27 }]);
    assert.equal(d.notes[0]!.type, 'AnnotatorNotes');
    assert.equal(d.notes[0]!.text, 'percutaneous');
    assert.deepEqual(docs[1]!.attributes, [{ id: 'A1', name: 'Negation', target: 'E1', line: 8 }]);
  });

  it('converts code point offsets to UTF-16 offsets (text with an astral character)', () => {
    const text = '\u{1F600} fever and cough';
    const doc = parseBratAnn('T1\tSign_symptom 2 7\tfever\nT2\tSign_symptom 12 17\tcough\n', text, 'x.ann');
    assert.equal(text.slice(doc.entities[0]!.start, doc.entities[0]!.end), 'fever');
    assert.equal(text.slice(doc.entities[1]!.start, doc.entities[1]!.end), 'cough');
  });

  it('accepts N normalizations, * equivalences and blank lines', () => {
    const doc = parseBratAnn('T1\tDisease_disorder 0 6\tsepsis\n\nN1\tReference T1 UMLS:C0243026\tSepsis\nT2\tDisease_disorder 8 14\tsepsis\n*\tEquiv T1 T2\n', 'sepsis, sepsis', 'n.ann');
    assert.equal(doc.notes[0]!.reference, 'UMLS:C0243026');
    assert.deepEqual(doc.equivalences[0]!.ids, ['T1', 'T2']);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['offsets past the end', 'T1\tSign_symptom 3 99\tfever', /bad\.ann:1: entity T1: offsets 3 99 outside the text/],
    ['text column differs', 'T1\tSign_symptom 0 5\tcough', /bad\.ann:1: entity T1: text column "cough" does not match the text at its offsets "fever"/],
    ['no offsets', 'T1\tSign_symptom\tfever', /bad\.ann:1: entity T1: expected "Type start end"/],
    ['bad fragment', 'T1\tSign_symptom 0 2;x 5\tfever', /bad\.ann:1: entity T1: bad offsets "x 5"/],
    ['reversed span', 'T1\tSign_symptom 5 0\tfever', /empty or reversed span/],
    ['missing tab', 'T1 Sign_symptom 0 5 fever', /bad\.ann:1: expected ID<TAB>annotation/],
    ['unknown id', 'X1\tFoo T1', /unknown annotation id "X1"/],
    ['relation without Arg2', 'T1\tSign_symptom 0 5\tfever\nR1\tMODIFY Arg1:T1', /bad\.ann:2: relation R1: expected "TYPE Arg1:ID Arg2:ID"/],
    ['dangling reference', 'T1\tSign_symptom 0 5\tfever\nR1\tMODIFY Arg1:T1 Arg2:T7', /bad\.ann:2: relation R1 refers to T7, which is not defined/],
    ['event trigger not a T', 'E1\tSign_symptom:E2', /bad\.ann:1: event E1: expected "Type:T<n>" trigger/],
    ['duplicate id', 'T1\tSign_symptom 0 5\tfever\nT1\tSign_symptom 0 5\tfever', /bad\.ann:2: duplicate id T1/],
  ];
  for (const [what, ann, re] of bad) {
    it(`rejects ${what} with a typed error naming file and line`, () => {
      assert.throws(
        () => parseBratAnn(ann, 'fever was high', 'dir/bad.ann'),
        (err: unknown) => err instanceof BratError && err.code === 'BRAT_INVALID' && err.file === 'dir/bad.ann' && re.test(err.message),
      );
    });
  }

  it('names a .txt without its .ann', async () => {
    const fs = await import('node:fs/promises');
    const os = await import('node:os');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'brat-'));
    try {
      await fs.writeFile(path.join(dir, 'a.txt'), 'fever');
      await assert.rejects(readBratDir(dir), (err: unknown) => err instanceof BratError && /a\.txt: no a\.ann/.test(err.message));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('flattening and BIO', () => {
  it('keeps the leftmost-longest non-overlapping entities of the wanted labels', async () => {
    const [d] = await readBratDir(FIXTURES);
    const kept = flattenEntities(d!.entities, ['Sign_symptom', 'Biological_structure', 'Diagnostic_procedure', 'Lab_value']);
    const texts = kept.map((e) => `${e.label}:${d!.text.slice(e.start, e.end)}`);
    // "chest pain" (T16) wins over the nested "chest" and "pain"; the discontinuous T17 (full
    // extent "Hemoglobin was 9.2 g/dL") wins over T7 "Hemoglobin" and T8 "9.2 g/dL".
    assert.deepEqual(texts, ['Sign_symptom:chest pain', 'Sign_symptom:dyspnea', 'Diagnostic_procedure:Hemoglobin was 9.2 g/dL', 'Diagnostic_procedure:creatinine', 'Lab_value:1.4 mg/dL']);
  });

  it('breaks a tie on the same span by the order of labels', () => {
    const doc = parseBratAnn('T1\tHistory 0 5\tfever\nT2\tSign_symptom 0 5\tfever\n', 'fever', 't.ann');
    assert.equal(flattenEntities(doc.entities, ['Sign_symptom', 'History'])[0]!.label, 'Sign_symptom');
    assert.equal(flattenEntities(doc.entities, ['History', 'Sign_symptom'])[0]!.label, 'History');
  });

  it('splits words as the BERT basic tokenizer', () => {
    assert.deepEqual(
      splitWords('Hb 9.2g/dL (low).').map((w) => w.text),
      ['Hb', '9', '.', '2g', '/', 'dL', '(', 'low', ')', '.'],
    );
  });

  it('gives one BIO sequence per line, tags words by the flattened entities', async () => {
    const [, d2] = await readBratDir(FIXTURES);
    const seqs = bratToBio(d2!, ['Sign_symptom', 'Disease_disorder', 'Diagnostic_procedure', 'Biological_structure']);
    assert.equal(seqs.length, 2);
    assert.deepEqual(
      seqs[1]!.words.map((w, i) => `${w.text}/${seqs[1]!.tags[i]}`),
      ['A/O', 'chest/B-Biological_structure', 'CT/B-Diagnostic_procedure', 'showed/O', 'a/O', 'right/B-Biological_structure', 'lung/I-Biological_structure', 'mass/B-Sign_symptom', 'consistent/O', 'with/O', 'adenocarcinoma/B-Disease_disorder', './O'],
    );
  });

  it('cuts long lines at a sentence end without splitting an entity', () => {
    const text = 'Fever was high. Cough was dry. Pain was mild.';
    const doc = parseBratAnn('T1\tSign_symptom 16 21\tCough\n', text, 'l.ann');
    const seqs = bratToBio(doc, ['Sign_symptom'], 6);
    assert.ok(seqs.length >= 2);
    assert.ok(seqs.every((s) => s.words.length <= 6 && !s.tags[0]!.startsWith('I-')));
    assert.deepEqual(seqs.flatMap((s) => s.words.map((w) => w.text)), splitWords(text).map((w) => w.text));
    assert.equal(seqs.flatMap((s) => s.tags).filter((t) => t === 'B-Sign_symptom').length, 1);
  });
});
