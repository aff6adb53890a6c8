/**
 * `medner view`: a small read-only web application over the FHIR server (node:http, no
 * framework). Pages are rendered on the server; /static/view.js adds tooltips, keyboard
 * activation and the lines between linked spans. Security: binds 127.0.0.1 unless configured,
 * optional static bearer token or basic auth (a front for the hospital's reverse proxy / SSO),
 * a strict Content-Security-Policy with no inline script or style, nothing loaded from elsewhere,
 * and logs that carry the route, status and time only (never ids, query values or text).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/config.ts';
import { FhirClient, FhirError } from '../fhir/fhir-client.ts';
import type { Logger } from '../ops/logger.ts';
import { isNotFound, TYPE_RE, validFilters, ViewReader } from './fhir-read.ts';
import { decodeCursor, documentPage, documentsPage, errorPage, patientPage, type PageContext } from './pages.ts';

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'none'; font-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const STATIC: Record<string, { file: string; type: string }> = {
  '/static/view.js': { file: 'view.js', type: 'text/javascript; charset=utf-8' },
  '/static/view.css': { file: 'view.css', type: 'text/css; charset=utf-8' },
};

export interface ViewServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface ViewServerOptions {
  config: Config;
  logger: Logger;
  /** Overrides config.view.host / port (tests: port 0). */
  host?: string;
  port?: number;
  client?: FhirClient;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** True when the request may see pages; the configured scheme only. */
export function authorized(auth: Config['view']['auth'], header: string | undefined): boolean {
  if (auth.kind === 'none') return true;
  if (!header) return false;
  if (auth.kind === 'bearer') {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    return !!m && sameSecret(m[1]!, auth.token);
  }
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!m) return false;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  // Both compared, always: no early exit that tells which half was wrong.
  const ok = sameSecret(decoded, `${auth.user}:${auth.password}`);
  return ok;
}

export async function startViewServer(o: ViewServerOptions): Promise<ViewServer> {
  const { config, logger } = o;
  const view = config.view;
  const client = o.client ?? new FhirClient({ baseUrl: config.fhir.baseUrl, timeoutMs: config.fhir.timeoutMs, auth: config.fhir.auth, maxRetries: 1 });
  const reader = new ViewReader(client, { pageSize: view.pageSize });
  const staticFiles = new Map(
    Object.entries(STATIC).map(([route, s]) => [route, { body: readFileSync(new URL(`./static/${s.file}`, import.meta.url)), type: s.type }]),
  );
  const publicBase = (view.fhirPublicUrl ?? config.fhir.baseUrl).replace(/\/+$/, '');
  const ctx: PageContext = {
    resourceUrl: (key) => (view.fhirLinks === 'proxy' ? `/fhir/${key}` : `${publicBase}/${key}`),
    fhirUrl: (key) => `${publicBase}/${key}`,
  };

  const server = http.createServer((req, res) => {
    const t0 = performance.now();
    let route = 'unknown';
    const send = (status: number, body: string | Buffer, type = 'text/html; charset=utf-8', extra: Record<string, string> = {}) => {
      res.writeHead(status, {
        'content-type': type,
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-origin',
        // Patient data: never kept by the browser or a proxy.
        'cache-control': 'no-store',
        ...extra,
      });
      res.end(body);
      logger.debug({ route, status, ms: Math.round(performance.now() - t0) }, 'view request');
    };
    const fail = (err: unknown) => {
      if (isNotFound(err)) return send(404, errorPage(404, 'Not found on the FHIR server.'));
      const code = err instanceof FhirError ? err.code : 'VIEW_INTERNAL';
      logger.warn({ route, code, status: err instanceof FhirError ? err.status : undefined }, 'view page failed');
      send(502, errorPage(502, `The FHIR server did not answer as expected (${code}).`));
    };
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://view.invalid');
    } catch {
      return send(400, errorPage(400, 'Bad request.'));
    }
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, errorPage(405, 'Only GET.'), undefined, { allow: 'GET, HEAD' });
    if (path === '/health') {
      route = 'health';
      return send(200, JSON.stringify({ status: 'ok' }), 'application/json');
    }
    if (path === '/favicon.ico') {
      route = 'favicon';
      return send(204, '');
    }
    if (path === '/ready') {
      route = 'ready';
      // Ready when the FHIR server answers (the viewer has nothing else to wait for).
      void client.get('metadata?_summary=true').then(
        () => send(200, JSON.stringify({ status: 'ready', checks: { fhir: true } }), 'application/json'),
        () => send(503, JSON.stringify({ status: 'not ready', checks: { fhir: false } }), 'application/json'),
      );
      return;
    }
    if (!authorized(view.auth, req.headers.authorization)) {
      route = 'unauthorized';
      return send(401, errorPage(401, 'Authorization required.'), undefined, view.auth.kind === 'basic' ? { 'www-authenticate': 'Basic realm="medner view", charset="UTF-8"' } : { 'www-authenticate': 'Bearer' });
    }
    const st = staticFiles.get(path);
    if (st) {
      route = 'static';
      return send(200, st.body, st.type);
    }
    if (path === '/' || path === '') {
      route = 'root';
      return send(302, '', 'text/plain', { location: '/documents' });
    }
    if (path === '/documents') {
      route = 'documents';
      const { filters, problems } = validFilters(url.searchParams);
      const c = url.searchParams.get('cursor');
      const cursor = c ? decodeCursor(c) : undefined;
      if (c && !cursor) problems.push('cursor: not a paging link of this server');
      void reader
        .listDocuments(filters, cursor)
        .then((list) => send(200, documentsPage(list, filters, problems, [])), fail);
      return;
    }
    let m = /^\/documents\/([A-Za-z0-9\-.]{1,64})$/.exec(path);
    if (m) {
      route = 'document';
      void reader.loadRun(m[1]!).then((run) => (run ? send(200, documentPage(run, ctx)) : send(404, errorPage(404, 'No such processed document.'))), fail);
      return;
    }
    m = /^\/patients\/([A-Za-z0-9\-.]{1,64})$/.exec(path);
    if (m) {
      route = 'patient';
      void reader.loadPatient(m[1]!).then((data) => (data ? send(200, patientPage(data, ctx)) : send(404, errorPage(404, 'No such patient.'))), fail);
      return;
    }
    m = /^\/fhir\/([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(path);
    if (m && TYPE_RE.test(m[1]!)) {
      route = 'fhir';
      // application/json: browsers show it (they download application/fhir+json).
      void client.read(m[1]!, m[2]!).then(
        (r) => (r ? send(200, JSON.stringify(r, null, 2), 'application/json; charset=utf-8') : send(404, errorPage(404, 'Not found on the FHIR server.'))),
        fail,
      );
      return;
    }
    send(404, errorPage(404, 'Not found.'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? view.port, o.host ?? view.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`;
  logger.info({ url, auth: view.auth.kind, fhirLinks: view.fhirLinks }, 'viewer listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
