/**
 * Bounds on the output of one document (issue 20): pure checks applied to the
 * transaction Bundle before anything is written, so one hostile document cannot
 * build a request that knocks the FHIR server over. Over a bound the document
 * is dead-lettered (OUTPUT_TOO_LARGE, not retriable) with the numbers; spans
 * beyond the per-resource bound are dropped and counted (deterministically: the
 * first ones in document order are kept, so a replay gives the same Bundle).
 */
import type * as fhir4 from 'fhir/r4.js';
import { MednerError } from '../core/errors.ts';
import { HL7 } from './uris.ts';

export interface OutputLimits {
  maxEntitiesPerDocument: number;
  maxSpansPerResource: number;
  maxTransactionEntries: number;
  maxTransactionBytes: number;
}

/** Which bound an error or a drop comes from (the `limit` label of medner_limit_exceeded_total). */
export type LimitName = 'narrative_bytes' | 'entities' | 'spans_per_resource' | 'transaction_entries' | 'transaction_bytes' | 'attachment_bytes';

/** A document over a bound: never retried. */
export class LimitError extends MednerError {
  constructor(
    code: 'DOCUMENT_TOO_LARGE' | 'OUTPUT_TOO_LARGE',
    readonly limit: LimitName,
    readonly actual: number,
    readonly max: number,
  ) {
    super(code, `${limit.replace(/_/g, ' ')}: ${actual} over the limit of ${max}`, { retriable: false });
    this.name = 'LimitError';
  }
}

export function checkEntityCount(count: number, limits: Pick<OutputLimits, 'maxEntitiesPerDocument'>): void {
  if (count > limits.maxEntitiesPerDocument) throw new LimitError('OUTPUT_TOO_LARGE', 'entities', count, limits.maxEntitiesPerDocument);
}

/** UTF-8 size of a document's narrative against MAX_NARRATIVE_BYTES. */
export function checkNarrative(text: string, maxBytes: number): void {
  // Cheap first: a UTF-16 string of n units is at least n and at most 3n UTF-8 bytes.
  if (text.length * 3 <= maxBytes) return;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) throw new LimitError('DOCUMENT_TOO_LARGE', 'narrative_bytes', bytes, maxBytes);
}

/**
 * Keeps at most `max` derivation-reference extensions (source spans) on each resource of the
 * Bundle, in place; returns how many were dropped.
 */
export function limitSpans(bundle: fhir4.Bundle, max: number): number {
  let dropped = 0;
  for (const e of bundle.entry ?? []) {
    const r = e.resource as (fhir4.Resource & { extension?: fhir4.Extension[] }) | undefined;
    const ext = r?.extension;
    if (!r || !ext) continue;
    let kept = 0;
    const next = ext.filter((x) => {
      if (x.url !== HL7.derivationReference) return true;
      kept++;
      return kept <= max;
    });
    if (next.length !== ext.length) {
      dropped += ext.length - next.length;
      r.extension = next;
    }
  }
  return dropped;
}

/** Entry count and serialized size of one transaction against the bounds; returns the size in bytes. */
export function checkTransaction(bundle: fhir4.Bundle, limits: Pick<OutputLimits, 'maxTransactionEntries' | 'maxTransactionBytes'>): number {
  const entries = bundle.entry?.length ?? 0;
  if (entries > limits.maxTransactionEntries) throw new LimitError('OUTPUT_TOO_LARGE', 'transaction_entries', entries, limits.maxTransactionEntries);
  const bytes = Buffer.byteLength(JSON.stringify(bundle), 'utf8');
  if (bytes > limits.maxTransactionBytes) throw new LimitError('OUTPUT_TOO_LARGE', 'transaction_bytes', bytes, limits.maxTransactionBytes);
  return bytes;
}
