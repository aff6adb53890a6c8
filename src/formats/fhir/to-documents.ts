import type { z } from 'zod';
import type { ClinicalDocument, EncounterRef, Lifecycle, PatientRef, SourceCoordinates } from '../../core/clinical-document.ts';
import { attachmentToText, decodeBase64, safeType, textRank } from '../attachment-text.ts';
import { parseContentType } from '../charset.ts';
import { IntakeError } from '../errors.ts';
import { TextBuilder } from '../text-builder.ts';
import { withOptional } from '../optional-fields.ts';
import { Bundle, Composition, DiagnosticReport, DocumentReference, type Attachment, type Reference, type Section } from './r4-schema.ts';
import { htmlToText } from '../html-to-text.ts';
import { assertR4 } from './version.ts';

export type FetchBinary = (url: string) => Promise<{ contentType?: string; data: Buffer }>;

interface Ctx {
  source: SourceCoordinates;
  fetchBinary?: FetchBinary;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** FHIR R4 JSON (a resource, a Bundle, or NDJSON of them) to ClinicalDocuments. Throws IntakeError. */
export async function fhirToDocuments(raw: Uint8Array, ctx: Ctx): Promise<ClinicalDocument[]> {
  let text: string;
  try {
    text = UTF8.decode(raw);
  } catch {
    throw new IntakeError('BAD_ENCODING', 'FHIR JSON is not valid UTF-8');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const values = parseJson(text);
  const docs: ClinicalDocument[] = [];
  for (const [i, v] of values.entries()) {
    const where = values.length > 1 ? `line ${i + 1}` : 'resource';
    docs.push(...(await resourceToDocuments(v, where, ctx)));
  }
  return docs;
}

function parseJson(text: string): unknown[] {
  try {
    return [JSON.parse(text)];
  } catch (e) {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.length > 1 && lines.every((l) => l.trimStart().startsWith('{'))) {
      return lines.map((l, i) => {
        try {
          return JSON.parse(l) as unknown;
        } catch (err) {
          throw new IntakeError('INVALID_FHIR', `NDJSON line ${i + 1} is not valid JSON${jsonPosition(err)}`);
        }
      });
    }
    // V8's message quotes the input: keep only the position.
    throw new IntakeError('INVALID_FHIR', `input is not valid JSON${jsonPosition(e)}`);
  }
}

function jsonPosition(e: unknown): string {
  const m = e instanceof Error ? /position (\d+)/.exec(e.message) : null;
  return m ? ` (at position ${m[1]})` : '';
}

function validate<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  throw new IntakeError('INVALID_FHIR', `${where}${path}: ${issue.message.slice(0, 200)}`);
}

async function resourceToDocuments(v: unknown, where: string, ctx: Ctx, fullUrl?: string): Promise<ClinicalDocument[]> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new IntakeError('INVALID_FHIR', `${where} is not a JSON object`);
  assertR4(v, where);
  const type = (v as { resourceType: unknown }).resourceType;
  switch (type) {
    case 'DocumentReference':
      return [await documentReference(validate(DocumentReference, v, where), where, ctx, fullUrl)];
    case 'DiagnosticReport':
      return [await diagnosticReport(validate(DiagnosticReport, v, where), where, ctx, fullUrl)];
    case 'Composition':
      return [composition(validate(Composition, v, where), where, ctx, fullUrl)];
    case 'Bundle': {
      const bundle = validate(Bundle, v, where);
      const docs: ClinicalDocument[] = [];
      for (const [i, e] of (bundle.entry ?? []).entries()) {
        const t = e.resource?.resourceType;
        if (t === 'DocumentReference' || t === 'DiagnosticReport' || t === 'Composition') docs.push(...(await resourceToDocuments(e.resource, `${where} Bundle.entry[${i}]`, ctx, e.fullUrl)));
      }
      if (docs.length === 0) throw new IntakeError('NO_NARRATIVE', `${where}: Bundle holds no DocumentReference, DiagnosticReport or Composition`);
      return docs;
    }
    default:
      throw new IntakeError('UNSUPPORTED_RESOURCE', `${where}: resourceType ${typeof type === 'string' && /^[A-Za-z]{1,64}$/.test(type) ? type : '(invalid)'} is not DocumentReference, DiagnosticReport, Composition or Bundle`);
  }
}

