/**
 * HL7 v2 acknowledgements for the MLLP front door (original acknowledgement mode):
 * AA accepted (on Kafka, acknowledged by all in-sync replicas), AE error (try again
 * later: Kafka down), AR reject (this message will never be taken as it is: framing,
 * size, type). Pure. The text in MSA-3/ERR names codes and sizes only, never content.
 */
export interface MshInfo {
  fieldSep: string;
  encoding: string;
  sendingApp: string;
  sendingFacility: string;
  receivingApp: string;
  receivingFacility: string;
  /** MSH-9 as sent, e.g. MDM^T02^MDM_T02 */
  messageType: string;
  controlId: string;
  version: string;
}

/** MSH fields of a message, or undefined when it does not start with a usable MSH segment. */
export function readMsh(bytes: Buffer): MshInfo | undefined {
  let text = bytes.subarray(0, 2048).toString('latin1');
  if (text.charCodeAt(0) === 0xef && text.charCodeAt(1) === 0xbb && text.charCodeAt(2) === 0xbf) text = text.slice(3);
  if (!text.startsWith('MSH') || text.length < 8) return undefined;
  const fieldSep = text[3]!;
  if (/[A-Za-z0-9\r\n]/.test(fieldSep)) return undefined;
  const seg = text.split(/\r\n|\r|\n/)[0]!;
  const f = seg.split(fieldSep);
  // f[0] = MSH, f[1] = MSH-2 (encoding characters), f[i] = MSH-(i+1)
  return {
    fieldSep,
    encoding: f[1] ?? '^~\\&',
    sendingApp: f[2] ?? '',
    sendingFacility: f[3] ?? '',
    receivingApp: f[4] ?? '',
    receivingFacility: f[5] ?? '',
    messageType: f[8] ?? '',
    controlId: f[9] ?? '',
    version: f[11] ?? '2.5.1',
  };
}

/** Message types the pipeline takes (src/formats: MDM T01-T11, ORU R01). */
export function acceptedType(messageType: string, componentSep = '^'): boolean {
  const [code, event] = messageType.split(componentSep);
  if (code === 'ORU') return event === 'R01';
  if (code === 'MDM') return /^T(0[1-9]|1[01])$/.test(event ?? '');
  return false;
}

export type AckCode = 'AA' | 'AE' | 'AR';

function clean(s: string, sep: string, enc: string): string {
  // No delimiters or line breaks from our text may end up in the ACK's structure.
  let out = s;
  for (const ch of [sep, ...enc]) out = out.split(ch).join(' ');
  return out.replace(/[\r\n\x0b\x1c]/g, ' ').slice(0, 200);
}

/** The ACK for `msh` (or a minimal one when the message had no readable MSH). */
export function buildAck(msh: MshInfo | undefined, code: AckCode, text: string, now = new Date()): Buffer {
  const sep = msh?.fieldSep ?? '|';
  const enc = msh?.encoding ?? '^~\\&';
  const comp = enc[0] ?? '^';
  const ts = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const trigger = msh?.messageType.split(comp)[1] ?? '';
  const controlId = `ACK${now.getTime().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const mshOut = ['MSH', enc, msh?.receivingApp ?? 'MEDNER', msh?.receivingFacility ?? '', msh?.sendingApp ?? '', msh?.sendingFacility ?? '', ts, '', `ACK${comp}${trigger}${comp}ACK`, controlId, 'P', msh?.version ?? '2.5.1'].join(sep);
  const msa = ['MSA', code, msh?.controlId ?? '', clean(text, sep, enc)].join(sep);
  const segs = [mshOut, msa];
  if (code !== 'AA') segs.push(['ERR', '', '', '', code === 'AE' ? 'E' : 'E', '', '', '', clean(text, sep, enc)].join(sep));
  return Buffer.from(`${segs.join('\r')}\r`, 'latin1');
}
