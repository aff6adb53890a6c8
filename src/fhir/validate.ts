import type { ErrorObject } from 'ajv/dist/2020.js';
import { schemaErrors, schemaValidator } from '../core/json-schema.ts';

/** Structural checks of what we emit, against the schemas in schemas/. */

export interface SchemaCheck {
  ok: boolean;
  errors: string[];
}

function check(file: string, value: unknown): SchemaCheck {
  const v = schemaValidator(file);
  const ok = v(value) as boolean;
  return { ok, errors: ok ? [] : schemaErrors(v.errors as ErrorObject[]) };
}

/** One resource against schemas/fhir-r4-subset.schema.json. */
export function validateFhirResource(resource: unknown): SchemaCheck {
  return check('fhir-r4-subset.schema.json', resource);
}

/** A parsed Kafka output value against schemas/output-message.schema.json. */
export function validateOutputMessage(value: unknown): SchemaCheck {
  return check('output-message.schema.json', value);
}