function lastSegment(ref: string): string {
  const noHistory = ref.replace(/\/_history\/[^/]*$/, '');
  return noHistory.slice(noHistory.lastIndexOf('/') + 1).replace(/^urn:uuid:/, '');
}

function resourceId(res: { id?: string | undefined }, fullUrl: string | undefined): string | undefined {
  if (res.id) return res.id;
  if (fullUrl) return lastSegment(fullUrl.replace(/^urn:uuid:/, ''));
  return undefined;
}

function patientFrom(subject: Reference | undefined, where: string): PatientRef {
  const p: PatientRef = {};
  if (subject?.reference) p.reference = subject.reference;
  if (subject?.identifier?.value) {
    p.identifier = { value: subject.identifier.value };
    if (subject.identifier.system) p.identifier.system = subject.identifier.system;
  }
  if (!p.reference && !p.identifier) throw new IntakeError('MISSING_FIELD', `${where}: subject (patient) is missing`);
  return p;
}

function encounterFrom(ref: Reference | undefined): EncounterRef | undefined {
  if (!ref) return undefined;
  const e: EncounterRef = {};
  if (ref.reference) e.reference = ref.reference;
  if (ref.identifier?.value) {
    e.identifier = { value: ref.identifier.value };
    if (ref.identifier.system) e.identifier.system = ref.identifier.system;
  }
  return e.reference || e.identifier ? e : undefined;
}

function typeFrom(cc: { coding?: { system?: string | undefined; code?: string | undefined; display?: string | undefined }[] | undefined; text?: string | undefined } | undefined): ClinicalDocument['type'] {
  if (!cc) return undefined;
  const c = cc.coding?.[0];
  const t: NonNullable<ClinicalDocument['type']> = {};
  if (c?.system) t.system = c.system;
  if (c?.code) t.code = c.code;
  const display = c?.display ?? cc.text;
  if (display) t.display = display;
  return Object.keys(t).length ? t : undefined;
}

/** Binary fetched for attachment.url; a FHIR Binary resource in JSON is unwrapped. */
async function fetchAttachment(url: string, ctx: Ctx, what: string): Promise<{ contentType?: string; data: Uint8Array }> {
  if (!ctx.fetchBinary) throw new IntakeError('BINARY_FETCH_FAILED', `${what}: attachment has only a url and no Binary fetcher is configured`);
  let got: { contentType?: string; data: Buffer };
  try {
    got = await ctx.fetchBinary(url);
  } catch (e) {
    if (e instanceof IntakeError) throw e;
    throw new IntakeError('BINARY_FETCH_FAILED', `${what}: fetching the attachment url failed`, { cause: e });
  }
  const { mediaType } = parseContentType(got.contentType);
  if (mediaType.includes('json') && got.data[0] === 0x7b) {
    try {
      const bin = JSON.parse(got.data.toString('utf8')) as { resourceType?: unknown; contentType?: unknown; data?: unknown };
      if (bin.resourceType === 'Binary') {
        const out: { contentType?: string; data: Uint8Array } = { data: typeof bin.data === 'string' ? decodeBase64(bin.data, `${what} Binary.data`, 'INVALID_FHIR') : new Uint8Array() };
        if (typeof bin.contentType === 'string') out.contentType = bin.contentType;
        return out;
      }
    } catch (e) {
      if (e instanceof IntakeError) throw e;
    }
  }
  return got.contentType === undefined ? { data: got.data } : { contentType: got.contentType, data: got.data };
}

/** A fetch failure that will not go away on a retry (the server answered 4xx): the part is unreachable for good. */
function permanentFetchFailure(e: unknown): boolean {
  if (!(e instanceof IntakeError) || e.code !== 'BINARY_FETCH_FAILED') return false;
  const cause = e.cause as { retriable?: unknown } | undefined;
  return cause !== undefined && cause.retriable === false;
}

