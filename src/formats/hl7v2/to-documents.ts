import type { ClinicalDocument, EncounterRef, Lifecycle, PatientRef, SourceCoordinates } from '../../core/clinical-document.ts';
import { charsetFromHl7, decodeBytes, type Charset } from '../charset.ts';
import { IntakeError } from '../errors.ts';
import { TextBuilder } from '../text-builder.ts';
import { withOptional } from '../optional-fields.ts';
import { edMediaType, edToText } from './ed.ts';
import { safeType } from '../attachment-text.ts';
import { codedType, FieldReader, hl7DateToIso, systemFromAuthority } from './fields.ts';
import { frameMessages, type RawMessage } from './framing.ts';
import { field, mshFields, readDelimiters, splitSegments, type Hl7Message, type Segment } from './message.ts';

const MDM_EVENTS = new Set(['T01', 'T02', 'T03', 'T04', 'T05', 'T06', 'T07', 'T08', 'T09', 'T10', 'T11']);
/** MDM events that carry the document body; the others are notifications and may have no OBX. */
const MDM_WITH_CONTENT = new Set(['T02', 'T04', 'T06', 'T08', 'T10']);
const TEXT_TYPES = new Set(['TX', 'FT', 'ST', 'CF', '']);

/** HL7 v2 input (one message, MLLP frames or a batch) to ClinicalDocuments. Throws IntakeError. */
export function hl7v2ToDocuments(input: Uint8Array, source: SourceCoordinates): ClinicalDocument[] {
  const raws = frameMessages(input);
  if (raws.length === 0) throw new IntakeError('NOT_HL7', 'no MSH segment found');
  const docs: ClinicalDocument[] = [];
  raws.forEach((raw, i) => {
    const what = raws.length > 1 ? `message ${i + 1}` : 'message';
    docs.push(...messageToDocuments(decodeMessage(raw, what), source));
  });
  return docs;
}

interface Decoded {
  msg: Hl7Message;
  r: FieldReader;
}

/** Decodes the bytes per MSH-18 (read from the byte-preserving Latin-1 view), then splits segments. */
export function decodeMessage(raw: RawMessage, what: string): Decoded {
  let charset: Charset;
  if (raw.utf16) charset = { kind: raw.utf16 };
  else {
    // MSH is ASCII in every charset we accept: read it from a byte-preserving view of its line only.
    const bytes = Buffer.from(raw.bytes.buffer, raw.bytes.byteOffset, raw.bytes.byteLength);
    const cr = bytes.indexOf(0x0d);
    const lf = bytes.indexOf(0x0a);
    const eol = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
    const view = bytes.toString('latin1', 0, eol === -1 ? bytes.length : eol);
    const d = readDelimiters(view);
    const msh18 = (mshFields(view, d)[18] ?? '').split(d.repetition)[0]!.split(d.component)[0]!;
    charset = charsetFromHl7(msh18, what);
  }
  const text = decodeBytes(raw.bytes, charset, what);
  const msg = splitSegments(text);
  const hexCharset: Charset = charset.kind === 'utf-16le' || charset.kind === 'utf-16be' ? { kind: 'undeclared' } : charset;
  const hexBytes = (b: Uint8Array): string => {
    try {
      return decodeBytes(b, hexCharset, what);
    } catch {
      return Buffer.from(b).toString('latin1');
    }
  };
  return { msg, r: new FieldReader(msg.delimiters, hexBytes) };
}

function messageToDocuments({ msg, r }: Decoded, source: SourceCoordinates): ClinicalDocument[] {
  const msh = msg.segments[0]!;
  const type = r.component(field(msh, 9), 1).toUpperCase();
  let event = r.component(field(msh, 9), 2).toUpperCase();
  if (event === '') event = r.first(field(seg(msg, 'EVN'), 1)).toUpperCase();
  const messageType = `${type}^${event}`;
  const messageId = r.first(field(msh, 10)) || undefined;
  const mshDate = hl7DateToIso(r.first(field(msh, 7)));
  if (type === 'MDM' && MDM_EVENTS.has(event)) return [mdmDocument(msg, r, event, { messageType, messageId, mshDate, source })];
  if (type === 'ORU' && event === 'R01') return oruDocuments(msg, r, { messageType, messageId, mshDate, source });
  throw new IntakeError('UNSUPPORTED_EVENT', `message type ${safeToken(messageType)} is not MDM^T01-T11 or ORU^R01`);
}

