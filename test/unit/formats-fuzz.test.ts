import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { parseDocuments } from '../../src/formats/intake.ts';
import { IntakeError } from '../../src/formats/errors.ts';

const dir = new URL('../fixtures/formats/', import.meta.url);
const seeds = readdirSync(dir).sort().map((n) => readFileSync(new URL(n, dir)));
const source = { kind: 'file', path: 'fuzz', index: 0 } as const;
const fetchBinary = async (): Promise<{ contentType: string; data: Buffer }> => ({ contentType: 'text/plain', data: Buffer.from('x') });

/** Documents, or an IntakeError with a real reason code: never another exception, never INTERNAL. */
async function check(raw: Uint8Array, format?: 'hl7v2' | 'fhir'): Promise<void> {
  try {
    const docs = await parseDocuments(raw, { source, fetchBinary, ...(format ? { format } : {}) });
    assert.ok(Array.isArray(docs) && docs.length > 0);
    for (const d of docs) assert.equal(typeof d.text, 'string');
  } catch (e) {
    if (!(e instanceof IntakeError) || e.code === 'INTERNAL') {
      throw new Error(`unexpected ${e instanceof IntakeError ? `INTERNAL (cause: ${String((e as Error).cause)})` : String(e)} for input ${Buffer.from(raw).toString('base64').slice(0, 400)}`);
    }
  }
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 12 }) }),
  fc.record({ kind: fc.constant('insertSpecial' as const), at: fc.nat(), s: fc.constantFrom('\r', '\n', '\r\n', '|', '^', '~', '\\', '&', '\\X', '\\.sp 9999\\', '\x0b', '\x1c\r', 'MSH|^~\\&|', '\\E\\', '{', '}', '"', '\ufeff') }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

interface Mutation { kind: string; at: number; len?: number; bytes?: Uint8Array; s?: string; bit?: number }

function mutate(seed: Buffer, ms: Mutation[]): Buffer {
  let b = Buffer.from(seed);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    if (m.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + (m.len ?? 1))]);
    else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes ?? []), b.subarray(at)]);
    else if (m.kind === 'insertSpecial') b = Buffer.concat([b.subarray(0, at), Buffer.from(m.s ?? ''), b.subarray(at)]);
    else if (m.kind === 'flip' && at < b.length) b[at] = b[at]! ^ (1 << (m.bit ?? 0));
    else if (m.kind === 'truncate') b = b.subarray(0, at);
  }
  return b;
}

test('random bytes and strings: documents or a typed IntakeError', { timeout: 30_000 }, async () => {
  await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), (b) => check(b)), { numRuns: 300, seed: 42 });
  await fc.assert(fc.asyncProperty(fc.string({ maxLength: 300 }), (s) => check(Buffer.from(`MSH|^~\\&|${s}`))), { numRuns: 300, seed: 43 });
  await fc.assert(fc.asyncProperty(fc.json(), (s) => check(Buffer.from(s))), { numRuns: 200, seed: 44 });
  await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.constantFrom('hl7v2' as const, 'fhir' as const), (b, f) => check(b, f)), { numRuns: 200, seed: 45 });
});

test('mutated fixture messages: documents or a typed IntakeError, never a hang', { timeout: 60_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 6 }), (i, ms) => check(mutate(seeds[i]!, ms))),
    { numRuns: 1500, seed: 7 },
  );
});

// No wall-clock assertion (tests never time: a loaded CI host made one flaky); a quadratic parser
// would hit the test's timeout on these inputs, and `npm run bench:parse` measures speed.
test('pathological large inputs: documents or a typed IntakeError, never a hang', { timeout: 120_000 }, async () => {
  const head = 'MSH|^~\\&|A|B|||20240101||MDM^T02|1|P|2.5\rPID|1||1^^^H^MR\rTXA|1|CN|TX|||||||||D1\r';
  const html = (body: string): Buffer =>
    Buffer.from(JSON.stringify({ resourceType: 'DocumentReference', id: 'x', status: 'current', subject: { reference: 'Patient/1' }, content: [{ attachment: { contentType: 'text/html', data: Buffer.from(body).toString('base64') } }] }));
  const inputs = [
    Buffer.from(`${head}OBX|1|TX|||${'line\n'.repeat(200_000)}||||||F\r`),
    Buffer.from(`${head}OBX|1|FT|||${'\\X41\\\\.sp 9999\\\\E\\'.repeat(50_000)}||||||F\r`),
    Buffer.from(`${head}OBX|1|TX|||${'\\'.repeat(300_000)}||||||F\r`),
    Buffer.from(`${head}${'NTE|1||x\r'.repeat(100_000)}OBX|1|TX|||y||||||F\r`),
    Buffer.from(`${'MSH|^~\\&|\r'.repeat(20_000)}`),
    html('<!--'.repeat(200_000)),
    html('<a "'.repeat(200_000)),
    html('<p>x</p>'.repeat(100_000)),
  ];
  for (const raw of inputs) await check(raw);
});