/**
 * Every attachment is considered; the best textual rendition wins (text/plain, then HTML, RTF,
 * other text/*, undeclared). Several attachments of that best type are all used, in order.
 * The rest are listed in `omitted`.
 *
 * One bad part does not drop the document (issue 17): an attachment whose data is not base64 or
 * whose bytes do not fit its charset (BAD_ENCODING), or whose url the server refuses for good
 * (4xx: UNREACHABLE) is listed in `omitted` with the attachment as received (`raw`, for its
 * dead-letter record) and the others are read. A transient fetch failure (network, 5xx) still
 * fails the document, which is retried: a part is never dropped for an outage. When no part
 * gives text, the first such failure is thrown as before.
 */
async function attachmentsToText(atts: { att: Attachment; origin: string }[], b: TextBuilder, what: string, ctx: Ctx): Promise<void> {
  const typed = atts.map((a) => ({ ...a, ct: parseContentType(a.att.contentType) }));
  const ranks = [...new Set(typed.map((a) => textRank(a.ct.mediaType)).filter((r) => r >= 0))].sort((x, y) => x - y);
  let chosen: Set<string> | undefined;
  let firstFailure: unknown;
  const skip = (a: (typeof typed)[number], reason: 'BAD_ENCODING' | 'UNREACHABLE', e: unknown, mediaType: string) => {
    firstFailure ??= e;
    b.omit({ origin: a.origin, reason, contentType: safeType(mediaType), raw: JSON.stringify(a.att) });
  };
  for (const rank of ranks) {
    const group = typed.filter((a) => textRank(a.ct.mediaType) === rank);
    const texts: { text: string; origin: string }[] = [];
    for (const a of group) {
      const w = `${what} ${a.origin}`;
      let bytes: Uint8Array | undefined;
      let mediaType = a.ct.mediaType;
      let charset = a.ct.charset;
      if (a.att.data !== undefined) {
        try {
          bytes = decodeBase64(a.att.data, `${w}.data`, 'INVALID_FHIR');
        } catch (e) {
          skip(a, 'BAD_ENCODING', e, mediaType);
          continue;
        }
      } else if (a.att.url !== undefined) {
        let got: Awaited<ReturnType<typeof fetchAttachment>>;
        try {
          got = await fetchAttachment(a.att.url, ctx, w);
        } catch (e) {
          if (!permanentFetchFailure(e)) throw e;
          skip(a, 'UNREACHABLE', e, mediaType);
          continue;
        }
        bytes = got.data;
        const fetched = parseContentType(got.contentType);
        if (mediaType === '') mediaType = fetched.mediaType;
        if (charset === undefined) charset = fetched.charset;
        if (textRank(mediaType) < 0) {
          b.omit({ origin: a.origin, reason: 'UNSUPPORTED_CONTENT_TYPE', contentType: safeType(mediaType) });
          continue;
        }
      }
      if (bytes === undefined) continue;
      try {
        texts.push({ text: attachmentToText(bytes, mediaType, charset, w), origin: a.origin });
      } catch (e) {
        if (!(e instanceof IntakeError) || e.code !== 'BAD_ENCODING') throw e;
        skip(a, 'BAD_ENCODING', e, mediaType);
      }
    }
    if (texts.some((t) => t.text.trim() !== '')) {
      for (const t of texts) b.add(t.text, t.origin);
      chosen = new Set(texts.map((t) => t.origin));
      break;
    }
  }
  for (const a of typed) {
    if (chosen?.has(a.origin) || b.omitted.some((o) => o.origin === a.origin)) continue;
    const reason = textRank(a.ct.mediaType) < 0 ? (chosen ? 'ALTERNATIVE' : 'UNSUPPORTED_CONTENT_TYPE') : chosen ? 'ALTERNATIVE' : 'NO_TEXT';
    b.omit({ origin: a.origin, reason, contentType: safeType(a.ct.mediaType) });
  }
  if (!chosen) {
    if (firstFailure !== undefined) throw firstFailure;
    const unsupported = b.omitted.filter((o) => o.reason === 'UNSUPPORTED_CONTENT_TYPE');
    if (unsupported.length > 0) throw new IntakeError('UNSUPPORTED_CONTENT_TYPE', `${what}: no attachment is text (${unsupported.map((o) => o.contentType).join(', ')})`);
  }
}


