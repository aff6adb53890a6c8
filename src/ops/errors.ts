/**
 * Errors crossing a stage boundary carry a stable `code` (matched on, also
 * across processes as JSON), whether a retry can help, and the cause.
 */
export class MednerError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, opts: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'MednerError';
    this.code = code;
    this.retriable = opts.retriable ?? false;
  }

  toJSON(): { code: string; message: string; retriable: boolean } {
    return { code: this.code, message: this.message, retriable: this.retriable };
  }
}

export function isRetriable(err: unknown): boolean {
  return err instanceof MednerError ? err.retriable : false;
}

export function errorCode(err: unknown): string {
  if (err instanceof MednerError) return err.code;
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return 'INTERNAL';
}
