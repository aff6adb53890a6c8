import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fx = (n: string): string => `test/fixtures/formats/${n}`;

test('medner parse: one JSON line per document, "<file>: <CODE>: <message>" on stderr, exit 2 after the other files', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'parse', fx('mdm-t02-cr.hl7'), fx('adt-a01.hl7'), fx('bundle.json'), '-', fx('docref-r5-size.json')], {
    cwd: root,
    input: readFileSync(new URL(`../fixtures/formats/mdm-t02-lf.hl7`, import.meta.url)),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; source: { path: string } });
  assert.deepEqual(lines.map((d) => [d.source.path, d.id]), [
    [fx('mdm-t02-cr.hl7'), 'DOC-100'],
    [fx('bundle.json'), 'DOC-F1'],
    [fx('bundle.json'), 'rep-1'],
    ['-', 'DOC-100'],
  ]);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('test/'));
  assert.equal(errors.length, 2, r.stderr);
  assert.match(errors[0]!, /^test\/fixtures\/formats\/adt-a01\.hl7: UNSUPPORTED_EVENT: /);
  assert.match(errors[1]!, /^test\/fixtures\/formats\/docref-r5-size\.json: NOT_R4: /);
});

test('medner parse exits 0 when every file parses', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'parse', fx('mdm-t02-crlf.hl7')], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 1);
});
