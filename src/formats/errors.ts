import { MednerError, type IntakeErrorCode } from '../core/errors.ts';

const RETRIABLE: ReadonlySet<IntakeErrorCode> = new Set(['BINARY_FETCH_FAILED']);

/**
 * A typed intake failure. Messages name fields, codes and offsets only, never
 * values from the message (they end up in logs and dead-letter records).
 */
export class IntakeError extends MednerError {
  declare readonly code: IntakeErrorCode;

  constructor(code: IntakeErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(code, message, { retriable: RETRIABLE.has(code), cause: opts.cause, stage: 'intake' });
    this.name = 'IntakeError';
  }
}

export function isIntakeError(err: unknown): err is IntakeError {
  return err instanceof IntakeError;
}
