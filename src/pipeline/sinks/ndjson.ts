import { NdjsonSink } from '../../fhir/ndjson-sink.ts';
import { ConfigError } from '../../config/config.ts';
import type { SinkFactory } from './registry.ts';

/**
 * `ndjson`: FHIR Bulk Data NDJSON files in NDJSON_DIR (src/fhir/ndjson-sink.ts), resolving once the
 * document's resources are fsynced; `close()` writes manifest.json. A document written again adds
 * its lines again under the same ids (an `$import` keeps the last).
 */
export const ndjsonSink: SinkFactory = {
  name: 'ndjson',
  create({ config, ndjsonRequest }) {
    const { output } = config;
    if (output.sink !== 'ndjson') throw new ConfigError(['OUTPUT_SINKS: the ndjson sink needs NDJSON_DIR']);
    const sink = new NdjsonSink({ dir: output.dir, maxFileBytes: output.maxFileBytes, request: ndjsonRequest ?? 'medner (OUTPUT_SINK=ndjson)' });
    return {
      name: 'ndjson',
      async write({ output: out }) {
        await sink.writeDocument(out.bundle);
        return {};
      },
      async ready() {
        return true;
      },
      async close() {
        await sink.close();
      },
    };
  },
};
