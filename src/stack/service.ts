/**
 * A local service that `medner stack up|status|down` manages. Each service is
 * started only when nothing answers at its address, and `down` stops only what
 * `up` started (pids recorded under the stack directory).
 */
import { MednerError } from '../core/errors.ts';

export interface ServiceStatus {
  name: string;
  up: boolean;
  address: string;
  version?: string;
  /** Whether this stack started it (pid file present and alive). */
  managed: boolean;
  pid?: number;
}

export interface ManagedService {
  readonly name: string;
  readonly address: string;
  /** True when something answers at the address (ours or not). */
  isUp(): Promise<boolean>;
  status(): Promise<ServiceStatus>;
  /** Resolve/build what it needs (Maven), start it detached, wait until ready. No-op when already up. */
  up(): Promise<ServiceStatus>;
  /** Stop it only if this stack started it. */
  down(): Promise<void>;
}

/** A one-line error for the user (missing Java, port taken by something else, ...). */
export class StackError extends MednerError {
  constructor(message: string) {
    super('STACK_FAILED', message);
    this.name = 'StackError';
  }
}
