import { FhirServerWriter } from '../../fhir/fhir-writer.ts';
import { fhirAnswers } from '../../fhir/fhir-client.ts';
import type { SinkFactory } from './registry.ts';

/**
 * `fhir`: one transaction per document to the FHIR server (src/fhir/fhir-writer.ts: only what
 * changed, by deterministic ids, so writing a document again is a no-op). Its result carries what
 * the write changed. Ready while the server answers `/metadata`.
 */
export const fhirServerSink: SinkFactory = {
  name: 'fhir',
  create({ config, fhirClient }) {
    const writer = new FhirServerWriter(fhirClient, { alwaysReconcile: config.fhir.reconcile === 'full' });
    return {
      name: 'fhir',
      async write({ doc, output }) {
        const w = await writer.writeDocument(doc, output);
        return { changes: { created: w.created, updated: w.updated, unchanged: w.unchanged, retracted: w.retracted, deleted: w.deleted } };
      },
      ready: () => fhirAnswers(config.fhir.baseUrl),
      async close() {},
    };
  },
};
