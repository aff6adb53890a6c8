/**
 * Every read the viewer makes, all through FhirClient (same base URL and auth as the writer).
 * Pages cost a bounded number of searches: `_count` pages, `_include` for the documents and
 * resources a Provenance points at, chained parameters for filters. Nothing lists a whole type.
 *
 * What medner writes (src/fhir/README.md): one Provenance per document and model, with the model
 * Device as agent, the source document as entity and every derived resource as target; derived
 * resources carry derivation-reference extensions (offset/length into the document's text).
 */
import type * as fhir4 from 'fhir/r4.js';
import { FhirError, type FhirClient } from '../fhir/fhir-client.ts';
import { documentReferenceId } from '../fhir/ids.ts';
import { URI } from '../fhir/uris.ts';
import { parseDocuments } from '../formats/intake.ts';
import { MednerError } from '../core/errors.ts';
import { readResource, unversioned, type ResourceView } from './resources.ts';

export interface DocumentFilters {
  patient?: string;
  from?: string;
  to?: string;
  type?: string;
  assertion?: string;
}

export interface DocumentRow {
  provenanceId: string;
  recorded?: string;
  source?: string;
  documentType?: string;
  documentDate?: string;
  documentStatus?: string;
  patient?: string;
  patientLabel?: string;
  counts: [string, number][];
  model: string;
}

export interface DocumentList {
  rows: DocumentRow[];
  next?: string;
  previous?: string;
  notes: string[];
}

export const TYPE_RE = /^[A-Z][A-Za-z]{1,63}$/;
const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
export const ASSERTION_RE = /^[a-z][a-z-]{0,30}$/;

/** The system of the meta.tag medner writes for each assertion flag (searchable, unlike the extension). */
export const ASSERTION_TAG_SYSTEM = URI.assertionTag;

export class ViewReader {
  private devices: { at: number; refs: string[]; labels: Map<string, string> } | undefined;

  constructor(
    readonly client: FhirClient,
    private readonly opts: { pageSize?: number; patientPages?: number } = {},
  ) {}

  /** The model Devices medner wrote (identifier system nlp-model), cached for a minute. */
  async modelDevices(): Promise<{ refs: string[]; labels: Map<string, string> }> {
    if (this.devices && Date.now() - this.devices.at < 60_000) return this.devices;
    const b = await this.client.get<fhir4.Bundle>(`Device?identifier=${encodeURIComponent(`${URI.deviceIdentifier}|`)}&_count=200`);
    const labels = new Map<string, string>();
    for (const e of b.entry ?? []) {
      const d = e.resource as fhir4.Device | undefined;
      if (d?.resourceType !== 'Device' || !d.id) continue;
      labels.set(`Device/${d.id}`, `${d.deviceName?.[0]?.name ?? d.identifier?.[0]?.value ?? d.id} ${d.version?.[0]?.value ?? ''}`.trim());
    }
    this.devices = { at: Date.now(), refs: [...labels.keys()], labels };
    return this.devices;
  }

  /** Patient references matching what a user typed: "Patient/id", an id, or an identifier (value or system|value). */
  async resolvePatients(input: string): Promise<string[]> {
    const s = input.trim();
    if (/^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(s)) return [s];
    const refs = new Set<string>();
    const b = await this.client.get<fhir4.Bundle>(`Patient?identifier=${encodeURIComponent(s)}&_elements=id&_count=20`);
    for (const e of b.entry ?? []) if (e.resource?.resourceType === 'Patient' && e.resource.id) refs.add(`Patient/${e.resource.id}`);
    if (ID_RE.test(s)) {
      const p = await this.client.read('Patient', s);
      if (p?.id) refs.add(`Patient/${p.id}`);
    }
    return [...refs];
  }

