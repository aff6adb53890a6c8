/**
 * Keeps the services `medner stack up` started running (issue 20): a service this stack
 * started whose process has died (an OOM exit of the FHIR server with
 * -XX:+ExitOnOutOfMemoryError, a crash, a kill) is started again, with exponential backoff
 * between failed starts, and every restart is logged. Services this stack did not start
 * are never touched. Runs inside `medner start` and `medner stack up --watch`.
 */
import type { ManagedService } from './service.ts';

export interface SuperviseOptions {
  /** How often each service is looked at (default 5 s). */
  intervalMs?: number;
  /** First wait after a failed restart (default 1 s); doubles per failure up to maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  log: (event: { service: string; event: 'died' | 'restarting' | 'restarted' | 'restart-failed'; attempt?: number; backoffMs?: number; error?: string }) => void;
  now?: () => number;
}

export interface Supervisor {
  /** One pass over the services (the timer calls it; tests call it directly). */
  tick(): Promise<void>;
  /** Restarts done so far, per service. */
  readonly restarts: Map<string, number>;
  stop(): void;
}

/** Wait before restart attempt `failures + 1` after `failures` failed starts in a row. */
export function restartBackoffMs(failures: number, base = 1_000, max = 60_000): number {
  return failures <= 0 ? 0 : Math.min(max, base * 2 ** (failures - 1));
}

/**
 * Watches `services` that are managed (started by this stack) now; `alive` says whether a
 * service's own process is still running (its pid file's process).
 */
export async function superviseStack(services: ManagedService[], opts: SuperviseOptions): Promise<Supervisor> {
  const now = opts.now ?? Date.now;
  const watched: ManagedService[] = [];
  for (const s of services) if ((await s.status().catch(() => undefined))?.managed) watched.push(s);
  const state = new Map<string, { failures: number; notBefore: number; down: boolean }>();
  const restarts = new Map<string, number>();
  let busy: Promise<void> | undefined;

  const check = async (s: ManagedService) => {
    const st = state.get(s.name) ?? { failures: 0, notBefore: 0, down: false };
    state.set(s.name, st);
    const status = await s.status().catch(() => undefined);
    // Ours and alive, or answering (someone else's, or ours still starting): nothing to do.
    if (status?.managed || status?.up) {
      st.down = false;
      return;
    }
    if (!st.down) {
      st.down = true;
      opts.log({ service: s.name, event: 'died' });
    }
    if (now() < st.notBefore) return;
    const attempt = st.failures + 1;
    opts.log({ service: s.name, event: 'restarting', attempt });
    try {
      await s.up();
      st.failures = 0;
      st.down = false;
      restarts.set(s.name, (restarts.get(s.name) ?? 0) + 1);
      opts.log({ service: s.name, event: 'restarted', attempt });
    } catch (err) {
      st.failures++;
      const backoffMs = restartBackoffMs(st.failures, opts.baseBackoffMs, opts.maxBackoffMs);
      st.notBefore = now() + backoffMs;
      opts.log({ service: s.name, event: 'restart-failed', attempt, backoffMs, error: err instanceof Error ? err.message.split('\n')[0] : String(err) });
    }
  };

  const tick = () => {
    busy ??= (async () => {
      for (const s of watched) await check(s);
    })().finally(() => (busy = undefined));
    return busy;
  };
  const timer = setInterval(() => void tick(), opts.intervalMs ?? 5_000);
  timer.unref();
  return { tick, restarts, stop: () => clearInterval(timer) };
}
