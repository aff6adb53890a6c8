/**
 * The linker's codes (entity.codes, src/nlp/linking) as FHIR Codings: system, version (ICD-10-CM),
 * code, display exactly as in the terminology table, and the linker's score in an extension.
 */
import type { ConceptCode } from '../core/entity.ts';
import { ICD10CM_SYSTEM } from '../core/code-systems.ts';
import { URI } from './uris.ts';

/**
 * Codings for a mention's codes, best first, at most one per system. A composite mention ("breast and
 * ovarian cancer") has several codes of one system: those name different concepts, which one
 * CodeableConcept must not mix, so it gets none (code.text only).
 */
export function linkedCodings(codes: readonly ConceptCode[] | undefined, icd: boolean): fhir4.Coding[] {
  if (!codes || codes.length === 0) return [];
  const systems = new Set<string>();
  for (const c of codes) {
    if (systems.has(c.system)) return [];
    systems.add(c.system);
  }
  return codes
    .filter((c) => icd || c.system !== ICD10CM_SYSTEM)
    .map((c) => {
      const coding: fhir4.Coding = {
        // Two decimals, as the NLP score: a replay must converge to the same resource version.
        extension: [{ url: URI.linkScore, valueDecimal: Math.round(c.score * 100) / 100 }],
        system: c.system,
      };
      if (c.version) coding.version = c.version;
      coding.code = c.code;
      if (c.display) coding.display = c.display;
      return coding;
    });
}