  /** A documents page: Provenances of medner's models, newest document first, with their source documents. */
  async listDocuments(f: DocumentFilters, cursor?: string): Promise<DocumentList> {
    const notes: string[] = [];
    const { refs, labels } = await this.modelDevices();
    if (refs.length === 0) return { rows: [], notes: ['No medner model has written to this FHIR server yet.'] };
    let path: string;
    if (cursor) {
      path = cursor;
    } else {
      const q = new URLSearchParams();
      q.set('agent', refs.join(','));
      if (f.patient) {
        const patients = await this.resolvePatients(f.patient);
        if (patients.length === 0) return { rows: [], notes: ['No patient on the FHIR server has that id or identifier.'] };
        q.set('entity:DocumentReference.subject', patients.join(','));
      }
      // `when` is Provenance.occurred[x]: the document's time (`recorded` is the time of the run).
      if (f.from) q.append('when', `ge${f.from}`);
      if (f.to) q.append('when', `le${f.to}`);
      if (f.assertion) q.set(`target${f.type ? `:${f.type}` : ''}._tag`, `${ASSERTION_TAG_SYSTEM}|${f.assertion}`);
      else if (f.type) q.set(`target:${f.type}.identifier`, `${URI.derivedIdentifier}|`);
      q.set('_sort', '-when');
      q.set('_count', String(this.opts.pageSize ?? 25));
      q.append('_include', 'Provenance:entity');
      if (f.assertion) q.append('_include', 'Provenance:target');
      path = `Provenance?${q.toString()}`;
    }
    const bundle = await this.client.get<fhir4.Bundle>(path);
    const { provs, included } = provenancePage(bundle);
    const rows: DocumentRow[] = [];
    let hidden = 0;
    for (const p of provs) {
      if (f.assertion && !p.target.some((t) => hasAssertion(included.get(unversioned(t.reference ?? '')), f))) {
        hidden++;
        continue;
      }
      rows.push(rowOf(p, included, labels));
    }
    if (hidden > 0) notes.push(`${hidden} document(s) on this page matched a stale assertion tag and are not shown.`);
    const link = (rel: string) => bundle.link?.find((l) => l.relation === rel)?.url;
    const next = link('next');
    const previous = link('previous') ?? link('prev');
    return { rows, ...(next ? { next: this.relative(next) } : {}), ...(previous ? { previous: this.relative(previous) } : {}), notes };
  }

  /**
   * A paging link the server gave, relative to our base (so a cursor can never point anywhere
   * else). A server that names itself differently (behind a proxy) keeps its query.
   */
  relative(link: string): string {
    const base = this.client.baseUrl;
    if (link.startsWith(`${base}/`)) return link.slice(base.length + 1);
    if (link.startsWith(`${base}?`)) return link.slice(base.length);
    try {
      const u = new URL(link);
      const type = /\/([A-Z][A-Za-z]+)$/.exec(u.pathname)?.[1];
      return `${type ?? ''}${u.search}`;
    } catch {
      throw new MednerError('VIEW_BAD_CURSOR', 'the FHIR server gave a paging link that is not a URL');
    }
  }

  /** One run: the Provenance, its source document, model Device and every target, in one search. */
  async loadRun(provenanceId: string): Promise<RunView | undefined> {
    if (!ID_RE.test(provenanceId)) return undefined;
    const q = new URLSearchParams({ _id: provenanceId });
    for (const inc of ['Provenance:target', 'Provenance:entity', 'Provenance:agent']) q.append('_include', inc);
    const bundle = await this.client.get<fhir4.Bundle>(`Provenance?${q.toString()}`);
    const prov = bundle.entry?.find((e) => e.resource?.resourceType === 'Provenance' && e.resource.id === provenanceId)?.resource as fhir4.Provenance | undefined;
    if (!prov) return undefined;
    const included = new Map<string, fhir4.Resource>();
    for (const e of bundle.entry ?? []) if (e.resource?.id && e.resource !== prov) included.set(`${e.resource.resourceType}/${e.resource.id}`, e.resource);
    const sourceRefRaw = prov.entity?.find((x) => x.role === 'source')?.what.reference ?? prov.entity?.[0]?.what.reference;
    const sourceRef = sourceRefRaw ? unversioned(sourceRefRaw) : undefined;
    let source = sourceRef ? included.get(sourceRef) : undefined;
    // A versioned reference names the version that was processed: read that one when the current differs.
    const version = sourceRefRaw && /\/_history\/([^/]+)$/.exec(sourceRefRaw)?.[1];
    if (source && version && source.meta?.versionId !== version) {
      source = await this.client.get<fhir4.Resource>(`${sourceRef}/_history/${encodeURIComponent(version)}`).catch(() => source);
    }
    const resources: ResourceView[] = [];
    const seen = new Set<string>();
    for (const t of prov.target) {
      const key = unversioned(t.reference ?? '');
      const r = included.get(key);
      if (!r || seen.has(key)) continue;
      seen.add(key);
      resources.push(readResource(r, resources.length));
    }
    const missingTargets = prov.target.length - seen.size;
    const agent = prov.agent?.[0]?.who;
    const text = source ? await this.textOf(source) : { problem: sourceRef ? `The source document ${sourceRef} is not on the FHIR server.` : 'The Provenance names no source document.' };
    let otherRuns: { id: string; model: string }[] = [];
    if (sourceRef) {
      const others = await this.client.get<fhir4.Bundle>(`Provenance?entity=${encodeURIComponent(sourceRef)}&_count=20&_elements=id,agent`);
      otherRuns = (others.entry ?? [])
        .map((e) => e.resource as fhir4.Provenance)
        .filter((p) => p?.resourceType === 'Provenance' && p.id && p.id !== provenanceId)
        .map((p) => ({ id: p.id!, model: p.agent?.[0]?.who?.display ?? 'another model' }));
    }
    return {
      provenance: prov,
      ...(source ? { source } : {}),
      ...(sourceRef ? { sourceRef } : {}),
      ...text,
      resources,
      missingTargets,
      model: agent?.display ?? agent?.reference ?? 'unknown model',
      otherRuns,
    };
  }

