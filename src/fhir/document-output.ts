import type * as fhir4 from 'fhir/r4.js';
import type { ClinicalDocument } from '../core/clinical-document.ts';
import type { AssertedEntity, DropReason, Entity, ModelInfo } from '../core/entity.ts';
import { MednerError } from '../core/errors.ts';
import { buildDocumentReference, documentIdentifier, skippedPartExtensions } from './document-reference.ts';
import { fhirDateTime } from './fhir-dates.ts';
import {
  conditionalUrl,
  conceptIdentifierValue,
  deterministicUuid,
  deviceId,
  documentKey,
  documentReferenceId,
  documentTagCode,
  modelCode,
  ownedResourceId,
  provenanceRunCode,
  sha256Hex,
} from './ids.ts';
import { targetFor, type LabelMapping } from './label-mapping.ts';
import { effectiveTarget } from './clinical-details.ts';
import { clinicalData } from './clinical-rules.ts';
import { concept, extensionsFor } from './targets/common.ts';
import { DEFAULT_TARGETS, type ResourceTargets } from './targets/registry.ts';
import type { TargetContext } from './targets/target.ts';
import { identifierTypeCoding, usableIdentifierSystem, usableIdentifierValue } from './hl7-codes.ts';
import { HL7, URI } from './uris.ts';

/**
 * Entities of one document -> one FHIR transaction Bundle. Every resource we
 * own (derived resources, our DocumentReference, Device, Provenance) is an
 * update by a deterministic logical id (`PUT Type/<id>`, see ids.ts
 * ownedResourceId), which the server resolves by primary key; only the HL7 v2
 * Patient is a conditional create. Pure and deterministic: the same input
 * gives a byte-identical Bundle, so replays leave the server unchanged.
 *
 * Entry order: [Patient (HL7 v2 only)], [DocumentReference (no source
 * DocumentReference on the server)], derived resources, [Device, Provenance]
 * (only when something was derived). The Device entry is there so that the
 * Bundle stands alone (Kafka consumers post it to any server); FhirServerWriter
 * leaves it out once it has written that Device itself.
 */

export interface DocumentOutput {
  bundle: fhir4.Bundle;
  /** sha256 hex of the patient reference/identifier: a Kafka key that keeps one patient's results ordered without carrying the identifier. */
  patientKey: string;
  /** Business keys of the derived resources (for dead-letter records and reconciliation). */
  resourceIdentifiers: { resourceType: string; system: string; value: string }[];
  /** Mentions that became no resource of their own, by reason (for the medner_mentions_dropped_total metric). */
  dropped: Partial<Record<MentionDropReason, number>>;
  /** Source identifiers or parts of them not passed on because FHIR cannot carry them (medner_identifiers_dropped_total). */
  identifiersDropped: IdentifierDrop[];
}

/** What was left out: an unknown identifier type code, an identifier under an unusable system (e.g. "urn:oid:1.2"). */
export type IdentifierDrop = 'patient.identifier.type' | 'encounter.identifier.type' | 'encounter.identifier';

/**
 * Why a mention made no resource of its own: screened out (header, trigger word, no-known-allergy,
 * fragment), merged into another mention's resource (same concept and assertion), an allergy
 * reaction (it went into AllergyIntolerance.reaction), or a denied allergy.
 */
export type MentionDropReason = DropReason | 'merged' | 'allergy-reaction' | 'negated-allergy';

/** Resource types we derive from entities (and retract on a new version): the shipped targets (targets/registry.ts). */
export const DERIVED_RESOURCE_TYPES: readonly string[] = DEFAULT_TARGETS.types;
/** A derived resource (every target's resources carry identifier). */
type Derived = fhir4.DomainResource & { identifier?: fhir4.Identifier[] };

const AIAST: fhir4.Coding = { system: HL7.v3ObservationValue, code: 'AIAST', display: 'Artificial Intelligence asserted' };

