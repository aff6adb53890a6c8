import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const model = path.join(repo, 'test/fixtures/models/tiny-bert');
const cli = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', path.join(repo, 'src/cli/main.ts'), 'extract', '--model', model, ...args], {
    cwd: repo,
    env: { ...process.env, LOG_LEVEL: 'silent' },
  });

test('medner extract --text prints one JSON line per text with slice-exact entities', async () => {
  const texts = ['Selegiline induced postural hypotension.', 'aspirin 😀 daily'];
  const { stdout } = await cli(['--text', ...texts]);
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { documentId: string; entities: { start: number; end: number; text: string }[] });
  assert.deepEqual(lines.map((l) => l.documentId), ['text-1', 'text-2']);
  lines.forEach((l, i) => l.entities.forEach((e) => assert.equal(e.text, texts[i]!.slice(e.start, e.end))));
});

const sample = path.join(repo, 'samples/mdm-discharge-summary.hl7');
test('medner extract FILE parses HL7 v2 and names the document', { skip: fs.existsSync(sample) ? false : 'samples/ absent' }, async () => {
  const { stdout } = await cli([sample]);
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { documentId: string; entities: unknown[] });
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.documentId.length > 0);
  assert.ok(Array.isArray(lines[0]!.entities));
});

test('medner extract rejects a bad --aggregation, a bad --min-score and a missing model folder', async () => {
  await assert.rejects(cli(['--aggregation', 'mean', '--text', 'x']), /--aggregation must be one of/);
  await assert.rejects(cli(['--min-score', '1.5', '--text', 'x']), /--min-score must be a number in \[0, 1\), got "1.5"/);
  await assert.rejects(
    run(process.execPath, ['--import', 'tsx', path.join(repo, 'src/cli/main.ts'), 'extract', '--model', '/nonexistent', '--text', 'x'], { cwd: repo, env: { ...process.env, LOG_LEVEL: 'silent' } }),
    /model folder \/nonexistent: not a directory/,
  );
});
