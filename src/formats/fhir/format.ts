import { MednerError } from '../../core/errors.ts';
import { IntakeError } from '../errors.ts';
import type { FileRecord, InputFormat } from '../input-format.ts';
import { fhirToDocuments } from './to-documents.ts';

function firstSignificantByte(b: Uint8Array): number | undefined {
  let i = 0;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) i = 3;
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d)) i++;
  return b[i];
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const LESS_THAN = 0x3c;

/** Document id for a record's key: masterIdentifier.value, else "<type>/<id>". */
function fhirDocumentId(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const r = json as { resourceType?: string; id?: string; masterIdentifier?: { value?: string } };
  return r.masterIdentifier?.value ?? (r.id ? `${r.resourceType ?? 'Resource'}/${r.id}` : undefined);
}

/**
 * FHIR R4 JSON (src/formats/README.md, "FHIR R4"): a DocumentReference, DiagnosticReport or Bundle,
 * or NDJSON of them. It claims JSON arrays and XML too, to refuse them with the reason.
 */
export const fhirFormat: InputFormat = {
  name: 'fhir',
  topicKey: 'fhir',
  defaultTopic: 'medner.documents.fhir',
  recognizes(raw) {
    const c = firstSignificantByte(raw);
    return c === OPEN_BRACE || c === OPEN_BRACKET || c === LESS_THAN;
  },
  read(raw, ctx) {
    const c = firstSignificantByte(raw);
    if (c === OPEN_BRACKET) throw new IntakeError('INVALID_FHIR', 'input is a JSON array, not a FHIR resource');
    if (c === LESS_THAN) throw new IntakeError('INVALID_FHIR', 'input looks like XML; only FHIR JSON is accepted');
    return fhirToDocuments(raw, ctx);
  },
  /** One record per file, or per line of an .ndjson file. JSON or XML that is not UTF-8 cannot be sent. */
  recordsOfFile(fileName: string, content: Buffer): FileRecord[] {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(content);
    } catch {
      throw new MednerError('BAD_ENCODING', `${fileName}: FHIR JSON/XML must be UTF-8, and this file is not`);
    }
    if (/\.ndjson$/i.test(fileName)) {
      return text
        .split('\n')
        .filter((l) => l.trim().length > 0)
        .map((l, i) => {
          let id: string | undefined;
          try {
            id = fhirDocumentId(JSON.parse(l));
          } catch {
            // sent as is: intake dead-letters what it cannot read
          }
          return { key: id ?? `${fileName}#${i}`, value: Buffer.from(l, 'utf8') };
        });
    }
    let id: string | undefined;
    try {
      id = text.trimStart().startsWith('{') ? fhirDocumentId(JSON.parse(text)) : undefined;
    } catch {
      id = undefined;
    }
    return [{ key: id ?? fileName, value: content }];
  },
};
