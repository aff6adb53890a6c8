import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocuments } from '../../src/formats/intake.ts';

// ../shared/data relative to the repository root (this file is test/unit/ in the repo).
const file = fileURLToPath(new URL('../../../shared/data/synthea/DocumentReference.ndjson', import.meta.url));
const present = existsSync(file);

test('Synthea DocumentReferences: all 1,215 parse with text, patient and encounter', { skip: present ? false : `shared data absent: ${file}` }, async () => {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1215);
  for (const [i, line] of lines.entries()) {
    const res = JSON.parse(line) as { id: string; subject: { reference: string }; context?: { encounter?: { reference: string }[] }; content: { attachment: { data: string } }[] };
    const docs = await parseDocuments(Buffer.from(line), { source: { kind: 'file', path: file, index: i } });
    assert.equal(docs.length, 1);
    const d = docs[0]!;
    assert.ok(d.text.trim().length > 0, `line ${i + 1}: text`);
    assert.equal(d.text, Buffer.from(res.content[0]!.attachment.data, 'base64').toString('utf8').replace(/\r\n?/g, '\n'), `line ${i + 1}: text is the attachment`);
    assert.equal(d.patient.reference, res.subject.reference, `line ${i + 1}: patient`);
    assert.equal(d.encounter?.reference, res.context?.encounter?.[0]?.reference, `line ${i + 1}: encounter`);
    assert.equal(d.id, res.id);
    assert.equal(d.sourceReference, `DocumentReference/${res.id}`);
  }
});