interface Common {
  messageType: string;
  messageId: string | undefined;
  mshDate: string | undefined;
  source: SourceCoordinates;
}

function seg(msg: Hl7Message, id: string): Segment | undefined {
  return msg.segments.find((s) => s.id === id);
}

function safeToken(s: string): string {
  return /^[A-Z0-9]{0,3}\^[A-Z0-9]{0,3}$/.test(s) ? s : '(unrecognized)';
}

function patientFrom(r: FieldReader, pid: Segment | undefined): PatientRef {
  if (!pid) throw new IntakeError('MISSING_FIELD', 'PID segment is missing');
  const ids = r.repetitions(field(pid, 3)).map((rep) => {
    const [ns = '', uid = '', uidType = ''] = r.subcomponents(rep, 4);
    return { value: r.component(rep, 1), type: r.component(rep, 5).toUpperCase(), system: systemFromAuthority(ns, uid, uidType) };
  });
  const usable = ids.filter((i) => i.value.trim() !== '');
  const pick = usable.find((i) => i.type === 'MR') ?? usable.find((i) => i.type === 'MRN') ?? usable.find((i) => i.type === 'PI') ?? usable[0];
  if (pick) {
    const identifier: { system?: string; value: string; type?: string } = { value: pick.value };
    if (pick.system) identifier.system = pick.system;
    if (pick.type) identifier.type = pick.type;
    return { identifier, createIfAbsent: true };
  }
  const pid2 = r.component(field(pid, 2), 1);
  if (pid2.trim() !== '') return { identifier: { value: pid2 }, createIfAbsent: true };
  throw new IntakeError('MISSING_FIELD', 'PID-3 patient identifier is missing');
}

function encounterFrom(r: FieldReader, pv1: Segment | undefined): EncounterRef | undefined {
  const rep = r.repetitions(field(pv1, 19))[0];
  if (rep === undefined) return undefined;
  const value = r.component(rep, 1);
  if (value.trim() === '') return undefined;
  const [ns = '', uid = '', uidType = ''] = r.subcomponents(rep, 4);
  const system = systemFromAuthority(ns, uid, uidType);
  return { identifier: system ? { system, value } : { value } };
}

/** OBX/NTE segments (in order) to text: narrative OBX values, and NTEs following an OBR or any OBX. */
function narrative(r: FieldReader, segments: Segment[], b: TextBuilder): void {
  let parent: string | undefined; // origin prefix NTEs attach to; undefined: NTE is skipped
  let nteCount = 0;
  let obxOrdinal = 0;
  for (const s of segments) {
    if (s.id === 'OBR') {
      parent = `OBR[${r.first(field(s, 1)) || '1'}]`;
      nteCount = 0;
    } else if (s.id === 'OBX') {
      obxOrdinal++;
      const origin = `OBX[${r.first(field(s, 1)) || String(obxOrdinal)}]`;
      const vt = r.first(field(s, 2)).toUpperCase();
      nteCount = 0;
      parent = undefined;
      const value = field(s, 5);
      if (TEXT_TYPES.has(vt) && !(vt === '' && value === '')) {
        // TX/FT/ST are never split on components: only repetitions, each one line.
        b.add(value.split(r.d.repetition).map((rep) => r.text(rep)).join('\n'), origin);
        parent = origin;
      } else if (vt === 'ED') {
        const texts: string[] = [];
        for (const rep of r.repetitions(value)) {
          try {
            texts.push(edToText(r, rep, `${origin} ED`));
          } catch (e) {
            if (!(e instanceof IntakeError) || (e.code !== 'UNSUPPORTED_CONTENT_TYPE' && e.code !== 'BAD_ENCODING')) throw e;
            // One bad part does not drop the message: the other parts are kept, this one is listed
            // (and dead-lettered on its own by the ingest side, with its bytes).
            b.omit({ origin, reason: e.code, contentType: safeType(edMediaType(r, rep)), raw: s.fields.join(r.d.field) });
          }
        }
        if (texts.length > 0) b.add(texts.join('\n'), origin);
        parent = origin;
      } else {
        // A coded or numeric result is not narrative, but the NTE comments on it are.
        parent = origin;
      }
    } else if (s.id === 'NTE' && parent !== undefined) {
      nteCount++;
      b.add(field(s, 3).split(r.d.repetition).map((rep) => r.text(rep)).join('\n'), `${parent}.NTE[${nteCount}]`);
    } else if (s.id !== 'NTE') {
      parent = undefined;
    }
  }
}

