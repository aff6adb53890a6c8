/**
 * Errors: no bare `throw new Error` in src/ outside the assert helpers of src/core/errors.ts (a
 * programming error goes through assert/unreachable; everything else is a MednerError with a code
 * from the ErrorCode union, so dead-letter records, logs and CLI exits carry a code). The check
 * also runs on a synthetic file, so it can fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bareErrorThrows, srcFiles } from '../support/import-graph.ts';
import { MednerError, assert as invariant, errorCode, errorFields, foreignCode, unreachable } from '../../src/core/errors.ts';
import { IntakeError } from '../../src/formats/errors.ts';
import { STAGES, isStage } from '../../src/core/stage.ts';

/** The only place allowed to throw a bare Error: the assert helpers (programming errors, code INTERNAL). */
const ALLOWED = new Set(['src/core/errors.ts']);

test('no bare throw new Error in src/ outside the assert helpers', () => {
  const found = srcFiles().flatMap((f) => (ALLOWED.has(f.path) ? [] : bareErrorThrows(f).map((line) => `${f.path}:${line}`)));
  assert.deepEqual(found, []);
});

test('the check finds a bare throw (new Error and Error()), and not a coded one or one in a comment', () => {
  const text = [
    "import { MednerError } from '../core/errors.ts';",
    '// throw new Error("in a comment")',
    'export function f(x: number): void {',
    "  if (x < 0) throw new Error('negative');",
    "  if (x > 9) throw Error('big');",
    "  if (x === 5) throw new MednerError('USAGE', 'five');",
    '}',
  ].join('\n');
  assert.deepEqual(bareErrorThrows({ path: 'src/queue/x.ts', text }), [4, 5]);
});

test('the assert helpers throw programming errors; MednerError carries code, stage and retriable', () => {
  assert.throws(() => invariant(false, 'broken'), /internal error: broken/);
  assert.doesNotThrow(() => invariant(true, 'fine'));
  assert.throws(() => unreachable('here'), /internal error: here/);
  const e = new MednerError('FHIR_UNAVAILABLE', 'down', { retriable: true, stage: 'output' });
  assert.deepEqual([e.code, e.stage, e.retriable, errorCode(e)], ['FHIR_UNAVAILABLE', 'output', true, 'FHIR_UNAVAILABLE']);
  const intake = new IntakeError('BINARY_FETCH_FAILED', 'x');
  assert.deepEqual([intake.code, intake.stage, intake.retriable, intake instanceof MednerError], ['BINARY_FETCH_FAILED', 'intake', true, true]);
  assert.deepEqual([...STAGES], ['intake', 'inference', 'output']);
  assert.equal(isStage('output'), true);
  assert.equal(isStage('publish'), false);
});

test('errorCode always answers a code of the union; a foreign error keeps its own code only as foreignCode, for logs', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED', syscall: 'connect' });
  const missing = Object.assign(new Error("ENOENT: no such file or directory, open 'x'"), { code: 'ENOENT', syscall: 'open' });
  const kafka = Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError' });
  const odd = Object.assign(new Error('x'), { code: 'ACK_TIMEOUT' });
  const rows: [unknown, string, string | undefined][] = [
    [refused, 'NETWORK_ERROR', 'ECONNREFUSED'],
    [missing, 'IO_ERROR', 'ENOENT'],
    [kafka, 'KAFKA_UNAVAILABLE', 'KafkaJSConnectionError'],
    [odd, 'INTERNAL', 'ACK_TIMEOUT'],
    [new TypeError('x'), 'INTERNAL', 'TypeError'],
    [new Error('x'), 'INTERNAL', undefined],
    ['a string', 'INTERNAL', undefined],
    [new MednerError('FHIR_REJECTED', 'x'), 'FHIR_REJECTED', undefined],
  ];
  for (const [err, code, cause] of rows) {
    assert.equal(errorCode(err), code, String(err));
    assert.equal(foreignCode(err), cause, String(err));
    assert.deepEqual(errorFields(err), cause === undefined ? { code } : { code, cause });
  }
});
