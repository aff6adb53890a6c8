import { test } from 'node:test';
import assert from 'node:assert/strict';
import { htmlToText, decodeEntities } from '../../src/formats/html-to-text.ts';
import { rtfToText } from '../../src/formats/rtf-to-text.ts';
import { charsetFromHl7, charsetFromMime, decodeBytes, parseContentType } from '../../src/formats/charset.ts';
import { hl7DateToIso, systemFromAuthority } from '../../src/formats/hl7v2/fields.ts';
import { IntakeError } from '../../src/formats/errors.ts';

const badEncoding = (e: unknown): boolean => e instanceof IntakeError && e.code === 'BAD_ENCODING';

test('html: block tags are line breaks, entities decoded, script/style dropped, pre kept', () => {
  assert.equal(htmlToText('<div><p>One &amp; two</p><p>Three&#160;&#x2265;4</p></div><script>x()</script>'), 'One & two\nThree\u00a0≥4');
  assert.equal(htmlToText('<p>a<br>b<br/><br/>c</p>'), 'a\nb\n\nc');
  assert.equal(htmlToText('<table><tr><th>BP</th><td>120/80</td></tr><tr><td>HR</td><td>70</td></tr></table>'), 'BP\t120/80\nHR\t70');
  assert.equal(htmlToText('<pre>  a\n   b</pre><p>  spaced    out  </p>'), '  a\n   b\nspaced out');
  assert.equal(decodeEntities('&lt;5 &unknown; &#0; &#xZZ;'), '<5 &unknown; &#0; &#xZZ;');
});

test('rtf: paragraphs, hex and unicode escapes; tables of fonts and colours skipped', () => {
  assert.equal(rtfToText('{\\rtf1\\ansi\\uc1{\\fonttbl{\\f0 Times;}}{\\colortbl;\\red1;}{\\*\\generator X;}Line\\par Caf\\\'e9 \\u8805? 5\\line end\\tab x\\{y\\}}'), 'Line\nCafé ≥ 5\nend\tx{y}');
});

test('charsets: HL7 table 0211 and MIME names; UTF-16 by byte-order mark; unknown and invalid are BAD_ENCODING', () => {
  assert.deepEqual(charsetFromHl7('UNICODE UTF-8', 'm'), { kind: 'utf-8' });
  assert.deepEqual(charsetFromHl7('8859/1', 'm'), { kind: 'latin1' });
  assert.deepEqual(charsetFromHl7('', 'm'), { kind: 'undeclared' });
  assert.equal(decodeBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9]), charsetFromHl7('8859/15', 'm'), 'm'), 'café');
  assert.throws(() => charsetFromHl7('KLINGON', 'm'), badEncoding);
  assert.throws(() => charsetFromMime('x-no-such-charset', 'a'), badEncoding);
  assert.throws(() => decodeBytes(Buffer.from([0xff, 0x41]), { kind: 'utf-8' }, 'a'), badEncoding);
  assert.equal(decodeBytes(Buffer.from([0xe9]), { kind: 'undeclared' }, 'a'), 'é', 'undeclared non-UTF-8 falls back to windows-1252');
  assert.equal(decodeBytes(Buffer.from('\ufeffhé', 'utf16le'), charsetFromMime('utf-16', 'a'), 'a'), 'hé');
  const be = Buffer.from('\ufeffhé', 'utf16le').swap16();
  assert.equal(decodeBytes(be, charsetFromMime('utf-16', 'a'), 'a'), 'hé');
  assert.deepEqual(parseContentType('Text/Plain; Charset="ISO-8859-1"'), { mediaType: 'text/plain', charset: '"ISO-8859-1"' });
  assert.deepEqual(charsetFromMime('"ISO-8859-1"', 'a'), { kind: 'latin1' });
});

test('HL7 dates to ISO 8601; identifier systems from assigning authorities', () => {
  assert.equal(hl7DateToIso('2024'), '2024');
  assert.equal(hl7DateToIso('20240312'), '2024-03-12');
  assert.equal(hl7DateToIso('202403121015'), '2024-03-12T10:15:00');
  assert.equal(hl7DateToIso('20240312101530.123+0100'), '2024-03-12T10:15:30.123+01:00');
  assert.equal(hl7DateToIso('20241399'), undefined);
  assert.equal(hl7DateToIso('yesterday'), undefined);
  assert.equal(systemFromAuthority('HOSP', '2.16.840.1.113883.19.5', 'ISO'), 'urn:oid:2.16.840.1.113883.19.5');
  assert.equal(systemFromAuthority('', 'http://hospital.example/mrn', 'URI'), 'http://hospital.example/mrn');
  assert.equal(systemFromAuthority('General Hosp', '', ''), 'urn:medner:hl7v2:authority:General%20Hosp');
  assert.equal(systemFromAuthority('', '', ''), undefined);
});