  /** The text the offsets index: our own DocumentReference holds it as is; a source document is extracted again by medner's intake. */
  async textOf(source: fhir4.Resource): Promise<{ text?: string; problem?: string }> {
    if (source.resourceType === 'DocumentReference') {
      const d = source as fhir4.DocumentReference;
      const mi = d.masterIdentifier;
      if (mi?.system && mi.value && d.id === documentReferenceId(mi.system, mi.value)) {
        const data = d.content?.[0]?.attachment?.data;
        return data !== undefined ? { text: Buffer.from(data, 'base64').toString('utf8') } : { problem: 'The document has no text (withdrawn or a status change).' };
      }
    }
    try {
      const docs = await parseDocuments(Buffer.from(JSON.stringify(source), 'utf8'), {
        format: 'fhir',
        source: { kind: 'file', path: 'fhir-server', index: 0 },
        fetchBinary: (url) => this.fetchBinary(url),
      });
      const text = docs[0]?.text;
      return text !== undefined ? { text } : { problem: 'No text could be extracted from the source document.' };
    } catch (err) {
      return { problem: `The source document's text could not be extracted (${err instanceof MednerError || (err as { code?: unknown }).code ? String((err as { code: unknown }).code) : 'error'}).` };
    }
  }

  /** Attachment URLs on this FHIR server only (relative, or under the base): the viewer fetches nothing elsewhere. */
  private async fetchBinary(url: string): Promise<{ contentType?: string; data: Buffer }> {
    const base = this.client.baseUrl;
    const rel = url.startsWith(`${base}/`) ? url.slice(base.length + 1) : url;
    if (/^[a-z][a-z0-9+.-]*:/i.test(rel) || rel.includes('..')) throw new MednerError('VIEW_ATTACHMENT_ELSEWHERE', 'attachment URL is not on the FHIR server');
    return this.client.readAttachment(rel);
  }

  /** A patient's runs with every derived resource, a bounded number of pages. */
  async loadPatient(patientId: string): Promise<PatientData | undefined> {
    if (!ID_RE.test(patientId)) return undefined;
    const patient = await this.client.read<fhir4.Patient>('Patient', patientId);
    if (!patient) return undefined;
    const { refs } = await this.modelDevices();
    const runs: PatientData['runs'] = [];
    const resources = new Map<string, { view: ResourceView; provenanceId: string; recorded?: string }>();
    let truncated = false;
    if (refs.length > 0) {
      const q = new URLSearchParams();
      q.set('agent', refs.join(','));
      q.set('entity:DocumentReference.subject', `Patient/${patientId}`);
      q.set('_sort', '-when');
      q.set('_count', '50');
      q.append('_include', 'Provenance:target');
      q.append('_include', 'Provenance:entity');
      let path: string | undefined = `Provenance?${q.toString()}`;
      const maxPages = this.opts.patientPages ?? 10;
      for (let page = 0; path; page++) {
        if (page >= maxPages) {
          truncated = true;
          break;
        }
        const bundle: fhir4.Bundle = await this.client.get<fhir4.Bundle>(path);
        const { provs, included } = provenancePage(bundle);
        for (const p of provs) {
          const src = unversioned(p.entity?.[0]?.what.reference ?? '');
          const doc = included.get(src) as fhir4.DocumentReference | undefined;
          const when = documentTime(p);
          runs.push({ provenanceId: p.id!, ...(when ? { recorded: when } : {}), ...(doc ? { documentType: docTypeOf(doc) } : {}) });
          for (const t of p.target) {
            const key = unversioned(t.reference ?? '');
            const r = included.get(key);
            if (!r || resources.has(key)) continue;
            resources.set(key, { view: readResource(r, resources.size), provenanceId: p.id!, ...(when ? { recorded: when } : {}) });
          }
        }
        const next = bundle.link?.find((l) => l.relation === 'next')?.url;
        path = next ? this.relative(next) : undefined;
      }
    }
    return { patient, runs, resources: [...resources.values()], truncated };
  }
}

export interface RunView {
  provenance: fhir4.Provenance;
  source?: fhir4.Resource;
  sourceRef?: string;
  text?: string;
  problem?: string;
  resources: ResourceView[];
  /** Targets the server did not return (deleted, or beyond its include limit). */
  missingTargets: number;
  model: string;
  otherRuns: { id: string; model: string }[];
}