/** True when this version of the document withdraws it: nothing may be derived from it. */
export function isCancelled(doc: ClinicalDocument): boolean {
  return doc.lifecycle.action === 'cancel' || doc.status === 'entered-in-error' || doc.docStatus === 'entered-in-error';
}

type Context = TargetContext;

export function buildDocumentTransaction(args: {
  doc: ClinicalDocument;
  /** The NLP stage's output for the document (src/nlp/assertions.ts assertEntities): asserted, screened mentions. */
  entities: readonly AssertedEntity[];
  model: ModelInfo;
  mapping: LabelMapping;
  /** The clock for Provenance.recorded (the time of the run); default the system clock. Pass one to keep the output a pure function of the input. */
  now?: () => Date;
  /** The resource targets (default: the shipped ones, targets/registry.ts). */
  targets?: ResourceTargets;
}): DocumentOutput {
  const { doc, entities, model, mapping } = args;
  const targets = args.targets ?? DEFAULT_TARGETS;
  const docKey = documentKey(doc);
  const entries: fhir4.BundleEntry[] = [];
  const identifiersDropped: IdentifierDrop[] = [];

  // Subject
  const { subject, patientEntry, patientKeySource } = subjectOf(doc, identifiersDropped);
  if (patientEntry) entries.push(patientEntry);
  const encounter = encounterOf(doc, identifiersDropped);

  // Source document
  let docRef: fhir4.Reference;
  let pathFor: (offset: number) => string | undefined;
  if (doc.sourceReference) {
    docRef = { reference: doc.sourceReference };
    const refType = doc.sourceReference.split('/')[0] ?? 'DocumentReference';
    pathFor = (offset) => {
      const origin = doc.segments.find((s) => offset >= s.start && offset < s.end)?.origin;
      if (origin && /^content\[\d+\]$/.test(origin)) return `${refType}.${origin}.attachment`;
      if (origin && /^presentedForm\[\d+\]$/.test(origin)) return `${refType}.${origin}`;
      return undefined;
    };
  } else {
    const ident = documentIdentifier(doc);
    const fullUrl = `urn:uuid:${deterministicUuid('DocumentReference', docKey)}`;
    // A message without text (e.g. MDM T03/T04 status change) must not wipe the stored content; a cancel may.
    if (doc.text !== '' || isCancelled(doc)) {
      const id = documentReferenceId(ident.system!, ident.value!);
      entries.push({
        fullUrl,
        resource: withId(buildDocumentReference(doc, subject, encounter), id),
        request: { method: 'PUT', url: `DocumentReference/${id}` },
      });
    }
    docRef = { reference: fullUrl };
    pathFor = () => 'DocumentReference.content[0].attachment';
  }

  const ctx: Context = {
    doc,
    docKey,
    model,
    mapping,
    subject,
    ...(encounter ? { encounter } : {}),
    docRef,
    pathFor,
    meta: {
      security: [AIAST],
      tag: [
        { system: URI.modelTag, code: modelCode(model), display: `${model.name} ${model.version}` },
        { system: URI.sourceDocumentTag, code: documentTagCode(docKey) },
      ],
    },
    ...(fhirDateTime(doc.date) ? { date: fhirDateTime(doc.date)! } : {}),
  };

  // Derived resources
  const derived: { resource: Derived; id: string; fullUrl: string; identifier: { system: string; value: string } }[] = [];
  const dropped: Partial<Record<MentionDropReason, number>> = {};
  const drop = (reason: MentionDropReason) => (dropped[reason] = (dropped[reason] ?? 0) + 1);
  if (!isCancelled(doc)) {
    for (const e of entities) if (e.dropped) drop(e.dropped);
    const asserted = entities.filter((e) => !e.dropped);
    const sorted = [...asserted].sort((a, b) => a.start - b.start || a.end - b.end || a.label.localeCompare(b.label) || b.score - a.score);
    const reactions = allergyReactions(ctx, sorted, drop);
    // One resource per concept and assertion: later mentions add their span to the first one's resource.
    const byKey = new Map<string, { resource: Derived; spans: AssertedEntity[] }>();
    for (const e of sorted) {
      if (reactions.isReaction.has(e)) continue;
      const resource = deriveResource(ctx, e, targets);
      if (!resource) {
        if (e.assertion.allergy && e.assertion.negated) drop('negated-allergy');
        continue;
      }
      // Values, doses, timing, severity, body site, status from the entity's attributes (clinical-details.ts).
      const mapped = targetFor(ctx.mapping, e.label);
      if (mapped) targets.get(resource.resourceType)?.details?.(resource, e, effectiveTarget(mapped, e), doc.text, clinicalData());
      const key = mergeKey(resource.resourceType, e);
      const group = byKey.get(key);
      if (group) {
        if (!group.spans.some((x) => x.start === e.start && x.end === e.end)) group.spans.push(e);
        drop('merged');
        continue;
      }
      byKey.set(key, { resource, spans: [e] });
    }
    for (const [key, { resource, spans }] of byKey) {
      if (spans.length > 1) mergeSpans(ctx, resource, spans);
      if (resource.resourceType === 'AllergyIntolerance') addReactions(ctx, resource as fhir4.AllergyIntolerance, spans.flatMap((e) => reactions.of.get(e) ?? []));
      const value = conceptIdentifierValue(docKey, key);
      const id = ownedResourceId(value);
      resource.identifier = [{ system: URI.derivedIdentifier, value }];
      withAssertionTags(resource);
      derived.push({
        resource: withId(resource, id),
        id,
        fullUrl: `urn:uuid:${deterministicUuid(resource.resourceType, value)}`,
        identifier: { system: URI.derivedIdentifier, value },
      });
    }
  }
  for (const d of derived) {
    entries.push({
      fullUrl: d.fullUrl,
      resource: d.resource as fhir4.FhirResource,
      request: { method: 'PUT', url: `${d.resource.resourceType}/${d.id}` },
    });
  }

  // Device + Provenance (Provenance needs at least one target)
  if (derived.length > 0) {
    const deviceValue = modelCode(model);
    const device = deviceId(model);
    entries.push({
      fullUrl: `urn:uuid:${deterministicUuid('Device', deviceValue)}`,
      resource: deviceResource(model),
      // By id, not by identifier: the logical id is the uniqueness key (two racing creates of one id
      // cannot both succeed: the loser gets 409 and its retry is a no-op update). Referenced below
      // as Device/<id>, not by fullUrl, because FhirServerWriter drops this entry once the Device is on the server.
      request: { method: 'PUT', url: `Device/${device}` },
    });
    const runCode = provenanceRunCode(docKey, model);
    const skipped = skippedPartExtensions(doc);
    const provenanceId = ownedResourceId(runCode);
    const provenance: fhir4.Provenance = {
      resourceType: 'Provenance',
      id: provenanceId,
      meta: { tag: [{ system: URI.provenanceRunTag, code: runCode }, ...(ctx.meta.tag ?? [])] },
      target: derived.map((d) => ({ reference: d.fullUrl })),
      // The time of this run; the document's time goes to occurredDateTime. A replay differs only here:
      // the writer leaves out a Provenance whose content is otherwise unchanged (fhir-writer.ts).
      recorded: (args.now ?? (() => new Date()))().toISOString(),
      activity: { coding: [{ system: HL7.provenanceActivity, code: 'Derivation', display: 'wasDerivedFrom' }] },
      agent: [
        {
          type: { coding: [{ system: HL7.provenanceParticipantType, code: 'assembler', display: 'Assembler' }] },
          who: { reference: `Device/${device}`, display: `${model.name} ${model.version}` },
        },
      ],
      // What this run did not read of the source (issue 17: partial messages), as structured warnings.
      entity: [{ role: 'source', what: docRef, ...(skipped.length > 0 ? { extension: skipped } : {}) }],
    };
    if (ctx.date) provenance.occurredDateTime = ctx.date;
    entries.push({
      fullUrl: `urn:uuid:${deterministicUuid('Provenance', runCode)}`,
      resource: provenance,
      request: { method: 'PUT', url: `Provenance/${provenanceId}` },
    });
  }

  // A Patient create alone changes nothing worth a request.
  const entry = entries.length === 1 && entries[0] === patientEntry ? [] : entries;
  return {
    bundle: { resourceType: 'Bundle', type: 'transaction', entry },
    patientKey: sha256Hex('patient', patientKeySource),
    resourceIdentifiers: derived.map((d) => ({ resourceType: d.resource.resourceType, ...d.identifier })),
    dropped,
    identifiersDropped,
  };
}

