import type * as fhir4 from 'fhir/r4.js';
import { deterministicUuid } from './ids.ts';
import { DEFAULT_TARGETS, ResourceTargets } from './targets/registry.ts';
import { MEDNER_FHIR_BASE } from './uris.ts';

/**
 * What a document's transaction must change on the server (pure): the Bundle a run
 * yields against what the server holds for that document (its Provenance, the
 * Provenance's targets and source entity, and with a full reconcile every resource
 * tagged with the document). Policy (src/fhir/README.md, "Replays and upgrades"):
 *
 * - unchanged: an entry whose resource equals the stored one (ignoring meta.versionId,
 *   lastUpdated, source, tag order, and for Provenance `recorded`, which names the
 *   time of the run) is left out: no request, no version;
 * - created / updated: the rest of our PUT entries;
 * - retracted: a stored derived resource of the document that this run does not
 *   produce is marked entered-in-error (kept, not deleted, as for an amended document);
 * - superseded Provenance (another run of this document, e.g. an earlier model version)
 *   is deleted: a document has one current Provenance, whose targets are exactly the
 *   derived resources in force (the server's history keeps the old one).
 */

export interface WritePlan {
  /** Entries to send (empty: nothing to write). References to left-out entries are literal `Type/id`. */
  entries: fhir4.BundleEntry[];
  /** `Type/id` of each. */
  created: string[];
  updated: string[];
  unchanged: string[];
  retracted: string[];
  /** Superseded Provenance resources deleted. */
  deleted: string[];
  /** For each updated `Type/id`: the top-level elements that differ. */
  changedFields: Record<string, string[]>;
  /**
   * Tags of ours (systems under MEDNER_FHIR_BASE: model, assertion flags) that a stored resource
   * we write again carries but this run does not: HAPI keeps them across a PUT, so the writer
   * removes them with $meta-delete (no new version). By `Type/id`.
   */
  staleTags: Record<string, fhir4.Coding[]>;
}

export interface WriteCounts {
  created: number;
  updated: number;
  unchanged: number;
  retracted: number;
  deleted: number;
}

export const countsOf = (p: WritePlan): WriteCounts => ({
  created: p.created.length,
  updated: p.updated.length,
  unchanged: p.unchanged.length,
  retracted: p.retracted.length,
  deleted: p.deleted.length,
});

export const keyOf = (r: fhir4.Resource): string => `${r.resourceType}/${r.id ?? ''}`;

/**
 * @param bundle   the run's transaction Bundle (not modified)
 * @param stored   what the server holds for the document, by `Type/id`
 * @param derived the resource targets derived from entities (retracted when no longer produced, by
 *                each target's own rule), or a list of their types (retracted by the shipped targets' rules)
 */
export function planWrite(bundle: fhir4.Bundle, stored: ReadonlyMap<string, fhir4.Resource>, derived: ResourceTargets | readonly string[]): WritePlan {
  const targets = derived instanceof ResourceTargets ? derived : DEFAULT_TARGETS;
  const derivedTypes = derived instanceof ResourceTargets ? derived.types : derived;
  const plan: WritePlan = { entries: [], created: [], updated: [], unchanged: [], retracted: [], deleted: [], changedFields: {}, staleTags: {} };
  const entries = bundle.entry ?? [];
  // fullUrl -> literal reference, for our PUT entries (deterministic ids)
  const literal = new Map<string, string>();
  for (const e of entries) {
    if (e.fullUrl && e.request?.method === 'PUT' && e.request.url && !e.request.url.includes('?')) literal.set(e.fullUrl, e.request.url);
  }
  // The HL7 v2 Patient is a conditional create: its server id is what our stored resources point at.
  const patientEntry = entries.find((e) => e.request?.method === 'POST' && e.resource?.resourceType === 'Patient');
  const compareRefs = new Map(literal);
  if (patientEntry?.fullUrl) {
    const seen = storedPatientReference(stored);
    if (seen) compareRefs.set(patientEntry.fullUrl, seen);
  }
  const compared = new Set([...derivedTypes, 'Provenance', 'DocumentReference']);
  const kept: fhir4.BundleEntry[] = [];
  const dropped = new Set<string>();
  const wanted = new Set<string>();
  let provenanceKey: string | undefined;
  for (const e of entries) {
    const r = e.resource;
    const url = e.request?.url;
    if (!r || e.request?.method !== 'PUT' || !url || !compared.has(r.resourceType)) {
      kept.push(e);
      continue;
    }
    wanted.add(url);
    if (r.resourceType === 'Provenance') provenanceKey = url;
    const old = stored.get(url);
    const stale = old ? staleOwnTags(old, r) : [];
    if (stale.length > 0) plan.staleTags[url] = stale;
    if (old === undefined) plan.created.push(url);
    else if (canonical(old, new Map(), r.meta) === canonical(r, compareRefs)) {
      plan.unchanged.push(url);
      if (e.fullUrl) dropped.add(e.fullUrl);
      continue;
    } else {
      plan.updated.push(url);
      plan.changedFields[url] = changedFields(old, r, compareRefs);
    }
    kept.push(e);
  }
  const retractions: fhir4.BundleEntry[] = [];
  for (const [key, r] of [...stored].sort(([a], [b]) => a.localeCompare(b))) {
    if (wanted.has(key)) continue;
    if (derivedTypes.includes(r.resourceType)) {
      const x = targets.retract(r);
      if (x) {
        // A resource entry of a transaction needs a fullUrl (Bundle.entry.fullUrl: only a POST may go without;
        // HAPI's validator refuses any entry without one, and a relative reference inside it with it). A
        // urn:uuid of its own: the stored copy may share its identifier with an entry of this run (a copy an
        // earlier release wrote under a server-assigned id), so it cannot take that entry's uuid.
        retractions.push({ fullUrl: `urn:uuid:${deterministicUuid('retraction', key)}`, resource: x as fhir4.FhirResource, request: { method: 'PUT', url: key } });
        plan.retracted.push(key);
      }
    } else if (r.resourceType === 'Provenance' && key !== provenanceKey) {
      retractions.push({ request: { method: 'DELETE', url: key } });
      plan.deleted.push(key);
    }
  }
  const changes = plan.created.length + plan.updated.length + retractions.length;
  if (changes === 0) return plan; // the Patient create and the Device alone change nothing worth a request
  const rewrite = new Map([...dropped].map((u) => [u, literal.get(u)!]));
  plan.entries = [...kept.map((e) => (rewrite.size > 0 && e.resource ? { ...e, resource: withReferences(e.resource, rewrite) } : e)), ...retractions];
  return plan;
}

