import { pino, type Logger } from 'pino';

/**
 * Structured JSON logs. Never pass patient text or identifiers here:
 * log document ids we mint, topic/partition/offset, counts and timings.
 */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', name = 'medner'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination(2));
}

export type { Logger };
