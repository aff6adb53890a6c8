/**
 * Reading a dead-letter record back for `medner replay --dead-letter`: the
 * original bytes, where they came from, and the record id to link to. Pure.
 */
import type { SourceCoordinates, SourceFormat } from '../core/clinical-document.ts';
import type { ConsumedMessage } from '../kafka/client.ts';

export interface UnwrappedDeadLetter {
  id: string;
  raw: Buffer;
  source: SourceCoordinates;
  format?: SourceFormat;
  headers: Record<string, string>;
}

export function unwrapDeadLetter(m: Pick<ConsumedMessage, 'value'>, formatOfTopic: (topic: string) => SourceFormat | undefined): UnwrappedDeadLetter | undefined {
  try {
    const rec = JSON.parse(m.value?.toString('utf8') ?? '') as {
      schemaVersion?: number;
      id?: unknown;
      payload?: unknown;
      source?: SourceCoordinates;
      headers?: Record<string, string>;
      payloadLocation?: string;
    };
    // A claim check: the bytes are in the source record, not here (not replayable from the dead-letter topic).
    if (rec.payloadLocation === 'source-record') return undefined;
    if (rec.schemaVersion !== 1 || typeof rec.id !== 'string' || typeof rec.payload !== 'string' || typeof rec.source !== 'object' || rec.source === null) return undefined;
    const format = rec.source.kind === 'kafka' ? formatOfTopic(rec.source.topic) : undefined;
    return { id: rec.id, raw: Buffer.from(rec.payload, 'base64'), source: rec.source, ...(format ? { format } : {}), headers: rec.headers ?? {} };
  } catch {
    return undefined;
  }
}
