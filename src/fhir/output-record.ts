import type { ClinicalDocument } from '../core/clinical-document.ts';
import type { ModelInfo } from '../core/entity.ts';
import type { DocumentOutput } from './document-output.ts';

/**
 * The record for the Kafka output topic. Value: the transaction Bundle as
 * JSON (schemas/output-message.schema.json), so a consumer can POST it to
 * any FHIR server. Key: the hashed patient key, so one patient's results
 * stay in one partition, in order. Headers: where the input came from and
 * which model made it.
 */
export const OUTPUT_HEADERS = {
  contentType: 'content-type',
  sourceTopic: 'medner-source-topic',
  sourcePartition: 'medner-source-partition',
  sourceOffset: 'medner-source-offset',
  sourcePath: 'medner-source-path',
  sourceIndex: 'medner-source-index',
  modelName: 'medner-model-name',
  modelVersion: 'medner-model-version',
  documentId: 'medner-document-id',
  messageType: 'medner-message-type',
  resourceCount: 'medner-resource-count',
} as const;

export function outputRecord(
  out: Pick<DocumentOutput, 'bundle' | 'patientKey' | 'resourceIdentifiers'>,
  doc: ClinicalDocument,
  model: ModelInfo,
): { key: string; value: string; headers: Record<string, string> } {
  const h = OUTPUT_HEADERS;
  const headers: Record<string, string> = {
    [h.contentType]: 'application/fhir+json',
    [h.modelName]: model.name,
    [h.modelVersion]: model.version,
    [h.documentId]: doc.id,
    [h.messageType]: doc.messageType,
    [h.resourceCount]: String(out.resourceIdentifiers.length),
  };
  if (doc.source.kind === 'kafka') {
    headers[h.sourceTopic] = doc.source.topic;
    headers[h.sourcePartition] = String(doc.source.partition);
    headers[h.sourceOffset] = doc.source.offset;
  } else {
    headers[h.sourcePath] = doc.source.path;
    headers[h.sourceIndex] = String(doc.source.index);
  }
  return { key: out.patientKey, value: JSON.stringify(out.bundle), headers };
}