async function documentReference(res: DocumentReference, where: string, ctx: Ctx, fullUrl?: string): Promise<ClinicalDocument> {
  const rid = resourceId(res, fullUrl);
  const id = res.masterIdentifier?.value || rid;
  if (!id) throw new IntakeError('MISSING_FIELD', `${where}: DocumentReference has neither masterIdentifier nor id`);
  const b = new TextBuilder();
  await attachmentsToText(res.content.map((c, i) => ({ att: c.attachment, origin: `content[${i}]` })), b, where, ctx);
  if (b.isBlank()) throw new IntakeError('NO_NARRATIVE', `${where}: DocumentReference has no attachment with text`);
  let lifecycle: Lifecycle = { action: 'original' };
  const rel = res.relatesTo?.find((r) => r.code === 'replaces') ?? res.relatesTo?.find((r) => r.code === 'appends');
  const relParent = rel ? rel.target.identifier?.value ?? (rel.target.reference ? lastSegment(rel.target.reference) : undefined) : undefined;
  if (res.status === 'entered-in-error' || res.docStatus === 'entered-in-error') lifecycle = { action: 'cancel', parentId: id };
  else if (rel) {
    const related: { action: 'replace' | 'append'; parentId?: string; parentReference?: string } = { action: rel.code === 'replaces' ? 'replace' : 'append' };
    if (relParent) related.parentId = relParent;
    if (rel.target.reference) related.parentReference = rel.target.reference;
    lifecycle = related;
  }
  else if (res.docStatus === 'amended') lifecycle = { action: 'edit', parentId: id };
  const doc: ClinicalDocument = {
    id,
    format: 'fhir',
    messageType: 'DocumentReference',
    patient: patientFrom(res.subject, where),
    status: res.status,
    lifecycle,
    source: ctx.source,
    text: b.text(),
    segments: b.segments,
  };
  return withOptional(doc, {
    idSystem: res.masterIdentifier?.value ? res.masterIdentifier.system : undefined,
    messageId: rid,
    encounter: encounterFrom(res.context?.encounter?.[0]),
    date: res.date ?? res.context?.period?.start,
    type: typeFrom(res.type),
    docStatus: res.docStatus,
    sourceReference: res.id ? `DocumentReference/${res.id}${res.meta?.versionId ? `/_history/${res.meta.versionId}` : ''}` : undefined,
    omitted: b.omitted,
  });
}

const DR_DOC_STATUS: Record<DiagnosticReport['status'], ClinicalDocument['docStatus']> = {
  registered: 'preliminary', partial: 'preliminary', preliminary: 'preliminary', final: 'final', amended: 'amended',
  corrected: 'amended', appended: 'amended', cancelled: 'entered-in-error', 'entered-in-error': 'entered-in-error', unknown: undefined,
};

