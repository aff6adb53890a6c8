import type { Config } from '../config/config.ts';
import { ConfigError } from '../config/config.ts';
import type { ClinicalDocument, SourceFormat } from '../core/clinical-document.ts';
import { IntakeError } from './errors.ts';
import { fhirFormat } from './fhir/format.ts';
import { hl7v2Format } from './hl7v2/format.ts';
import type { InputFormat, ReadContext } from './input-format.ts';

/**
 * The input formats medner reads, in the order they are asked to recognize bytes. Adding one: a
 * module like hl7v2/format.ts exporting an InputFormat, and one line here. Everything that lists
 * formats or input topics reads them from here: intake's sniffing, the worker's subscriptions and
 * topic creation, replay's default topics, `medner send`, `medner parse --format`, `medner demo`.
 */
export const SHIPPED_FORMATS: readonly InputFormat[] = [hl7v2Format, fhirFormat];

export class InputFormats {
  private readonly byName: ReadonlyMap<string, InputFormat>;

  constructor(readonly formats: readonly InputFormat[]) {
    const names = new Map<string, InputFormat>();
    const keys = new Set<string>();
    for (const f of formats) {
      if (!/^[a-z][a-z0-9]*$/.test(f.name)) throw new TypeError(`input format name ${JSON.stringify(f.name)}: lower-case letters and digits only`);
      if (!/^[a-z][a-z0-9]*$/.test(f.topicKey)) throw new TypeError(`input format ${f.name}: topicKey ${JSON.stringify(f.topicKey)}: lower-case letters and digits only`);
      if (names.has(f.name)) throw new TypeError(`input format ${f.name} registered twice`);
      if (keys.has(f.topicKey)) throw new TypeError(`input format ${f.name}: topicKey ${f.topicKey} is another format's`);
      names.set(f.name, f);
      keys.add(f.topicKey);
    }
    this.byName = names;
  }

  /** A registry with more formats, asked after these (tests, extensions). */
  with(...more: InputFormat[]): InputFormats {
    return new InputFormats([...this.formats, ...more]);
  }

  get names(): string[] {
    return this.formats.map((f) => f.name);
  }

  get(name: string): InputFormat | undefined {
    return this.byName.get(name);
  }

  /** The format that claims these bytes, in registry order; undefined when none does. */
  recognize(raw: Uint8Array): InputFormat | undefined {
    return this.formats.find((f) => f.recognizes(raw));
  }

  /** The topic a format's records are read from: TOPIC_<KEY>_IN, else the format's default. */
  topicOf(config: Config, name: string): string {
    const f = this.get(name);
    if (!f) throw new TypeError(`no input format named ${JSON.stringify(name)}`);
    return config.topics.inputs[f.topicKey] ?? f.defaultTopic;
  }

  /** Every input topic, in registry order. */
  topics(config: Config): string[] {
    return this.formats.map((f) => this.topicOf(config, f.name));
  }

  /** The format whose input topic this is, for records read from Kafka. */
  formatOfTopic(config: Config): (topic: string) => SourceFormat | undefined {
    const m = new Map(this.formats.map((f) => [this.topicOf(config, f.name), f.name]));
    return (topic) => m.get(topic);
  }

  /**
   * Configuration problems only the registry can see: a TOPIC_<KEY>_IN that names no format (a
   * misspelt setting would otherwise leave a feed unread), two formats reading one topic.
   */
  checkConfig(config: Config): void {
    const problems: string[] = [];
    const keys = new Set(this.formats.map((f) => f.topicKey));
    for (const [key, topic] of Object.entries(config.topics.inputs)) {
      if (!keys.has(key)) problems.push(`TOPIC_${key.toUpperCase()}_IN=${JSON.stringify(topic)}: no input format reads TOPIC_${key.toUpperCase()}_IN (known: ${this.formats.map((f) => `TOPIC_${f.topicKey.toUpperCase()}_IN`).join(', ')})`);
    }
    const seen = new Map<string, string>();
    for (const f of this.formats) {
      const t = this.topicOf(config, f.name);
      const other = seen.get(t);
      if (other !== undefined) problems.push(`TOPIC_${f.topicKey.toUpperCase()}_IN=${JSON.stringify(t)}: the same topic as ${other}'s; each format needs a topic of its own`);
      seen.set(t, f.name);
    }
    if (problems.length > 0) throw new ConfigError(problems);
  }

  /**
   * Raw bytes of one Kafka record or file to normalized documents (several for a Bundle, an NDJSON
   * file, an HL7 batch or an ORU with several reports). `format` (from the topic) names the reader;
   * when absent the bytes are recognized. Throws IntakeError, never anything else: an unexpected
   * failure is wrapped as INTERNAL.
   */
  async read(raw: Uint8Array, ctx: ReadContext & { format?: SourceFormat }): Promise<ClinicalDocument[]> {
    try {
      const f = ctx.format !== undefined ? this.get(ctx.format) : this.recognize(raw);
      if (f === undefined) {
        if (ctx.format !== undefined) throw new IntakeError('INTERNAL', `no input format named ${JSON.stringify(ctx.format)}`);
        throw new IntakeError('NOT_HL7', `input is none of the formats medner reads (${this.names.join(', ')}): no MSH segment, not FHIR JSON`);
      }
      const { format: _named, ...readCtx } = ctx;
      return await f.read(raw, readCtx);
    } catch (e) {
      if (e instanceof IntakeError) throw e;
      // A bug of ours, not a property of the input: no retry helps, but do not lose the cause.
      throw new IntakeError('INTERNAL', `intake failed unexpectedly (${e instanceof Error ? e.name : typeof e})`, { cause: e });
    }
  }
}

/** The shipped formats. */
export const DEFAULT_FORMATS = new InputFormats(SHIPPED_FORMATS);

/** The input topic of a shipped format (e.g. `inputTopic(config, 'hl7v2')`: TOPIC_HL7_IN or its default). */
export function inputTopic(config: Config, format: string): string {
  return DEFAULT_FORMATS.topicOf(config, format);
}
