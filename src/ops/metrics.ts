/**
 * The pipeline's Prometheus metrics, in a registry of their own (one per
 * process; tests create their own). Labels never carry patient data.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface PipelineMetrics {
  registry: Registry;
  documentsIn: Counter<'topic'>;
  documentsOut: Counter<'format'>;
  deadLettered: Counter<'stage' | 'reason'>;
  queueDepth: Gauge;
  batchSize: Histogram;
  inferenceMs: Histogram;
  endToEndSeconds: Histogram<'feed'>;
  consumerLag: Gauge<'topic' | 'partition'>;
  paused: Gauge;
  mentionsDropped: Counter<'reason'>;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): PipelineMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'medner_' });
  const registers = [registry];
  return {
    registry,
    documentsIn: new Counter({ name: 'medner_documents_in_total', help: 'Kafka records read by the ingest side', labelNames: ['topic'], registers }),
    documentsOut: new Counter({
      name: 'medner_documents_out_total',
      help: 'Documents whose outputs were durably written (FHIR committed, output topic acknowledged)',
      labelNames: ['format'],
      registers,
    }),
    deadLettered: new Counter({
      name: 'medner_documents_dead_lettered_total',
      help: 'Records written to the dead-letter topic, by stage and error code',
      labelNames: ['stage', 'reason'],
      registers,
    }),
    queueDepth: new Gauge({ name: 'medner_queue_depth', help: 'Inference jobs not finished (waiting, prioritized, delayed, active)', registers }),
    batchSize: new Histogram({
      name: 'medner_inference_batch_size',
      help: 'Documents per NER batch',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    }),
    inferenceMs: new Histogram({
      name: 'medner_inference_batch_ms',
      help: 'Milliseconds per NER batch',
      buckets: [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000],
      registers,
    }),
    endToEndSeconds: new Histogram({
      name: 'medner_end_to_end_seconds',
      help: 'From the Kafka record timestamp to the outputs being durably written',
      labelNames: ['feed'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    consumerLag: new Gauge({ name: 'medner_consumer_lag', help: 'Records behind the end of each input partition (committed offsets)', labelNames: ['topic', 'partition'], registers }),
    mentionsDropped: new Counter({
      name: 'medner_mentions_dropped_total',
      help: 'Entity mentions that made no resource of their own, by reason (header, cue, no-known-allergy, punctuation, digits, stop-words, semantic-tag, merged, allergy-reaction, negated-allergy)',
      labelNames: ['reason'],
      registers,
    }),
    paused: new Gauge({ name: 'medner_ingest_paused', help: '1 while consumers are paused for backpressure', registers }),
  };
}
