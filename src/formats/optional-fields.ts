import type { ClinicalDocument } from '../core/clinical-document.ts';

/** Adds optional fields only when they have a value, so JSON output carries no undefined or empty lists. */
export function withOptional(doc: ClinicalDocument, extra: Partial<ClinicalDocument>): ClinicalDocument {
  const out: ClinicalDocument = { ...doc };
  for (const [k, v] of Object.entries(extra) as [keyof ClinicalDocument, unknown][]) {
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}