function noTextError(b: TextBuilder, what: string): IntakeError {
  if (b.omitted.some((o) => o.reason === 'BAD_ENCODING')) return new IntakeError('BAD_ENCODING', `${what}: no usable narrative; ED data could not be decoded (${b.omitted.map((o) => o.origin).join(', ')})`);
  if (b.omitted.some((o) => o.reason === 'UNSUPPORTED_CONTENT_TYPE'))
    return new IntakeError('UNSUPPORTED_CONTENT_TYPE', `${what}: the only content is of an unsupported type (${b.omitted.map((o) => o.contentType).join(', ')})`);
  return new IntakeError('NO_NARRATIVE', `${what}: no OBX of type TX, FT, ST or ED and no NTE with text`);
}

/** EI entity identifier: component 1, else the first non-empty component. */
function eiValue(r: FieldReader, value: string): string {
  const first = r.component(value, 1);
  if (first.trim() !== '') return first;
  for (const c of value.split(r.d.component)) {
    const t = r.text(c.split(r.d.subcomponent)[0] ?? '');
    if (t.trim() !== '') return t;
  }
  return '';
}

const COMPLETION: Record<string, ClinicalDocument['docStatus']> = {
  DI: 'preliminary', DO: 'preliminary', IP: 'preliminary', IN: 'preliminary', PA: 'preliminary', AU: 'final', LA: 'final',
};
const AVAILABILITY: Record<string, ClinicalDocument['status']> = { AV: 'current', UN: 'current', OB: 'superseded', CA: 'entered-in-error' };

function mdmDocument(msg: Hl7Message, r: FieldReader, event: string, c: Common): ClinicalDocument {
  const txa = seg(msg, 'TXA');
  if (!txa) throw new IntakeError('MISSING_FIELD', 'TXA segment is missing');
  // TXA-12 unique document number (EI). Senders put the number in a later component
  // (e.g. "^^12345"), or leave TXA-12 empty and use the filler (TXA-16) or placer (TXA-14) number.
  const idField = [12, 16, 14].map((n) => r.repetitions(field(txa, n))[0] ?? '').find((f) => eiValue(r, f) !== '');
  if (idField === undefined) throw new IntakeError('MISSING_FIELD', 'TXA-12 unique document number is missing (TXA-16 and TXA-14 too)');
  const id = eiValue(r, idField);
  // The authority components only qualify a number that sits in component 1.
  const idSystem = r.component(idField, 1).trim() === id.trim() ? systemFromAuthority(r.component(idField, 2), r.component(idField, 3), r.component(idField, 4)) : undefined;
  const parentId = r.component(r.repetitions(field(txa, 13))[0] ?? '', 1) || undefined;
  let lifecycle: Lifecycle;
  switch (event) {
    case 'T01':
    case 'T02':
      lifecycle = { action: 'original' };
      break;
    case 'T03':
    case 'T04':
      lifecycle = { action: 'status-change' };
      break;
    case 'T05':
    case 'T06':
    case 'T09':
    case 'T10':
      if (!parentId) throw new IntakeError('MISSING_FIELD', `TXA-13 parent document number is required on MDM^${event}`);
      lifecycle = { action: event === 'T05' || event === 'T06' ? 'append' : 'replace', parentId };
      break;
    case 'T07':
    case 'T08':
      lifecycle = { action: 'edit', parentId: parentId ?? id };
      break;
    default:
      lifecycle = { action: 'cancel', parentId: id };
  }
  const b = new TextBuilder();
  narrative(r, msg.segments, b);
  if (MDM_WITH_CONTENT.has(event) && b.isBlank()) throw noTextError(b, `MDM^${event}`);
  let docStatus = COMPLETION[r.first(field(txa, 17)).toUpperCase()];
  let status = AVAILABILITY[r.first(field(txa, 19)).toUpperCase()] ?? 'current';
  if (lifecycle.action === 'edit' && docStatus === 'final') docStatus = 'amended';
  if (lifecycle.action === 'cancel') {
    status = 'entered-in-error';
    docStatus = 'entered-in-error';
  }
  const doc: ClinicalDocument = {
    id,
    format: 'hl7v2',
    messageType: c.messageType,
    patient: patientFrom(r, seg(msg, 'PID')),
    status,
    lifecycle,
    source: c.source,
    text: b.text(),
    segments: b.segments,
  };
  return withOptional(doc, {
    idSystem,
    messageId: c.messageId,
    encounter: encounterFrom(r, seg(msg, 'PV1')),
    date: hl7DateToIso(r.first(field(txa, 4))) ?? hl7DateToIso(r.first(field(txa, 6))) ?? c.mshDate,
    type: codedType(r, field(txa, 2)),
    docStatus,
    omitted: b.omitted,
  });
}