/** Repeats the resource's nlp-assertion extension codes as meta.tag (URI.assertionTag), so they can be searched. */
export function withAssertionTags(resource: fhir4.DomainResource): void {
  const codes = [...new Set((resource.extension ?? []).filter((x) => x.url === URI.nlpAssertion && x.valueCode).map((x) => x.valueCode!))];
  if (codes.length === 0) return;
  resource.meta = { ...resource.meta, tag: [...(resource.meta?.tag ?? []), ...codes.map((code) => ({ system: URI.assertionTag, code }))] };
}

/** The resource with its logical id, placed right after resourceType. */
function withId<T extends fhir4.Resource>(resource: T, id: string): T {
  const { resourceType, ...rest } = resource;
  return { resourceType, id, ...rest } as T;
}

/** The Device that stands for a model version (written with PUT Device/<deviceId(model)>). */
export function deviceResource(model: ModelInfo): fhir4.Device {
  return {
    resourceType: 'Device',
    id: deviceId(model),
    identifier: [{ system: URI.deviceIdentifier, value: modelCode(model) }],
    status: 'active',
    deviceName: [{ name: model.name, type: 'model-name' }],
    version: [{ value: model.version }],
    type: { text: 'clinical named-entity recognition model' },
  };
}

/** An HL7 v2 identifier as FHIR: the type mapped to v2-0203 (MRN -> MR), an unknown type code left out (and counted). */
function identifierOf(i: { system?: string; value: string; type?: string }, drops: IdentifierDrop[], field: 'patient' | 'encounter'): fhir4.Identifier {
  const out: fhir4.Identifier = {};
  if (i.type) {
    const coding = identifierTypeCoding(i.type);
    if (coding) out.type = { coding: [coding] };
    else drops.push(`${field}.identifier.type`);
  }
  if (i.system) out.system = i.system;
  out.value = i.value;
  return out;
}

