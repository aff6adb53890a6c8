import type * as fhir4 from 'fhir/r4.js';
import type { ClinicalDocument } from '../formats/clinical-document.ts';
import { DERIVED_RESOURCE_TYPES, isCancelled, type DerivedResourceType, type DocumentOutput } from './document-output.ts';
import { FhirError, type FhirClient } from './fhir-client.ts';
import { documentKey, documentTagCode, ownedResourceId } from './ids.ts';
import { HL7, URI } from './uris.ts';

/**
 * Writes one document's output to the FHIR server as ONE transaction: the
 * updates of DocumentOutput plus, for a new version or a cancellation, the
 * retraction (entered-in-error) of every resource derived earlier from this
 * document (or from the document it replaces) that the new run no longer
 * produces. One transaction, so the server never shows a half-reconciled
 * document. Errors are FhirError (see fhir-client.ts): the caller retries
 * retriable ones and dead-letters the rest.
 *
 * The shared model Device (`PUT Device/<id>`, the same in every Bundle of a
 * model version) is sent only until a transaction carrying it has succeeded,
 * and again every `deviceRefreshMs` after that; in between the writer leaves
 * the entry out (the Provenance references `Device/<id>`, which is then already
 * on the server). Should the server have lost it meanwhile (reset, deleted):
 * a server that enforces referential integrity rejects the transaction, and the
 * writer sends it once more with the Device; one that does not accepts it and
 * gets the Device back at the next refresh.
 */

export interface FhirServerWriterOptions {
  /** Reconcile on every document, not only on new versions and cancellations (catches model changes; 5 searches per document). */
  alwaysReconcile?: boolean;
  /** How long a written Device is left out of transactions before it is sent again (default 10 minutes). */
  deviceRefreshMs?: number;
}

const DEFAULT_DEVICE_REFRESH_MS = 10 * 60_000;

export class FhirServerWriter {
  /** Device request URL (`Device/<id>`) -> when a transaction that carried it last succeeded (performance.now()). */
  private readonly devicesWritten = new Map<string, number>();

  constructor(
    private readonly client: FhirClient,
    private readonly opts: FhirServerWriterOptions = {},
  ) {}

  async writeDocument(doc: ClinicalDocument, out: DocumentOutput): Promise<{ written: number; retracted: number }> {
    const retractions = needsReconcile(doc) || this.opts.alwaysReconcile ? await this.retractionsFor(doc, out) : [];
    const entries = [...(out.bundle.entry ?? []), ...retractions];
    if (entries.length === 0) return { written: 0, retracted: 0 };
    const devices = entries.filter(isDeviceEntry).map((e) => e.request!.url);
    const refresh = this.opts.deviceRefreshMs ?? DEFAULT_DEVICE_REFRESH_MS;
    const now = performance.now();
    const skip = new Set(devices.filter((url) => now - (this.devicesWritten.get(url) ?? -Infinity) < refresh));
    const lean = skip.size > 0 ? entries.filter((e) => !(isDeviceEntry(e) && skip.has(e.request!.url))) : entries;
    let written = devices.filter((url) => !skip.has(url));
    try {
      await this.client.transaction({ ...out.bundle, entry: lean });
    } catch (err) {
      if (lean === entries || !(err instanceof FhirError) || err.code !== 'FHIR_REJECTED') throw err;
      // Perhaps the server lost the Device we left out (referential integrity): once more, with it.
      for (const url of skip) this.devicesWritten.delete(url);
      await this.client.transaction({ ...out.bundle, entry: entries });
      written = devices;
    }
    for (const url of written) this.devicesWritten.set(url, performance.now());
    return { written: out.resourceIdentifiers.length, retracted: retractions.length };
  }

  /** Entries that mark as entered-in-error what an earlier run derived from this document and this run does not. */
  private async retractionsFor(doc: ClinicalDocument, out: DocumentOutput): Promise<fhir4.BundleEntry[]> {
    const keys = [documentKey(doc)];
    const parent = 'parentId' in doc.lifecycle ? doc.lifecycle.parentId : undefined;
    if (parent && parent !== doc.id) keys.push(documentKey({ id: parent, ...(doc.idSystem ? { idSystem: doc.idSystem } : {}) }));
    const tagParam = keys.map((k) => `${URI.sourceDocumentTag}|${documentTagCode(k)}`).join(',');
    // identifier -> the logical id this run writes it under
    const keep = new Map(out.resourceIdentifiers.map((r) => [`${r.resourceType}|${r.value}`, ownedResourceId(r.value)]));
    const entries: fhir4.BundleEntry[] = [];
    for (const type of DERIVED_RESOURCE_TYPES) {
      const found = await this.client.search(type, { _tag: tagParam, _count: '500' });
      for (const r of found) {
        const ours = (r as { identifier?: fhir4.Identifier[] }).identifier?.find((i) => i.system === URI.derivedIdentifier)?.value;
        // Kept: what this run writes again. A resource with a kept identifier under another id is a
        // copy that an earlier release wrote by conditional update (server-assigned id): superseded.
        if (!r.id || (ours !== undefined && keep.get(`${type}|${ours}`) === r.id)) continue;
        const retracted = retract(type, r);
        if (retracted) entries.push({ resource: retracted as fhir4.FhirResource, request: { method: 'PUT', url: `${type}/${r.id}` } });
      }
    }
    return entries;
  }
}

function isDeviceEntry(e: fhir4.BundleEntry): boolean {
  return e.resource?.resourceType === 'Device' && e.request?.method === 'PUT';
}

/** A new version of a document, or its withdrawal: earlier results may have to go. */
export function needsReconcile(doc: ClinicalDocument): boolean {
  const a = doc.lifecycle.action;
  return a === 'edit' || a === 'replace' || isCancelled(doc) || doc.docStatus === 'amended';
}

/** The resource marked entered-in-error, or undefined when it already is. */
export function retract(type: DerivedResourceType, resource: fhir4.Resource): fhir4.Resource | undefined {
  const r = structuredClone(resource) as fhir4.Resource & Record<string, unknown>;
  if (r.meta) {
    delete r.meta.versionId;
    delete r.meta.lastUpdated;
    delete r.meta.source;
  }
  if (type === 'Condition') {
    const c = r as unknown as fhir4.Condition;
    if (c.verificationStatus?.coding?.some((x) => x.code === 'entered-in-error')) return undefined;
    c.verificationStatus = { coding: [{ system: HL7.conditionVerStatus, code: 'entered-in-error', display: 'Entered in Error' }] };
    delete c.clinicalStatus; // con-5: no clinicalStatus on an entered-in-error Condition
    return c;
  }
  if (type === 'AllergyIntolerance') {
    const a = r as unknown as fhir4.AllergyIntolerance;
    if (a.verificationStatus?.coding?.some((x) => x.code === 'entered-in-error')) return undefined;
    a.verificationStatus = { coding: [{ system: HL7.allergyVerification, code: 'entered-in-error', display: 'Entered in Error' }] };
    delete a.clinicalStatus; // ait-2: no clinicalStatus on an entered-in-error AllergyIntolerance
    return a;
  }
  if (r.status === 'entered-in-error') return undefined;
  r.status = 'entered-in-error';
  return r;
}
