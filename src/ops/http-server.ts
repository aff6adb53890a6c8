/**
 * Operations endpoints on node:http: GET /health (the process is alive and not
 * stopped for good), GET /ready (every dependency check passed), GET /metrics
 * (Prometheus text), plus the JSON routes a role adds (GET /queue: the BullMQ
 * backlog, on ingest roles).
 *
 * /health and /ready never wait on a dependency: the checks run in the
 * background every `checkIntervalMs` (each bounded by `checkTimeoutMs`) and the
 * probes answer from the last results at once (issue 20: a probe that blocks is
 * a probe an orchestrator kills). A result older than `staleMs` counts as failed,
 * so a check loop that itself stalls turns /ready to 503.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A named readiness check; resolves true when the dependency answers. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<boolean> | boolean;
}

/** A liveness problem: a string says why the process is unhealthy (e.g. the consumer stopped for good). */
export interface HealthCheck {
  name: string;
  problem: () => string | undefined;
}

export interface OpsServer {
  readonly url: string;
  /** Runs every readiness check now and waits for the round (tests). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

export async function runReadiness(checks: ReadinessCheck[], timeoutMs = 3_000): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
  const results = await Promise.all(
    checks.map(async (c) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      const ok = await Promise.race([Promise.resolve().then(() => c.check()).catch(() => false), timeout]);
      clearTimeout(timer);
      return [c.name, ok === true] as const;
    }),
  );
  return { ready: results.every(([, ok]) => ok), checks: Object.fromEntries(results) };
}

/** The last results of the readiness checks, refreshed in the background. */
export class CheckCache {
  private last: { at: number; result: { ready: boolean; checks: Record<string, boolean> } } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly checks: ReadinessCheck[],
    private readonly opts: { intervalMs: number; timeoutMs: number; staleMs: number },
  ) {}

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.opts.intervalMs);
    this.timer.unref();
  }

  refresh(): Promise<void> {
    this.running ??= runReadiness(this.checks, this.opts.timeoutMs)
      .then((result) => void (this.last = { at: Date.now(), result }))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** Never waits: not ready before the first round or when the last one is stale. */
  snapshot(now = Date.now()): { ready: boolean; checks: Record<string, boolean>; ageMs?: number; stale?: true } {
    if (!this.last) return { ready: false, checks: Object.fromEntries(this.checks.map((c) => [c.name, false])) };
    const ageMs = now - this.last.at;
    if (ageMs > this.opts.staleMs) return { ready: false, checks: this.last.result.checks, ageMs, stale: true };
    return { ...this.last.result, ageMs };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

/** Extra GET endpoints answering JSON (e.g. `/queue`); a rejection answers 503. */
export type JsonRoutes = Record<string, () => Promise<unknown>>;

export async function startOpsServer(opts: {
  host: string;
  port: number;
  registry: Registry;
  checks: ReadinessCheck[];
  routes?: JsonRoutes;
  health?: HealthCheck[];
  /** How often the readiness checks run in the background (default 2 s). */
  checkIntervalMs?: number;
  /** Each check's own time limit (default 3 s). */
  checkTimeoutMs?: number;
}): Promise<OpsServer> {
  const intervalMs = opts.checkIntervalMs ?? 2_000;
  const timeoutMs = opts.checkTimeoutMs ?? 3_000;
  const cache = new CheckCache(opts.checks, { intervalMs, timeoutMs, staleMs: 2 * intervalMs + timeoutMs });
  cache.start();
  const server = http.createServer((req, res) => {
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, JSON.stringify({ error: 'method not allowed' }));
    if (path === '/health') {
      const problems = Object.fromEntries((opts.health ?? []).map((h) => [h.name, h.problem()] as const).filter(([, p]) => p !== undefined));
      const ok = Object.keys(problems).length === 0;
      return send(ok ? 200 : 503, JSON.stringify(ok ? { status: 'ok' } : { status: 'unhealthy', problems }));
    }
    if (path === '/ready') {
      const r = cache.snapshot();
      return send(r.ready ? 200 : 503, JSON.stringify({ status: r.ready ? 'ready' : 'not ready', checks: r.checks, ...(r.ageMs !== undefined ? { ageMs: r.ageMs } : {}), ...(r.stale ? { stale: true } : {}) }));
    }
    if (path === '/metrics') {
      void opts.registry.metrics().then(
        (text) => send(200, text, opts.registry.contentType),
        () => send(500, JSON.stringify({ error: 'metrics unavailable' })),
      );
      return;
    }
    const route = path !== undefined && opts.routes && Object.hasOwn(opts.routes, path) ? opts.routes[path] : undefined;
    if (route) {
      void route().then(
        (body: unknown) => send(200, JSON.stringify(body)),
        () => send(503, JSON.stringify({ error: 'unavailable' })),
      );
      return;
    }
    send(404, JSON.stringify({ error: 'not found' }));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => resolve());
    });
  } catch (err) {
    cache.stop();
    throw err;
  }
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`,
    refresh: () => cache.refresh(),
    close: () =>
      new Promise<void>((resolve) => {
        cache.stop();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
