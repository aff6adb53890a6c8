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
  /** A bound on one document's work bit (issue 20): narrative_bytes, entities, spans_per_resource, transaction_*. */
  limitExceeded: Counter<'limit'>;
  /** Source spans dropped beyond MAX_SPANS_PER_RESOURCE. */
  spansDropped: Counter;
  /** Dead-letter writes that failed (each try). */
  deadLetterFailures: Counter;
  /** 1 once the consumer stopped because a record could not be dead-lettered. */
  consumerStopped: Gauge;
  /** Seconds jobs spent waiting for an unavailable FHIR server (summed over jobs). */
  fhirWaitSeconds: Counter;
  /** Seconds since the FHIR output last worked, while it does not (0 when it does). */
  fhirOutageSeconds: Gauge;
  /** 1 while the ingest consumer owns its partitions (joined its group), else 0. */
  consumerAssigned: Gauge;
  identifiersDropped: Counter<'field'>;
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
      help: 'Entity mentions that made no resource of their own, by reason (header, cue, no-known-allergy, punctuation, digits, stop-words, semantic-tag, normal-finding, notation, merged, allergy-reaction, negated-allergy)',
      labelNames: ['reason'],
      registers,
    }),
    identifiersDropped: new Counter({
      name: 'medner_identifiers_dropped_total',
      help: 'Source identifiers (or their type codes) not passed on to FHIR because they are unusable (an OID such as urn:oid:1.2, an unknown v2-0203 type), by field',
      labelNames: ['field'],
      registers,
    }),
    paused: new Gauge({ name: 'medner_ingest_paused', help: '1 while consumers are paused for backpressure', registers }),
    limitExceeded: new Counter({
      name: 'medner_limit_exceeded_total',
      help: 'Times a bound on one document bit (MAX_NARRATIVE_BYTES, MAX_ENTITIES_PER_DOCUMENT, MAX_SPANS_PER_RESOURCE, MAX_TRANSACTION_*)',
      labelNames: ['limit'],
      registers,
    }),
    spansDropped: new Counter({ name: 'medner_spans_dropped_total', help: 'Source spans dropped beyond MAX_SPANS_PER_RESOURCE', registers }),
    deadLetterFailures: new Counter({ name: 'medner_dead_letter_failures_total', help: 'Failed tries to write a dead-letter record', registers }),
    consumerStopped: new Gauge({ name: 'medner_consumer_stopped', help: '1 once the consumer stopped because a record could not be dead-lettered (the process is unhealthy)', registers }),
    fhirWaitSeconds: new Counter({ name: 'medner_fhir_wait_seconds_total', help: 'Seconds jobs spent backing off while the FHIR server was unavailable', registers }),
    fhirOutageSeconds: new Gauge({ name: 'medner_fhir_outage_seconds', help: 'Seconds since the FHIR output last worked, while it does not (0 when it does)', registers }),
    consumerAssigned: new Gauge({ name: 'medner_consumer_assigned', help: '1 while the ingest consumer is a member of its group with its partitions', registers }),
  };
}
