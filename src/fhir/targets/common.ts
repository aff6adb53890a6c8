import type * as fhir4 from 'fhir/r4.js';
import type { AssertedEntity } from '../../core/entity.ts';
import type { Entity } from '../../core/entity.ts';
import { codingsFor } from '../label-mapping.ts';
import { linkedCodings } from '../linked-codings.ts';
import { HL7, URI } from '../uris.ts';
import type { TargetContext } from './target.ts';

/** derivation-reference to the mention's span, the NLP score, and the assertion flags. */
export function extensionsFor(ctx: TargetContext, e: AssertedEntity): fhir4.Extension[] {
  const path = ctx.pathFor(e.start);
  const ext: fhir4.Extension[] = [
    {
      url: HL7.derivationReference,
      extension: [
        { url: 'reference', valueReference: ctx.docRef },
        ...(path ? [{ url: 'path', valueString: path }] : []),
        { url: 'offset', valueInteger: e.start },
        { url: 'length', valueInteger: e.end - e.start },
      ],
    },
    // Rounded so that tiny float differences between execution providers do not make a new resource version.
    // Two decimals: int8 models give scores that move in the third decimal with batch
    // composition, and a replay must not bump a resource's version for that.
    { url: URI.nlpScore, valueDecimal: Math.round(e.score * 100) / 100 },
  ];
  const a = e.assertion;
  for (const flag of ['negated', 'uncertain', 'historical'] as const) {
    if (a[flag]) ext.push({ url: URI.nlpAssertion, valueCode: flag });
  }
  if (a.experiencer === 'family') ext.push({ url: URI.nlpAssertion, valueCode: 'family' });
  return ext;
}

/** meta (model and source-document tags, AIAST) and extensions every derived resource starts with. */
export function baseOf(ctx: TargetContext, e: AssertedEntity): { meta: fhir4.Meta; extension: fhir4.Extension[] } {
  return { meta: structuredClone(ctx.meta), extension: extensionsFor(ctx, e) };
}

/**
 * code.text is the document's words; code.coding the label mapping's fixed codings, then the linker's
 * (entity.codes): ICD-10-CM only where `icd` (Condition, FamilyMemberHistory), MeSH everywhere.
 */
export function concept(ctx: TargetContext, e: Entity, icd = false): fhir4.CodeableConcept {
  const coding: fhir4.Coding[] = codingsFor(ctx.mapping, e.label, e.text);
  for (const c of linkedCodings(e.codes, icd)) if (!coding.some((x) => x.system === c.system && x.code === c.code)) coding.push(c);
  return coding.length > 0 ? { coding, text: e.text } : { text: e.text };
}

/** category[0] with its text set (e.g. "symptom"), so that kinds sharing a category coding stay distinguishable. */
export function categoryWithText(cc: fhir4.CodeableConcept[] | undefined, text: string | undefined): fhir4.CodeableConcept[] | undefined {
  if (!text) return cc;
  if (!cc || cc.length === 0) return [{ text }];
  return [{ ...cc[0]!, text }, ...cc.slice(1)];
}
