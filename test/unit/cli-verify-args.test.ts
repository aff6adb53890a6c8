import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runMedner } from '../support/medner-cli.ts';

// No FHIR server is needed: each case fails on its arguments before anything is read from the server.
const env = { FHIR_BASE_URL: 'http://127.0.0.1:9/fhir', LOG_LEVEL: 'warn' };
const dir = mkdtempSync(path.join(tmpdir(), 'medner-verify-args-'));

test('medner verify --files-from: a list it cannot read, or one naming a missing note, exits non-zero naming the file', { timeout: 120_000 }, async () => {
  const missingList = path.join(dir, 'no-such-list.txt');
  const a = await runMedner(['verify', '--files-from', missingList], env);
  assert.notEqual(a.code, 0);
  assert.ok(a.stderr.includes(missingList), a.stderr);

  const note = path.join(dir, 'no-such-note.hl7');
  const list = path.join(dir, 'list.txt');
  writeFileSync(list, `${note}\n\n`);
  const b = await runMedner(['verify', '--files-from', list], env);
  assert.notEqual(b.code, 0);
  assert.ok(b.stderr.includes(note), b.stderr);

  const empty = path.join(dir, 'empty.txt');
  writeFileSync(empty, '\n');
  const c = await runMedner(['verify', '--files-from', empty], env);
  assert.notEqual(c.code, 0);
  assert.match(c.stderr, /USAGE/);
});

test('medner verify: --concurrency and --chunk must be whole numbers of at least 1', { timeout: 120_000 }, async () => {
  for (const [flag, value] of [['--concurrency', '0'], ['--chunk', 'x']] as const) {
    const r = await runMedner(['verify', flag, value, path.join(dir, 'any.hl7')], env);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`USAGE: ${flag}`));
  }
});