const RESULT_STATUS: Record<string, ClinicalDocument['docStatus']> = {
  F: 'final', C: 'amended', P: 'preliminary', A: 'preliminary', R: 'preliminary', I: 'preliminary', S: 'preliminary', O: 'preliminary', X: 'entered-in-error',
};

function oruDocuments(msg: Hl7Message, r: FieldReader, c: Common): ClinicalDocument[] {
  // One document per OBR (order) group; PID/PV1 apply to the groups that follow them.
  interface Group { pid?: Segment; pv1?: Segment; obr?: Segment; segs: Segment[] }
  const groups: Group[] = [];
  let pid: Segment | undefined;
  let pv1: Segment | undefined;
  let cur: Group | undefined;
  for (const s of msg.segments) {
    if (s.id === 'PID') {
      pid = s;
      pv1 = undefined;
      cur = undefined;
    } else if (s.id === 'PV1') pv1 = s;
    else if (s.id === 'OBR') {
      cur = { pid, pv1, obr: s, segs: [s] };
      groups.push(cur);
    } else if (s.id === 'OBX' || s.id === 'NTE') {
      if (!cur) {
        if (s.id === 'NTE') continue;
        cur = { pid, pv1, segs: [] };
        groups.push(cur);
      }
      cur.segs.push(s);
    }
  }
  const docs: ClinicalDocument[] = [];
  const empties: TextBuilder[] = [];
  groups.forEach((g, gi) => {
    const b = new TextBuilder();
    narrative(r, g.segs, b);
    if (b.isEmpty && b.omitted.length === 0) return; // e.g. numeric results only
    if (b.isBlank()) {
      empties.push(b);
      return;
    }
    const filler = r.repetitions(field(g.obr, 3))[0] ?? '';
    const placer = r.repetitions(field(g.obr, 2))[0] ?? '';
    const idField = r.component(filler, 1) !== '' ? filler : r.component(placer, 1) !== '' ? placer : undefined;
    let id: string;
    let idSystem: string | undefined;
    if (idField !== undefined) {
      id = r.component(idField, 1);
      idSystem = systemFromAuthority(r.component(idField, 2), r.component(idField, 3), r.component(idField, 4));
    } else {
      if (!c.messageId) throw new IntakeError('MISSING_FIELD', 'ORU^R01 has no OBR-3, OBR-2 or MSH-10 to identify the report');
      id = groups.length > 1 ? `${c.messageId}-${gi + 1}` : c.messageId;
    }
    const resultStatus = RESULT_STATUS[r.first(field(g.obr, 25)).toUpperCase()];
    const lifecycle: Lifecycle = resultStatus === 'amended' ? { action: 'edit', parentId: id } : resultStatus === 'entered-in-error' ? { action: 'cancel', parentId: id } : { action: 'original' };
    const firstObx = g.segs.find((s) => s.id === 'OBX');
    const doc: ClinicalDocument = {
      id,
      format: 'hl7v2',
      messageType: c.messageType,
      patient: patientFrom(r, g.pid),
      status: resultStatus === 'entered-in-error' ? 'entered-in-error' : 'current',
      lifecycle,
      source: c.source,
      text: b.text(),
      segments: b.segments,
    };
    docs.push(
      withOptional(doc, {
        idSystem,
        messageId: c.messageId,
        encounter: encounterFrom(r, g.pv1),
        date: hl7DateToIso(r.first(field(g.obr, 7))) ?? hl7DateToIso(r.first(field(firstObx, 14))) ?? c.mshDate,
        type: g.obr ? codedType(r, field(g.obr, 4)) : undefined,
        docStatus: resultStatus,
        omitted: b.omitted,
      }),
    );
  });
  if (docs.length === 0) throw noTextError(empties[0] ?? new TextBuilder(), 'ORU^R01');
  return docs;
}

