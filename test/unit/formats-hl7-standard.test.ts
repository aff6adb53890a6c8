/**
 * Evaluation of the npm package hl7-standard 1.0.4 (named in the design) against the intake
 * rules of issue 3, next to our own parser on the same input. Verdict: not used, because it
 * loses or changes data in most rules. Observed here (each assertion below checks one):
 *
 * - Escapes: none decoded (\F\ \S\ \T\ \R\ \E\ \Xhh\ \H\ \N\ \.br\ \.sp\ come back verbatim).
 * - Repetitions: get('OBX.5') returns only the first repetition of a TX value; the other lines are lost.
 * - TX split on components: an unescaped ^ or & in TX text turns the value into an object of
 *   components, so reading OBX.5.1 cuts the text short.
 * - Segment order: segments are grouped by type, so an NTE is no longer next to its OBX
 *   (getSegments() returns OBX, OBX, NTE for OBX, NTE, OBX).
 * - Line endings chosen by majority vote: CR-terminated segments with more stray LFs inside
 *   OBX text than CRs are split at the LFs; the real segments glue together, lines without '|'
 *   are dropped, and it either throws "invalid EOL characters" or keeps only part of the message.
 * - Non-default delimiters: '|' and '^' are hard-coded; a message with field separator '#'
 *   parses to a single bogus segment without an error.
 * - MLLP framing (0x0B ... 0x1C 0x0D) and a byte-order mark make it throw.
 * - No MSH-18 handling (it takes a JS string; the caller must decode bytes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { parseDocuments } from '../../src/formats/intake.ts';

interface Hl7Segment { type: string; get(path: string): unknown }
interface Hl7Std { transform(): void; getSegments(type?: string): Hl7Segment[] }
// CommonJS without type declarations: loaded through require and typed here.
const Hl7Ctor = createRequire(import.meta.url)('hl7-standard') as new (raw: string) => Hl7Std;

function theirs(raw: string): Hl7Std {
  const h = new Hl7Ctor(raw);
  h.transform();
  return h;
}
async function ours(raw: string): Promise<string> {
  const docs = await parseDocuments(Buffer.from(raw, 'utf8'), { source: { kind: 'file', path: 'eval', index: 0 } });
  return docs.map((d) => d.text).join('\n');
}

const head = 'MSH|^~\\&|A|B|C|D|20240101||MDM^T02|1|P|2.5\rPID|1||123^^^H^MR\rTXA|1|CN|TX|||||||||D1\r';

test('hl7-standard leaves every escape undecoded', async () => {
  const raw = `${head}OBX|1|FT|||a\\F\\b\\S\\c\\T\\d\\E\\e\\X41\\f\\.br\\g\\H\\h\\N\\||||||F\r`;
  assert.equal(theirs(raw).getSegments('OBX')[0]!.get('OBX.5'), 'a\\F\\b\\S\\c\\T\\d\\E\\e\\X41\\f\\.br\\g\\H\\h\\N\\');
  assert.equal(await ours(raw), 'a|b^c&d\\eAf\ngh');
});

test('hl7-standard returns only the first repetition of OBX-5', async () => {
  const raw = `${head}OBX|1|TX|||one~two~three||||||F\r`;
  assert.deepEqual(theirs(raw).getSegments('OBX')[0]!.get('OBX.5'), { 'OBX.5.1': 'one' });
  assert.equal(await ours(raw), 'one\ntwo\nthree');
});

test('hl7-standard splits TX text on unescaped component and subcomponent separators', async () => {
  const raw = `${head}OBX|1|TX|||BP 120^80 & HR 70||||||F\r`;
  const v = theirs(raw).getSegments('OBX')[0]!.get('OBX.5');
  assert.notEqual(v, 'BP 120^80 & HR 70');
  assert.equal(typeof v, 'object');
  assert.equal(await ours(raw), 'BP 120^80 & HR 70');
});

test('hl7-standard groups segments by type: NTE no longer follows its OBX', async () => {
  const raw = `${head}OBX|1|TX|||first||||||F\rNTE|1||comment on first\rOBX|2|TX|||second||||||F\r`;
  assert.deepEqual(theirs(raw).getSegments().map((s) => s.type).slice(3), ['OBX', 'OBX', 'NTE']);
  assert.equal(await ours(raw), 'first\ncomment on first\nsecond');
});

test('hl7-standard picks line endings by majority vote: stray LFs cost the real segments', async () => {
  const raw = `${head}OBX|1|TX|||a\nb\nc\nd\ne\nf\ng||||||F\rOBX|2|TX|||h||||||F\r`;
  let obxCount: number | 'threw';
  try {
    obxCount = theirs(raw).getSegments('OBX').length;
  } catch {
    obxCount = 'threw'; // "HL7 Data contains invalid EOL characters"
  }
  assert.ok(obxCount === 'threw' || obxCount < 2, `hl7-standard found ${obxCount} OBX`);
  assert.equal(await ours(raw), 'a\nb\nc\nd\ne\nf\ng\nh');
});

test('hl7-standard ignores MSH-1/MSH-2: non-default delimiters parse to nothing useful, silently', async () => {
  const raw = 'MSH#$*@!#A#B#C#D#20240101##MDM$T02#1#P#2.5\rPID#1##123$$$H$MR\rTXA#1#CN#TX#########D1\rOBX#1#TX###x@F@y*z######F\r';
  const types = theirs(raw).getSegments().map((s) => s.type);
  assert.ok(!types.includes('PID') && !types.includes('TXA'), `segments seen: ${types.join(',')}`);
  assert.equal(await ours(raw), 'x#y\nz');
});

test('hl7-standard throws on MLLP framing and on a byte-order mark', async () => {
  const framed = `\x0b${head}OBX|1|TX|||x||||||F\r\x1c\r`;
  assert.throws(() => theirs(framed));
  assert.throws(() => theirs(`\ufeff${head}OBX|1|TX|||x||||||F\r`));
  assert.equal(await ours(framed), 'x');
});
