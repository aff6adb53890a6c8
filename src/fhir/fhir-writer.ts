import type * as fhir4 from 'fhir/r4.js';
import type { ClinicalDocument } from '../core/clinical-document.ts';
import { isCancelled, type DocumentOutput } from './document-output.ts';
import { FhirError, type FhirClient } from './fhir-client.ts';
import { documentKey, documentTagCode } from './ids.ts';
import { countsOf, keyOf, planWrite, type WriteCounts, type WritePlan } from './reconcile.ts';
import { DEFAULT_TARGETS, type ResourceTargets } from './targets/registry.ts';
import { URI } from './uris.ts';

/**
 * Writes one document's output to the FHIR server as ONE transaction, with
 * only what changes (reconcile.ts): it first reads what the server holds for
 * the document (its Provenance, the Provenance's targets and source; on a new
 * version, a cancellation or with `alwaysReconcile` every resource tagged with
 * the document or the one it replaces), leaves out resources whose content is
 * unchanged (a replay sends nothing), retracts (entered-in-error) what this run
 * no longer produces, and deletes a superseded Provenance of the document. One
 * transaction, so the server never shows a half-reconciled document. Errors are
 * FhirError (see fhir-client.ts): the caller retries retriable ones and
 * dead-letters the rest.
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
  /**
   * Search every derived type by the document's tag on every document, not only on new versions
   * and cancellations (5 more searches per document): finds resources no Provenance names, such
   * as those an earlier release left behind. Without it the writer reads the document's
   * Provenance with its targets (one search), which is enough for what this release writes.
   */
  alwaysReconcile?: boolean;
  /** How long a written Device is left out of transactions before it is sent again (default 10 minutes). */
  deviceRefreshMs?: number;
  /** The derived resource targets: what a full read searches and what is retracted (default: the shipped ones). */
  targets?: ResourceTargets;
}

export interface WriteResult extends WriteCounts {
  /** Derived resources this run yields. */
  written: number;
}

const DEFAULT_DEVICE_REFRESH_MS = 10 * 60_000;

export class FhirServerWriter {
  /** Device request URL (`Device/<id>`) -> when a transaction that carried it last succeeded (performance.now()). */
  private readonly devicesWritten = new Map<string, number>();

  constructor(
    private readonly client: FhirClient,
    private readonly opts: FhirServerWriterOptions = {},
  ) {}

  /**
   * Writes what changed (reconcile.ts planWrite): unchanged resources are left out (a replay
   * sends nothing), resources this run no longer yields are retracted, a superseded Provenance
   * of the document is deleted. Returns the counts.
   */
  async writeDocument(doc: ClinicalDocument, out: Pick<DocumentOutput, 'bundle' | 'resourceIdentifiers'>): Promise<WriteResult> {
    const plan = await this.plan(doc, out);
    const counts = countsOf(plan);
    const result = { written: out.resourceIdentifiers.length, ...counts };
    const entries = plan.entries;
    if (entries.length > 0) await this.send(out, entries);
    // Tags of ours that an earlier run left (HAPI keeps tags across updates): after the transaction.
    for (const [url, tag] of Object.entries(plan.staleTags)) {
      const [type, id] = url.split('/') as [string, string];
      await this.client.metaDelete(type, id, { tag });
    }
    return result;
  }

  private async send(out: Pick<DocumentOutput, 'bundle' | 'resourceIdentifiers'>, entries: fhir4.BundleEntry[]): Promise<void> {
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
  }

  /** What writeDocument would send, and the counts, without writing (medner verify). */
  async plan(doc: ClinicalDocument, out: Pick<DocumentOutput, 'bundle' | 'resourceIdentifiers'>, opts: { full?: boolean } = {}): Promise<WritePlan> {
    const stored = await this.storedFor(doc, opts.full || this.opts.alwaysReconcile || needsReconcile(doc), documentReferencesOf(out.bundle));
    return planWrite(out.bundle, stored, this.opts.targets ?? DEFAULT_TARGETS);
  }

  /**
   * What the server holds for the document (and the document it replaces): its Provenance with
   * the Provenance's targets and source entity; with `full`, every derived resource tagged with it.
   * `byId` (`Type/id`): resources read by id as well, in parallel with the search: the
   * DocumentReference medner writes for an HL7 v2 note, which no Provenance names when the model
   * finds nothing in the note (no derived resource, so no Provenance), and which a replay must
   * still see as unchanged.
   */
  async storedFor(doc: ClinicalDocument, full: boolean, byId: readonly string[] = []): Promise<Map<string, fhir4.Resource>> {
    const keys = [documentKey(doc)];
    const parent = 'parentId' in doc.lifecycle ? doc.lifecycle.parentId : undefined;
    if (parent && parent !== doc.id) keys.push(documentKey({ id: parent, ...(doc.idSystem ? { idSystem: doc.idSystem } : {}) }));
    const tagParam = keys.map((k) => `${URI.sourceDocumentTag}|${documentTagCode(k)}`).join(',');
    const searches: Promise<fhir4.Resource[]>[] = [
      this.client.search(
        'Provenance',
        new URLSearchParams([['_tag', tagParam], ['_include', 'Provenance:target'], ['_include', 'Provenance:entity'], ['_count', '1000']]),
        { includes: true },
      ),
    ];
    if (full) for (const type of (this.opts.targets ?? DEFAULT_TARGETS).types) searches.push(this.client.search(type, { _tag: tagParam, _count: '1000' }));
    for (const key of byId) {
      const [type, id] = key.split('/') as [string, string];
      searches.push(this.client.read(type, id).then((r) => (r ? [r] : [])));
    }
    const stored = new Map<string, fhir4.Resource>();
    for (const r of (await Promise.all(searches)).flat()) if (r.id) stored.set(keyOf(r), r);
    return stored;
  }
}

/** `Type/id` of the DocumentReference entries the Bundle writes by id. */
function documentReferencesOf(bundle: fhir4.Bundle): string[] {
  const urls: string[] = [];
  for (const e of bundle.entry ?? []) {
    const url = e.request?.url;
    if (e.resource?.resourceType === 'DocumentReference' && e.request?.method === 'PUT' && url && /^DocumentReference\/[A-Za-z0-9\-.]{1,64}$/.test(url)) urls.push(url);
  }
  return urls;
}

function isDeviceEntry(e: fhir4.BundleEntry): boolean {
  return e.resource?.resourceType === 'Device' && e.request?.method === 'PUT';
}

/** A new version of a document, or its withdrawal: earlier results may have to go. */
export function needsReconcile(doc: ClinicalDocument): boolean {
  const a = doc.lifecycle.action;
  return a === 'edit' || a === 'replace' || isCancelled(doc) || doc.docStatus === 'amended';
}

export { retract } from './retract.ts';
