import { createHash } from 'node:crypto';
import type { ClinicalDocument } from '../core/clinical-document.ts';
import type { ModelInfo } from '../core/entity.ts';
import { assert } from '../core/errors.ts';

/** Deterministic identifiers: the same input always gives the same ids, so replays are idempotent. */

export function sha256Hex(...parts: (string | number)[]): string {
  // NUL cannot occur in our parts' meaningful content, so the join is unambiguous.
  return createHash('sha256').update(parts.map(String).join('\u0000'), 'utf8').digest('hex');
}

/** The key of a document across versions: id system + id. */
export function documentKey(doc: Pick<ClinicalDocument, 'id' | 'idSystem'>): string {
  return `${doc.idSystem ?? ''}|${doc.id}`;
}

/** meta.tag code tying a derived resource to its source document. */
export function documentTagCode(docKey: string): string {
  return sha256Hex('document', docKey);
}

/** Identifier value of a derived resource: hash of document, span, label and resource type. */
export function derivedIdentifierValue(docKey: string, start: number, end: number, label: string, resourceType: string): string {
  return sha256Hex('derived', docKey, start, end, label, resourceType);
}

/**
 * Identifier value of a derived resource that stands for one concept of a document: hash of the
 * document key and the merge key (resource type, concept code or normalized text, assertion,
 * attributes; see document-output.ts mergeKey). Every mention of that concept shares it.
 */
export function conceptIdentifierValue(docKey: string, mergeKey: string): string {
  return sha256Hex('derived-concept', docKey, mergeKey);
}

export function modelCode(model: ModelInfo): string {
  return `${model.name}@${model.version}`;
}

export function provenanceRunCode(docKey: string, model: ModelInfo): string {
  return sha256Hex('provenance', docKey, modelCode(model));
}

/**
 * The logical id of a resource we own, from its sha256 hex key (the derived
 * identifier value, the provenance-run code, a hash of the document or model
 * identifier): "medner-" + the first 57 hex digits (228 bits). Valid as a FHIR
 * id ([A-Za-z0-9\-.]{1,64}) and never purely numeric, so HAPI accepts it as a
 * client-assigned id under its default ALPHANUMERIC strategy. Written with
 * `PUT Type/<id>`, which the server resolves by primary key instead of running
 * the search a conditional URL needs.
 */
export function ownedResourceId(hexKey: string): string {
  assert(/^[0-9a-f]{57,}$/.test(hexKey), 'ownedResourceId needs a sha256 hex key');
  return `medner-${hexKey.slice(0, 57)}`;
}

/** Logical id of our DocumentReference for a document without one on the server: from its identifier (system|value). */
export function documentReferenceId(system: string, value: string): string {
  return ownedResourceId(sha256Hex('DocumentReference', system, value));
}

/** Logical id of the Device that stands for a model version: from "<name>@<version>". */
export function deviceId(model: ModelInfo): string {
  return ownedResourceId(sha256Hex('Device', modelCode(model)));
}

/** A name-based UUID (RFC 4122 layout, version 5 nibble) for urn:uuid fullUrls inside a transaction. */
export function deterministicUuid(...parts: string[]): string {
  const h = createHash('sha1').update(parts.join('\u0000'), 'utf8').digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A conditional-update URL: Type?identifier=system%7Cvalue (the "|" encoded, as Tomcat wants). */
export function conditionalUrl(resourceType: string, param: string, system: string | undefined, value: string): string {
  const token = system === undefined ? encodeURIComponent(value) : `${encodeURIComponent(system)}%7C${encodeURIComponent(value)}`;
  return `${resourceType}?${param}=${token}`;
}