/** Tags of ours on the stored resource that the new one does not carry. */
function staleOwnTags(stored: fhir4.Resource, next: fhir4.Resource): fhir4.Coding[] {
  const wanted = new Set((next.meta?.tag ?? []).map((t) => `${t.system}|${t.code}`));
  return (stored.meta?.tag ?? []).filter((t) => t.system?.startsWith(MEDNER_FHIR_BASE) && !wanted.has(`${t.system}|${t.code}`));
}

/** Top-level elements whose content differs between the stored and the new resource. */
function changedFields(stored: fhir4.Resource, next: fhir4.Resource, refs: ReadonlyMap<string, string>): string[] {
  const a = JSON.parse(canonical(stored, new Map(), next.meta)) as Record<string, unknown>;
  const b = JSON.parse(canonical(next, refs)) as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

/** The Patient reference our stored resources carry (HL7 v2 sources: the conditional create's result). */
function storedPatientReference(stored: ReadonlyMap<string, fhir4.Resource>): string | undefined {
  for (const r of stored.values()) {
    const x = r as { subject?: fhir4.Reference; patient?: fhir4.Reference };
    const ref = x.subject?.reference ?? x.patient?.reference;
    if (ref?.startsWith('Patient/')) return ref;
  }
  return undefined;
}

/** A copy with `reference` values mapped. */
function withReferences<T>(value: T, refs: ReadonlyMap<string, string>): T {
  return JSON.parse(JSON.stringify(value), (k, v: unknown) => (k === 'reference' && typeof v === 'string' ? (refs.get(v) ?? v) : v)) as T;
}

/** withReferences, and every reference without its version (`Type/id/_history/n` -> `Type/id`). */
function comparableReferences<T>(value: T, refs: ReadonlyMap<string, string>): T {
  return JSON.parse(JSON.stringify(value), (k, v: unknown) =>
    k === 'reference' && typeof v === 'string' ? (refs.get(v) ?? v).replace(/^([A-Za-z]+\/[A-Za-z0-9\-.]{1,64})\/_history\/[^/]+$/, '$1') : v,
  ) as T;
}

const META_VOLATILE = new Set(['versionId', 'lastUpdated', 'source']);

/**
 * A resource as a string that is equal for equal content: keys sorted, references mapped and
 * without a version (`/_history/n`: the server strips it), server-set meta dropped, tags and
 * security labels as sets, and Provenance.recorded (the time of the run) ignored.
 *
 * `against`: the meta of the resource about to be written, when `resource` is the stored one.
 * HAPI carries a resource's tags and security labels forward on update (a PUT cannot remove
 * them), so stored ones the new content lacks are not a difference a PUT could remove.
 */
export function canonical(resource: fhir4.Resource, refs: ReadonlyMap<string, string>, against?: fhir4.Meta): string {
  const r = comparableReferences(resource, refs) as fhir4.Resource & Record<string, unknown>;
  if (r.resourceType === 'Provenance') delete r.recorded;
  if (r.meta) {
    const meta: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r.meta)) {
      if (META_VOLATILE.has(k)) continue;
      if ((k === 'tag' || k === 'security') && Array.isArray(v)) {
        let codes = v.map((c) => sortedJson(c));
        if (against) {
          const wanted = new Set((against[k] ?? []).map((c) => sortedJson(c)));
          codes = codes.filter((c) => wanted.has(c));
        }
        if (codes.length > 0) meta[k] = [...new Set(codes)].sort();
        continue;
      }
      meta[k] = v;
    }
    if (Object.keys(meta).length > 0) r.meta = meta as fhir4.Meta;
    else delete r.meta;
  }
  return sortedJson(r);
}

function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
