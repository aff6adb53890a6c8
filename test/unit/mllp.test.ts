import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frame, MllpDecoder } from '../../src/mllp/frames.ts';
import { acceptedType, buildAck, readMsh } from '../../src/mllp/ack.ts';

const MDM = 'MSH|^~\\&|EPIC|GH|MEDNER|GH|20260301093000||MDM^T02^MDM_T02|CTRL-1|P|2.5.1\rTXA|1|DS|TX|||||||||DOC-1\r';

test('frames split across chunks, several per chunk, with and without the trailing CR', () => {
  const d = new MllpDecoder(1000);
  const all = Buffer.concat([frame(Buffer.from('A1')), frame(Buffer.from('B22')), Buffer.from([0x0b]), Buffer.from('C3'), Buffer.from([0x1c])]);
  const events = [...d.push(all.subarray(0, 3)), ...d.push(all.subarray(3, 9)), ...d.push(all.subarray(9))];
  assert.deepEqual(events.map((e) => (e.kind === 'frame' ? e.bytes.toString() : e.code)), ['A1', 'B22', 'C3']);
});

test('bytes outside a frame are a FRAMING error; a frame over the bound is OVERSIZE and skipped, the next one is read', () => {
  const d = new MllpDecoder(10);
  const ev = d.push(Buffer.concat([Buffer.from('junk'), frame(Buffer.from('ok')), frame(Buffer.alloc(50, 0x41)), frame(Buffer.from('next'))]));
  assert.deepEqual(ev.map((e) => (e.kind === 'frame' ? e.bytes.toString() : e.code)), ['FRAMING', 'ok', 'OVERSIZE', 'next']);
});

test('ACKs: MSA carries the code and the original control id; the text cannot break the structure', () => {
  const msh = readMsh(Buffer.from(MDM))!;
  assert.equal(msh.controlId, 'CTRL-1');
  assert.equal(msh.messageType, 'MDM^T02^MDM_T02');
  const aa = buildAck(msh, 'AA', 'accepted', new Date('2026-03-01T10:00:00Z')).toString('latin1').split('\r');
  assert.match(aa[0]!, /^MSH\|\^~\\&\|MEDNER\|GH\|EPIC\|GH\|20260301100000\|\|ACK\^T02\^ACK\|ACK\w+\|P\|2\.5\.1$/);
  assert.equal(aa[1], 'MSA|AA|CTRL-1|accepted');
  const ar = buildAck(msh, 'AR', 'bad | text\rwith^delims').toString('latin1').split('\r');
  assert.equal(ar[1], 'MSA|AR|CTRL-1|bad   text with delims');
  assert.match(ar[2]!, /^ERR\|/);
  assert.equal(buildAck(undefined, 'AR', 'NOT_HL7').toString('latin1').split('\r')[1], 'MSA|AR||NOT_HL7');
});

test('accepted types: MDM T01-T11 and ORU R01 only', () => {
  assert.deepEqual(['MDM^T01', 'MDM^T11', 'MDM^T12', 'ORU^R01^ORU_R01', 'ORU^R30', 'ADT^A01', ''].map((t) => acceptedType(t)), [true, true, false, true, false, false, false]);
  assert.equal(readMsh(Buffer.from('hello')), undefined);
});