/**
 * The patient reference as given, else a logical reference by identifier (FHIR
 * sources); when the source expects the receiver to make the Patient
 * (`patient.createIfAbsent`, HL7 v2 feeds): a Patient conditional create (POST
 * with ifNoneExist identifier=...) inside the transaction. A conditional create,
 * not a conditional PUT: a PUT would overwrite the demographics that the
 * registration feed put on an existing Patient with our bare identifier;
 * the conditional create resolves to the existing Patient, or makes a
 * minimal one, and changes nothing on a replay.
 */
function subjectOf(doc: ClinicalDocument, drops: IdentifierDrop[]): { subject: fhir4.Reference; patientEntry?: fhir4.BundleEntry; patientKeySource: string } {
  const p = doc.patient;
  if (p.reference) return { subject: { reference: p.reference }, patientKeySource: p.reference };
  if (!p.identifier || !usableIdentifierValue(p.identifier.value)) {
    throw new MednerError('DOCUMENT_NO_PATIENT', `document has neither a patient reference nor a patient identifier`);
  }
  // A patient identifier under an unusable system cannot be passed on, nor matched without one
  // (a bare value could name another patient): the document goes to the dead-letter topic.
  if (p.identifier.system !== undefined && !usableIdentifierSystem(p.identifier.system)) {
    throw new MednerError('PATIENT_IDENTIFIER_UNUSABLE', 'the patient identifier system is not a usable URI (e.g. an OID with fewer than three arcs)');
  }
  const ident = identifierOf(p.identifier, drops, 'patient');
  const keySource = `${p.identifier.system ?? ''}|${p.identifier.value}`;
  if (!p.createIfAbsent) return { subject: { identifier: ident }, patientKeySource: keySource };
  const fullUrl = `urn:uuid:${deterministicUuid('Patient', keySource)}`;
  const query = conditionalUrl('Patient', 'identifier', p.identifier.system, p.identifier.value).slice('Patient?'.length);
  return {
    subject: { reference: fullUrl },
    patientEntry: { fullUrl, resource: { resourceType: 'Patient', identifier: [ident] }, request: { method: 'POST', url: 'Patient', ifNoneExist: query } },
    patientKeySource: keySource,
  };
}

