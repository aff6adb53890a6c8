import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/** Validators for the JSON Schemas in schemas/ (draft 2020-12), compiled once. */

const SCHEMA_DIR = new URL('../../schemas/', import.meta.url);

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

let ajv: Ajv2020 | undefined;
const cache = new Map<string, ValidateFunction>();

function instance(): Ajv2020 {
  if (!ajv) {
    ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
  }
  return ajv;
}

/** Reads schemas/<file> and compiles it, with every other schema it names by relative $ref loaded on demand. */
export function schemaValidator(file: string): ValidateFunction {
  let v = cache.get(file);
  if (!v) {
    const a = instance();
    for (const dep of ['fhir-r4-subset.schema.json']) {
      const id = `https://medner.example.org/schemas/${dep}`;
      if (dep !== file && !a.getSchema(id)) {
        try {
          a.addSchema(JSON.parse(readFileSync(new URL(dep, SCHEMA_DIR), 'utf8')));
        } catch {
          // optional dependency: only needed by schemas that reference it
        }
      }
    }
    const schema = JSON.parse(readFileSync(new URL(file, SCHEMA_DIR), 'utf8')) as { $id?: string };
    v = (schema.$id && a.getSchema(schema.$id)) || a.compile(schema);
    cache.set(file, v);
  }
  return v;
}

/** "path: message" lines, at most `max`. */
export function schemaErrors(errors: ErrorObject[] | null | undefined, max = 10): string[] {
  return (errors ?? []).slice(0, max).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}${e.params && 'allowedValues' in e.params ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : ''}`);
}