async function diagnosticReport(res: DiagnosticReport, where: string, ctx: Ctx, fullUrl?: string): Promise<ClinicalDocument> {
  const rid = resourceId(res, fullUrl);
  const id = rid ?? res.identifier?.find((i) => i.value)?.value;
  if (!id) throw new IntakeError('MISSING_FIELD', `${where}: DiagnosticReport has neither id nor identifier`);
  const b = new TextBuilder();
  await attachmentsToText((res.presentedForm ?? []).map((att, i) => ({ att, origin: `presentedForm[${i}]` })), b, where, ctx);
  if (b.isBlank() && res.conclusion && res.conclusion.trim() !== '') b.add(res.conclusion, 'conclusion');
  if (b.isBlank()) throw new IntakeError('NO_NARRATIVE', `${where}: DiagnosticReport has no presentedForm text or conclusion`);
  const docStatus = DR_DOC_STATUS[res.status];
  const cancelled = docStatus === 'entered-in-error';
  const lifecycle: Lifecycle = cancelled ? { action: 'cancel', parentId: id } : res.status === 'appended' ? { action: 'append', parentId: id } : docStatus === 'amended' ? { action: 'edit', parentId: id } : { action: 'original' };
  const doc: ClinicalDocument = {
    id,
    format: 'fhir',
    messageType: 'DiagnosticReport',
    patient: patientFrom(res.subject, where),
    status: cancelled ? 'entered-in-error' : 'current',
    lifecycle,
    source: ctx.source,
    text: b.text(),
    segments: b.segments,
  };
  return withOptional(doc, {
    messageId: rid,
    encounter: encounterFrom(res.encounter),
    date: res.effectiveDateTime ?? res.effectivePeriod?.start ?? res.issued,
    type: typeFrom(res.code),
    docStatus,
    sourceReference: res.id ? `DiagnosticReport/${res.id}${res.meta?.versionId ? `/_history/${res.meta.versionId}` : ''}` : undefined,
    omitted: b.omitted,
  });
}

/** Section titles and narratives, depth first; origins "section[0]", "section[0].section[1]". */
function sectionsToText(sections: Section[] | undefined, prefix: string, b: TextBuilder): void {
  (sections ?? []).forEach((sec, i) => {
    const origin = `${prefix}section[${i}]`;
    const parts: string[] = [];
    if (sec.title && sec.title.trim() !== '') parts.push(sec.title);
    if (sec.text?.div) {
      const t = htmlToText(sec.text.div);
      if (t.trim() !== '') parts.push(t);
    }
    if (parts.length > 0) b.add(parts.join('\n'), origin);
    sectionsToText(sec.section, `${origin}.`, b);
  });
}

/** A Composition (e.g. the first entry of a document Bundle): the narrative of its sections. */
function composition(res: Composition, where: string, ctx: Ctx, fullUrl?: string): ClinicalDocument {
  const rid = resourceId(res, fullUrl);
  const id = res.identifier?.value || rid;
  if (!id) throw new IntakeError('MISSING_FIELD', `${where}: Composition has neither identifier nor id`);
  const b = new TextBuilder();
  b.add(res.title, 'title');
  sectionsToText(res.section, '', b);
  if (b.segments.length < 2) throw new IntakeError('NO_NARRATIVE', `${where}: Composition has no section text`);
  const cancelled = res.status === 'entered-in-error';
  const rel = res.relatesTo?.find((r) => r.code === 'replaces') ?? res.relatesTo?.find((r) => r.code === 'appends');
  let lifecycle: Lifecycle = { action: 'original' };
  if (cancelled) lifecycle = { action: 'cancel', parentId: id };
  else if (rel) {
    const related: { action: 'replace' | 'append'; parentId?: string; parentReference?: string } = { action: rel.code === 'replaces' ? 'replace' : 'append' };
    const parent = rel.targetIdentifier?.value ?? rel.targetReference?.identifier?.value ?? (rel.targetReference?.reference ? lastSegment(rel.targetReference.reference) : undefined);
    if (parent) related.parentId = parent;
    if (rel.targetReference?.reference) related.parentReference = rel.targetReference.reference;
    lifecycle = related;
  } else if (res.status === 'amended') lifecycle = { action: 'edit', parentId: id };
  const doc: ClinicalDocument = {
    id,
    format: 'fhir',
    messageType: 'Composition',
    patient: patientFrom(res.subject, where),
    status: cancelled ? 'entered-in-error' : 'current',
    lifecycle,
    source: ctx.source,
    text: b.text(),
    segments: b.segments,
  };
  return withOptional(doc, {
    idSystem: res.identifier?.value ? res.identifier.system : undefined,
    messageId: rid,
    encounter: encounterFrom(res.encounter),
    date: res.date,
    type: typeFrom(res.type),
    docStatus: res.status,
    sourceReference: res.id ? `Composition/${res.id}${res.meta?.versionId ? `/_history/${res.meta.versionId}` : ''}` : undefined,
  });
}
