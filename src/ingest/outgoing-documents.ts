/**
 * Files -> Kafka records for `medner send`: sniff the format (HL7 v2 or FHIR),
 * split files holding several messages (HL7 batches, NDJSON), pick a key.
 */
import path from 'node:path';
import type { SourceFormat } from '../formats/clinical-document.ts';

export interface OutgoingDocument {
  format: SourceFormat;
  /** Document id when it can be read cheaply, else "<file name>#<index>". */
  key: string;
  value: Buffer;
}

const MLLP_START = 0x0b;

/** HL7 v2 when the content starts with MSH (after whitespace or an MLLP start byte), FHIR when it is JSON or XML. */
export function sniffFormat(buf: Buffer): SourceFormat | undefined {
  let i = 0;
  while (i < buf.length && (buf[i] === MLLP_START || buf[i] === 0xef || buf[i] === 0xbb || buf[i] === 0xbf || /\s/.test(String.fromCharCode(buf[i] as number)))) i++;
  const head = buf.subarray(i, i + 5).toString('latin1');
  if (head.startsWith('MSH') || head.startsWith('FHS') || head.startsWith('BHS')) return 'hl7v2';
  if (head.startsWith('{') || head.startsWith('<')) return 'fhir';
  return undefined;
}

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

function hl7DocumentId(msg: string): string | undefined {
  const seg = (name: string) => msg.split('\r').find((s) => s.startsWith(`${name}|`));
  const txa12 = seg('TXA')?.split('|')[12]?.split('^')[0];
  if (txa12) return txa12;
  return seg('MSH')?.split('|')[9] || undefined;
}

function fhirDocumentId(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const r = json as { resourceType?: string; id?: string; masterIdentifier?: { value?: string } };
  return r.masterIdentifier?.value ?? (r.id ? `${r.resourceType ?? 'Resource'}/${r.id}` : undefined);
}

export function documentsFromFile(file: string, content: Buffer): OutgoingDocument[] {
  const name = path.basename(file);
  const format = sniffFormat(content);
  if (format === undefined) throw new Error(`${name}: neither HL7 v2 (MSH...) nor FHIR (JSON or XML)`);
  if (format === 'hl7v2') {
    return splitHl7(content.toString('utf8')).map((m, i) => ({ format, key: hl7DocumentId(m) ?? `${name}#${i}`, value: Buffer.from(m, 'utf8') }));
  }
  const text = content.toString('utf8');
  if (/\.ndjson$/i.test(file)) {
    return text
      .split('\n')
      .filter((l) => l.trim().length > 0)
      .map((l, i) => {
        let id: string | undefined;
        try {
          id = fhirDocumentId(JSON.parse(l));
        } catch {
          // send as is: intake dead-letters what it cannot read
        }
        return { format, key: id ?? `${name}#${i}`, value: Buffer.from(l, 'utf8') };
      });
  }
  let id: string | undefined;
  try {
    id = text.trimStart().startsWith('{') ? fhirDocumentId(JSON.parse(text)) : undefined;
  } catch {
    id = undefined;
  }
  return [{ format, key: id ?? name, value: content }];
}
