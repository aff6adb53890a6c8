import type * as fhir4 from 'fhir/r4.js';
import { applyObservationFields, observationFields } from '../observation-value.ts';
import { HL7 } from '../uris.ts';
import { baseOf, categoryWithText, concept } from './common.ts';
import { statusRetraction, type ResourceTarget } from './target.ts';

/** Lab_value, Diagnostic_procedure with a value...: Observation; value, interpretation, category by rules from attributes. */
export const observationTarget: ResourceTarget<fhir4.Observation> = {
  resourceType: 'Observation',
  selectable: true,
  category: true,
  build(ctx, e, target) {
    const a = e.assertion;
    if (a.negated && ctx.mapping.negatedObservation === 'skip') return undefined;
    const o: fhir4.Observation = {
      resourceType: 'Observation',
      ...baseOf(ctx, e),
      // A reported negative result is final, even where a test word also read it as a question ("BK virus PCR negative").
      status: a.uncertain && !a.negated ? 'preliminary' : 'final',
      code: concept(ctx, e),
      subject: ctx.subject,
      derivedFrom: [ctx.docRef],
    };
    if (target.category) o.category = [{ coding: target.category }];
    if (ctx.encounter) o.encounter = ctx.encounter;
    if (ctx.date) o.effectiveDateTime = ctx.date;
    if (a.negated) o.interpretation = [{ coding: [{ system: HL7.v3ObservationInterpretation, code: 'NEG', display: 'Negative' }] }];
    return o;
  },
  details(o, e, target, docText, data) {
    const f = observationFields(docText, e, data);
    if (!target.categoryRules) delete f.category;
    applyObservationFields(o, f, data);
    const cat = categoryWithText(o.category, target.categoryText);
    if (cat) o.category = cat;
  },
  ...statusRetraction<fhir4.Observation>(),
};
