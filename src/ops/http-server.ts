/**
 * Operations endpoints on node:http: GET /health (the process is alive),
 * GET /ready (every dependency check passes), GET /metrics (Prometheus text), plus the
 * JSON routes a role adds (GET /queue: the BullMQ backlog, on ingest roles).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A named readiness check; resolves true when the dependency answers. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<boolean>;
}

export interface OpsServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function runReadiness(checks: ReadinessCheck[], timeoutMs = 3_000): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
  const results = await Promise.all(
    checks.map(async (c) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      const ok = await Promise.race([c.check().catch(() => false), timeout]);
      clearTimeout(timer);
      return [c.name, ok] as const;
    }),
  );
  return { ready: results.every(([, ok]) => ok), checks: Object.fromEntries(results) };
}

/** Extra GET endpoints answering JSON (e.g. `/queue`); a rejection answers 503. */
export type JsonRoutes = Record<string, () => Promise<unknown>>;

export async function startOpsServer(opts: { host: string; port: number; registry: Registry; checks: ReadinessCheck[]; routes?: JsonRoutes }): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, JSON.stringify({ error: 'method not allowed' }));
    if (path === '/health') return send(200, JSON.stringify({ status: 'ok' }));
    if (path === '/ready') {
      void runReadiness(opts.checks).then(
        (r) => send(r.ready ? 200 : 503, JSON.stringify({ status: r.ready ? 'ready' : 'not ready', checks: r.checks })),
        () => send(503, JSON.stringify({ status: 'not ready' })),
      );
      return;
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