/** The encounter; an identifier under an unusable system (e.g. "urn:oid:1.2" from PV1-19) is left out and counted. */
function encounterOf(doc: ClinicalDocument, drops: IdentifierDrop[]): fhir4.Reference | undefined {
  const e = doc.encounter;
  if (e?.reference) return { reference: e.reference };
  if (e?.identifier && usableIdentifierValue(e.identifier.value)) {
    if (e.identifier.system !== undefined && !usableIdentifierSystem(e.identifier.system)) {
      drops.push('encounter.identifier');
      return undefined;
    }
    return { identifier: identifierOf(e.identifier, drops, 'encounter') };
  }
  return undefined;
}

/** The same concept: the linker's best code when there is one, else the mention's normalized text (without a bracketed semantic tag). */
export function conceptKey(e: Entity): string {
  const c = e.codes?.[0];
  return c ? `code:${c.system}|${c.code}` : `text:${normalizeMention(e.text)}`;
}

function normalizeMention(s: string): string {
  return s
    .normalize('NFC')
    .toLowerCase()
    .replace(/\s*\([\p{L} /-]+\)\s*$/u, '')
    .replace(/\s+/g, ' ')
    .replace(/^[\p{P}\s]+|[\p{P}\s]+$/gu, '');
}

/**
 * Mentions with equal keys become one resource: resource type, concept, what the note asserts, and
 * attribute values. The medication status counts only for the resources it sets the status of: a
 * diagnosis in the history and again in the plan section is one Condition.
 */
function mergeKey(resourceType: string, e: AssertedEntity): string {
  const a = e.assertion;
  const medicationStatus = resourceType === 'MedicationStatement' || resourceType === 'Procedure' ? (a.medicationStatus ?? '') : '';
  const assertion = [a.negated, a.uncertain, a.hypothetical, a.historical, a.experiencer, a.relationship ?? '', a.clinicalStatus ?? '', medicationStatus, a.allergy ?? '', a.criticality ?? ''].join('|');
  const attributes = (e.attributes ?? []).map((x) => `${x.kind}=${normalizeMention(x.text)}`).sort().join(';');
  return JSON.stringify([resourceType, conceptKey(e), assertion, attributes]);
}

/** The first mention's resource, with one derivation-reference per span (in text order) and the best score. */
function mergeSpans(ctx: Context, resource: Derived, spans: AssertedEntity[]): void {
  const refs = [...spans].sort((a, b) => a.start - b.start).map((e) => extensionsFor(ctx, e)[0]!);
  const ext = resource.extension ?? [];
  const rest = ext.filter((x) => x.url !== HL7.derivationReference);
  const score = Math.max(...spans.map((e) => e.score));
  for (const x of rest) if (x.url === URI.nlpScore) x.valueDecimal = Math.round(score * 100) / 100;
  resource.extension = [...refs, ...rest];
}

