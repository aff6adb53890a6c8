import { outputRecord } from '../../fhir/output-record.ts';
import type { SinkFactory } from './registry.ts';

/**
 * `kafka`: the document's transaction Bundle as one record on TOPIC_OUTPUT (acks=all; key the
 * patient's hash, so one patient's results stay ordered). At least once: a retried job publishes
 * the record again (the Bundle is the same, so a consumer applying it converges). Ready: the
 * producer connects on its first send; the broker is checked by the ingest role's `kafka` check.
 */
export const kafkaTopicSink: SinkFactory = {
  name: 'kafka',
  create({ config, producer }) {
    return {
      name: 'kafka',
      async write({ doc, output, model }) {
        await producer.send(config.topics.output, [outputRecord(output, doc, model)]);
        return {};
      },
      async ready() {
        return true;
      },
      async close() {},
    };
  },
};
