import { ConfigError, type Config } from '../../config/config.ts';
import type { FhirClient } from '../../fhir/fhir-client.ts';
import type { ProducerPort } from '../../kafka/client.ts';
import type { Logger } from '../../ops/logger.ts';
import type { OutputSink } from '../../core/ports.ts';
import { fhirServerSink } from './fhir-server.ts';
import { kafkaTopicSink } from './kafka-topic.ts';
import { ndjsonSink } from './ndjson.ts';

/** What a sink may use to build itself: the configuration and the process's shared clients. */
export interface SinkContext {
  config: Config;
  logger: Logger;
  /** The output producer (shared by the sinks and the dead-letter topic). */
  producer: ProducerPort;
  fhirClient: FhirClient;
  /** The NDJSON manifest's `request` (e.g. the replay command line). */
  ndjsonRequest?: string;
}

/** A named way to build an output sink from config (src/pipeline/README.md, "Output sinks"). */
export interface SinkFactory {
  readonly name: string;
  create(ctx: SinkContext): OutputSink;
}

/**
 * The output sinks medner knows, by the name OUTPUT_SINKS lists them under. Adding one: a module
 * like kafka-topic.ts exporting a SinkFactory, and one line here.
 */
export const SHIPPED_SINKS: readonly SinkFactory[] = [fhirServerSink, kafkaTopicSink, ndjsonSink];

/** The configured sinks (config.sinks: OUTPUT_SINKS, in that order), built from the registry; an unknown name is a ConfigError. */
export function buildSinks(ctx: SinkContext, registry: readonly SinkFactory[] = SHIPPED_SINKS): OutputSink[] {
  const names = ctx.config.sinks;
  const unknown = names.filter((n) => !registry.some((f) => f.name === n));
  if (unknown.length > 0) {
    throw new ConfigError([`OUTPUT_SINKS=${JSON.stringify(names.join(','))}: unknown sink ${unknown.map((n) => JSON.stringify(n)).join(', ')} (known: ${registry.map((f) => f.name).join(', ')})`]);
  }
  return names.map((n) => registry.find((f) => f.name === n)!.create(ctx));
}