/**
 * Allergy context: a finding (a label mapped to Condition or Observation) on the same line as a
 * substance in that context is the reaction to it ("allergic to penicillin (hives)"), not a
 * resource of its own. Returns the findings linked to each substance mention.
 */
function allergyReactions(
  ctx: Context,
  mentions: AssertedEntity[],
  drop: (r: MentionDropReason) => void,
): { isReaction: Set<AssertedEntity>; of: Map<AssertedEntity, AssertedEntity[]> } {
  const isReaction = new Set<AssertedEntity>();
  const of = new Map<AssertedEntity, AssertedEntity[]>();
  const text = ctx.doc.text;
  const lineOf = (pos: number) => [text.lastIndexOf('\n', pos - 1) + 1, (text.indexOf('\n', pos) + 1 || text.length + 1) - 1] as const;
  const kind = (e: AssertedEntity) => targetFor(ctx.mapping, e.label)?.resourceType;
  const substances = mentions.filter((e) => e.assertion.allergy && !e.assertion.negated && kind(e) === 'MedicationStatement');
  for (const f of mentions) {
    if (!f.assertion.allergy || f.assertion.negated) continue;
    const k = kind(f);
    if (k !== 'Condition' && k !== 'Observation') continue;
    const [ls, le] = lineOf(f.start);
    const onLine = substances.filter((s) => s.start >= ls && s.end <= le);
    const before = onLine.filter((s) => s.end <= f.start).at(-1);
    const substance = before ?? onLine.find((s) => s.start >= f.end);
    if (!substance) continue;
    isReaction.add(f);
    of.set(substance, [...(of.get(substance) ?? []), f]);
    drop('allergy-reaction');
  }
  return { isReaction, of };
}

function addReactions(ctx: Context, allergy: fhir4.AllergyIntolerance, findings: AssertedEntity[]): void {
  const seen = new Set<string>();
  const manifestation: fhir4.CodeableConcept[] = [];
  for (const f of [...findings].sort((a, b) => a.start - b.start)) {
    const k = conceptKey(f);
    if (seen.has(k)) continue;
    seen.add(k);
    manifestation.push(concept(ctx, f));
  }
  if (manifestation.length > 0) allergy.reaction = [{ manifestation }];
  // A life-threatening reaction ("Penicillin - anaphylaxis") makes the allergy high-criticality where the note did not say.
  if (!allergy.criticality && manifestation.some((m) => LIFE_THREATENING.test(m.text ?? ''))) allergy.criticality = 'high';
}

const LIFE_THREATENING = /\b(?:anaphyla\w*|angio-?o?edema|stevens[- ]johnson|toxic epidermal necrolysis|dress syndrome|airway (?:swelling|compromise))\b/i;

/**
 * The resource an asserted entity becomes, or undefined when it is not emitted (unmapped, low score,
 * hypothetical, not about the patient). Routing: a relative's mention goes to FamilyMemberHistory, a
 * substance in an allergy context to AllergyIntolerance, anything else to the target its label maps to.
 */
function deriveResource(ctx: Context, e: AssertedEntity, targets: ResourceTargets): Derived | undefined {
  const mapped = targetFor(ctx.mapping, e.label);
  const target = mapped && effectiveTarget(mapped, e); // a test without a value may map to another type
  if (!target || target.resourceType === 'ignore') return undefined;
  if (e.score < (ctx.mapping.minScore ?? 0)) return undefined;
  const a = e.assertion;
  if (a.hypothetical) return undefined; // not asserted by the note
  if (a.experiencer === 'family') return targets.get('FamilyMemberHistory')?.build(ctx, e, target);
  if (a.experiencer !== 'patient') return undefined;
  // A substance in an allergy context is an allergy, never a medication taken; a denied allergy gives nothing.
  if (a.allergy && target.resourceType === 'MedicationStatement') return targets.get('AllergyIntolerance')?.build(ctx, e, target);
  return targets.get(target.resourceType)?.build(ctx, e, target);
}