export interface PatientData {
  patient: fhir4.Patient;
  runs: { provenanceId: string; recorded?: string; documentType?: string }[];
  resources: { view: ResourceView; provenanceId: string; recorded?: string }[];
  truncated: boolean;
}

function hasAssertion(r: fhir4.Resource | undefined, f: DocumentFilters): boolean {
  if (!r || (f.type && r.resourceType !== f.type)) return false;
  return ((r as fhir4.DomainResource).extension ?? []).some((e) => e.url === URI.nlpAssertion && e.valueCode === f.assertion);
}

/** The document's time: Provenance.occurred[x] (medner writes the document date there), else when the run was recorded. */
export function documentTime(p: fhir4.Provenance): string | undefined {
  return p.occurredDateTime ?? p.occurredPeriod?.start ?? p.recorded;
}

export function docTypeOf(d: fhir4.Resource | undefined): string | undefined {
  const t = (d as { type?: fhir4.CodeableConcept; code?: fhir4.CodeableConcept } | undefined)?.type ?? (d as { code?: fhir4.CodeableConcept } | undefined)?.code;
  return t?.text ?? t?.coding?.[0]?.display ?? t?.coding?.[0]?.code;
}

function rowOf(p: fhir4.Provenance, included: Map<string, fhir4.Resource>, labels: Map<string, string>): DocumentRow {
  const srcRaw = p.entity?.find((x) => x.role === 'source')?.what.reference ?? p.entity?.[0]?.what.reference;
  const src = srcRaw ? unversioned(srcRaw) : undefined;
  const doc = src ? (included.get(src) as (fhir4.DocumentReference | fhir4.DiagnosticReport) | undefined) : undefined;
  const counts = new Map<string, number>();
  for (const t of p.target) {
    const type = /^([A-Z][A-Za-z]+)\//.exec(t.reference ?? '')?.[1];
    if (type) counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  const subject = (doc as { subject?: fhir4.Reference } | undefined)?.subject;
  const agent = p.agent?.[0]?.who;
  const date = (doc as fhir4.DocumentReference | undefined)?.date ?? (doc as fhir4.DiagnosticReport | undefined)?.effectiveDateTime;
  return {
    provenanceId: p.id!,
    ...(documentTime(p) ? { recorded: documentTime(p)! } : {}),
    ...(src ? { source: src } : {}),
    ...(docTypeOf(doc) ? { documentType: docTypeOf(doc)! } : {}),
    ...(date ? { documentDate: date } : {}),
    ...(doc ? { documentStatus: (doc as { status?: string }).status ?? '' } : {}),
    ...(subject?.reference ? { patient: subject.reference } : {}),
    ...(subject ? { patientLabel: subject.display ?? subject.reference ?? subject.identifier?.value ?? '' } : {}),
    counts: [...counts].sort((a, b) => a[0].localeCompare(b[0])),
    model: agent?.display ?? (agent?.reference ? labels.get(agent.reference) : undefined) ?? 'unknown',
  };
}

export function isNotFound(err: unknown): boolean {
  return err instanceof FhirError && (err.status === 404 || err.status === 410);
}

export function validFilters(q: URLSearchParams): { filters: DocumentFilters; problems: string[] } {
  const filters: DocumentFilters = {};
  const problems: string[] = [];
  const patient = q.get('patient')?.trim();
  if (patient) {
    if (patient.length > 200) problems.push('patient: too long');
    else filters.patient = patient;
  }
  for (const k of ['from', 'to'] as const) {
    const v = q.get(k)?.trim();
    if (!v) continue;
    if (DATE_RE.test(v)) filters[k] = v;
    else problems.push(`${k}: expected a date like 2026-03-01`);
  }
  const type = q.get('type')?.trim();
  if (type) {
    if (TYPE_RE.test(type)) filters.type = type;
    else problems.push('type: expected a FHIR resource type');
  }
  const assertion = q.get('assertion')?.trim();
  if (assertion) {
    if (ASSERTION_RE.test(assertion)) filters.assertion = assertion;
    else problems.push('assertion: unknown value');
  }
  return { filters, problems };
}

/** A page of a Provenance search: the matched Provenances, and the _include'd resources by Type/id. */
function provenancePage(bundle: fhir4.Bundle): { provs: fhir4.Provenance[]; included: Map<string, fhir4.Resource> } {
  const included = new Map<string, fhir4.Resource>();
  const provs: fhir4.Provenance[] = [];
  for (const e of bundle.entry ?? []) {
    const r = e.resource;
    if (!r?.id) continue;
    if (r.resourceType === 'Provenance' && (e.search?.mode ?? 'match') === 'match') provs.push(r as fhir4.Provenance);
    else included.set(`${r.resourceType}/${r.id}`, r);
  }
  return { provs, included };
}
