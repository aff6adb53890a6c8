import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * onnxruntime's session creation recurses deeply in native code on the shipped (quantized) model.
 * In a worker thread with Node's default 4 MB stack it died with SIGSEGV, taking the process with
 * it, once the command line was long (`medner verify` / `medner extract` with 1,000 file arguments,
 * 2026-12-01). The session pool gives its threads a larger stack (session-pool.ts ORT_THREAD_STACK_MB).
 */
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('the shipped model loads in the engine\'s worker threads of a process with a long command line', { timeout: 120_000 }, () => {
  const args = Array.from({ length: 1500 }, (_, i) => `/tmp/medner-no-such-note-${i}.hl7`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/support/engine-start.ts', ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'error' } });
  assert.equal(r.signal, null, `killed by ${r.signal}`);
  assert.equal(r.status, 0, r.stderr.slice(-500));
  assert.match(r.stdout, /loaded 1502 true/);
});
