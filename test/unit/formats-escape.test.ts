import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unescapeText } from '../../src/formats/hl7v2/escape.ts';
import { splitSegments } from '../../src/formats/hl7v2/message.ts';
import type { Delimiters } from '../../src/formats/hl7v2/message.ts';

const D: Delimiters = { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };
const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const u = (s: string): string => unescapeText(s, D, latin1);

test('delimiter escapes decode to the message delimiters', () => {
  assert.equal(u('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f'), 'a|b^c&d~e\\f');
  const other: Delimiters = { field: '#', component: '$', repetition: '*', escape: '@', subcomponent: '!', truncation: '%' };
  assert.equal(unescapeText('@F@@S@@R@@E@@T@@P@', other, latin1), '#$*@!%');
});

test('escapes never nest and are not re-read', () => {
  assert.equal(u('\\E\\R\\'), '\\R\\');
  assert.equal(u('\\E\\F\\E\\'), '\\F\\');
  assert.equal(u('\\E\\.br\\E\\'), '\\.br\\');
});

test('hex escapes of varying width, NUL bytes dropped, CR becomes LF', () => {
  assert.equal(u('\\X41\\'), 'A');
  assert.equal(u('\\X4142\\'), 'AB');
  assert.equal(u('a\\X000d\\b'), 'a\nb');
  assert.equal(u('a\\X0D0A\\b'), 'a\nb');
  const utf8 = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
  assert.equal(unescapeText('\\XC3\\\\XA9\\', D, utf8), 'é', 'consecutive hex escapes form one multi-byte character');
});

test('highlight, charset and local escapes are dropped', () => {
  assert.equal(u('\\H\\bold\\N\\ x'), 'bold x');
  assert.equal(u('\\C2842\\a\\M244142\\b\\Zxyz\\c'), 'abc');
});

test('FT formatting commands', () => {
  assert.equal(u('a\\.br\\b'), 'a\nb');
  assert.equal(u('a\\.sp\\b'), 'a\nb');
  assert.equal(u('a\\.sp 3\\b'), 'a\n\n\nb');
  assert.equal(u('a\\.sk 2\\b'), 'a  b');
  assert.equal(u('a\\.ce\\b'), 'a\nb');
  assert.equal(u('\\.ce\\b'), 'b');
  assert.equal(u('\\.in+4\\a\\.br\\\\.ti-2\\b'), 'a\nb');
  assert.equal(u('a\\.fi\\b\\.nf\\c'), 'abc');
});

test('unknown sequences and an unpaired escape character stay literal', () => {
  assert.equal(u('C:\\temp\\x'), 'C:\\temp\\x');
  assert.equal(u('50\\% done'), '50\\% done');
  assert.equal(u('\\Q\\'), '\\Q\\');
});

test('segment split: a line that is not "XYZ|" continues the previous segment', () => {
  const m = splitSegments('MSH|^~\\&|A\rPID|1\rOBX|1|TX|||one\ntwo\r\nthree|F\n\rNTE|1||n\r\r');
  assert.deepEqual(m.segments.map((s) => s.id), ['MSH', 'PID', 'OBX', 'NTE']);
  assert.equal(m.segments[2]!.fields[5], 'one\ntwo\nthree');
  assert.equal(m.segments[2]!.fields[6], 'F');
  assert.equal(m.segments[0]!.fields[1], '|');
  assert.equal(m.segments[0]!.fields[2], '^~\\&');
  assert.equal(m.segments[0]!.fields[3], 'A');
});
