import { MednerError } from '../../core/errors.ts';
import type { FileRecord, InputFormat } from '../input-format.ts';
import { looksLikeHl7 } from './framing.ts';
import { hl7v2ToDocuments } from './to-documents.ts';

/** Splits an HL7 v2 file into messages at each MSH segment (batch headers dropped). */
export function splitHl7(text: string): string[] {
  const segments = text.replace(/\x1c\r?|\x0b/g, '').split(/\r\n|\r|\n/).filter((s) => s.trim().length > 0);
  const out: string[][] = [];
  for (const s of segments) {
    if (/^(FHS|BHS|BTS|FTS)\|/.test(s)) continue;
    if (s.startsWith('MSH')) out.push([s]);
    else out.at(-1)?.push(s);
  }
  return out.map((m) => `${m.join('\r')}\r`);
}

/** TXA-12 (MDM), else MSH-10 (the control id). */
function hl7DocumentId(msg: string): string | undefined {
  const seg = (name: string) => msg.split('\r').find((s) => s.startsWith(`${name}|`));
  const txa12 = seg('TXA')?.split('|')[12]?.split('^')[0];
  if (txa12) return txa12;
  return seg('MSH')?.split('|')[9] || undefined;
}

/** A key read through latin1, as the UTF-8 text its bytes most likely are. */
function utf8Key(k: string | undefined): string | undefined {
  return k === undefined ? undefined : Buffer.from(k, 'latin1').toString('utf8');
}

/** HL7 v2 MDM and ORU (src/formats/README.md, "HL7 v2 rules"): MSH, MLLP frames, FHS/BHS batches. */
export const hl7v2Format: InputFormat = {
  name: 'hl7v2',
  topicKey: 'hl7',
  defaultTopic: 'medner.documents.hl7v2',
  recognizes: looksLikeHl7,
  read: (raw, ctx) => hl7v2ToDocuments(raw, ctx.source),
  /**
   * One record per message. The bytes pass through unchanged (latin1 maps byte to char one to one):
   * their character set is MSH-18's business, read by intake.
   */
  recordsOfFile(fileName: string, content: Buffer): FileRecord[] {
    const messages = splitHl7(content.toString('latin1')).map((m, i) => ({ key: utf8Key(hl7DocumentId(m)) ?? `${fileName}#${i}`, value: Buffer.from(m, 'latin1') }));
    if (messages.length === 0) throw new MednerError('NO_MESSAGES', `${fileName}: no HL7 v2 message (MSH segment) found`);
    return messages;
  },
};
