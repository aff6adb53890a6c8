import { z } from 'zod';

/**
 * Zod shapes for the parts of FHIR R4 resources intake reads. Loose objects: other R4
 * elements pass through unchecked; the version check (version.ts) runs first.
 */

const str = z.string();
const uri = z.string().min(1);
/** FHIR dateTime / instant (a date, or a date-time with zone when the time is given). */
const dateTime = z.string().regex(/^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/, 'not a FHIR dateTime');

export const Coding = z.looseObject({ system: uri.optional(), code: str.optional(), display: str.optional() });
export const CodeableConcept = z.looseObject({ coding: z.array(Coding).optional(), text: str.optional() });
export const Identifier = z.looseObject({ system: uri.optional(), value: str.optional() });
export const Reference = z.looseObject({ reference: str.optional(), identifier: Identifier.optional(), display: str.optional() });

export const Attachment = z.looseObject({
  contentType: str.optional(),
  language: str.optional(),
  data: str.optional(),
  url: str.optional(),
  size: z.number().int().nonnegative().optional(),
  hash: str.optional(),
  title: str.optional(),
  creation: str.optional(),
});

const Meta = z.looseObject({ versionId: str.optional(), lastUpdated: str.optional(), profile: z.array(str).optional() });
const id = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'not a FHIR id');

export const DocumentReference = z.looseObject({
  resourceType: z.literal('DocumentReference'),
  id: id.optional(),
  meta: Meta.optional(),
  masterIdentifier: Identifier.optional(),
  identifier: z.array(Identifier).optional(),
  status: z.enum(['current', 'superseded', 'entered-in-error']),
  docStatus: z.enum(['preliminary', 'final', 'amended', 'entered-in-error']).optional(),
  type: CodeableConcept.optional(),
  subject: Reference.optional(),
  date: dateTime.optional(),
  relatesTo: z.array(z.looseObject({ code: z.enum(['replaces', 'transforms', 'signs', 'appends']), target: Reference })).optional(),
  content: z.array(z.looseObject({ attachment: Attachment, format: Coding.optional() })).min(1),
  context: z.looseObject({ encounter: z.array(Reference).optional(), period: z.looseObject({ start: dateTime.optional(), end: dateTime.optional() }).optional() }).optional(),
});
export type DocumentReference = z.infer<typeof DocumentReference>;

export const DiagnosticReport = z.looseObject({
  resourceType: z.literal('DiagnosticReport'),
  id: id.optional(),
  meta: Meta.optional(),
  identifier: z.array(Identifier).optional(),
  status: z.enum(['registered', 'partial', 'preliminary', 'final', 'amended', 'corrected', 'appended', 'cancelled', 'entered-in-error', 'unknown']),
  code: CodeableConcept,
  subject: Reference.optional(),
  encounter: Reference.optional(),
  effectiveDateTime: dateTime.optional(),
  effectivePeriod: z.looseObject({ start: dateTime.optional(), end: dateTime.optional() }).optional(),
  issued: dateTime.optional(),
  conclusion: str.optional(),
  presentedForm: z.array(Attachment).optional(),
});
export type DiagnosticReport = z.infer<typeof DiagnosticReport>;

const Narrative = z.looseObject({ status: str.optional(), div: str });
interface SectionShape {
  title?: string | undefined;
  text?: { div: string } | undefined;
  section?: SectionShape[] | undefined;
}
const Section: z.ZodType<SectionShape> = z.lazy(() =>
  z.looseObject({ title: str.optional(), text: Narrative.optional(), section: z.array(Section).optional() }),
);

export const Composition = z.looseObject({
  resourceType: z.literal('Composition'),
  id: id.optional(),
  meta: Meta.optional(),
  identifier: Identifier.optional(),
  status: z.enum(['preliminary', 'final', 'amended', 'entered-in-error']),
  type: CodeableConcept,
  subject: Reference.optional(),
  encounter: Reference.optional(),
  date: dateTime,
  title: str,
  relatesTo: z.array(z.looseObject({ code: z.enum(['replaces', 'transforms', 'signs', 'appends']), targetIdentifier: Identifier.optional(), targetReference: Reference.optional() })).optional(),
  section: z.array(Section).optional(),
});
export type Composition = z.infer<typeof Composition>;
export type Section = SectionShape;

export const Bundle = z.looseObject({
  resourceType: z.literal('Bundle'),
  id: id.optional(),
  type: z.enum(['document', 'message', 'transaction', 'transaction-response', 'batch', 'batch-response', 'history', 'searchset', 'collection']),
  entry: z.array(z.looseObject({ fullUrl: str.optional(), resource: z.looseObject({ resourceType: str }).optional() })).optional(),
});
export type Bundle = z.infer<typeof Bundle>;
export type Attachment = z.infer<typeof Attachment>;
export type Reference = z.infer<typeof Reference>;
