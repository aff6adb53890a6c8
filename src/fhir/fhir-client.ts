import type * as fhir4 from 'fhir/r4.js';
import type { Config } from '../config/config.ts';
import { MednerError, type ErrorCode } from '../core/errors.ts';
import { LimitError } from './bounds.ts';

/**
 * The one module that talks HTTP to the FHIR server. Classifies every failure
 * once into a MednerError:
 *   FHIR_UNAVAILABLE       retriable: 429, 5xx, 409 (concurrent create of one id, or conditional create), timeouts, network errors, after our own retries
 *   FHIR_REQUEST_TOO_LARGE not retriable: 413 (the request is over the server's size limit)
 *   FHIR_MULTIPLE_MATCHES  not retriable: 412 (a conditional create or update matched several resources)
 *   FHIR_REJECTED          not retriable: other 4xx; carries the server's OperationOutcome
 *   FHIR_AUTH              not retriable: the token endpoint refused our client credentials
 */

export interface FhirClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8080/fhir (trailing slashes ignored). */
  baseUrl: string;
  /** Per-request timeout, milliseconds. */
  timeoutMs: number;
  auth: Config['fhir']['auth'];
  /** Retries after the first attempt for retriable failures (default 4). */
  maxRetries?: number;
  /** First backoff in ms (default 200); doubles per retry, capped at maxBackoffMs, full jitter. */
  baseBackoffMs?: number;
  /** Backoff cap in ms (default 5000). */
  maxBackoffMs?: number;
  /** For tests: a fetch to use instead of the global one. */
  fetchImpl?: typeof fetch;
  /** For tests: how to wait between retries. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Readiness: does the FHIR server at `baseUrl` answer its metadata (one bare request, no auth and no
 * retries, as a load balancer would ask)?
 */
export async function fhirAnswers(baseUrl: string, timeoutMs = 3_000): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/metadata?_summary=true`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** The CapabilityStatement's software.version, or undefined when no FHIR server answers at baseUrl (a bare probe: `medner stack`). */
export async function fhirServerVersion(baseUrl: string, timeoutMs = 5_000): Promise<{ version?: string } | undefined> {
  try {
    const res = await fetch(`${baseUrl.replace(/\/+$/, '')}/metadata`, {
      headers: { accept: FHIR_JSON },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { resourceType?: string; software?: { version?: string } };
    if (body.resourceType !== 'CapabilityStatement') return undefined;
    return body.software?.version ? { version: body.software.version } : {};
  } catch {
    return undefined;
  }
}

/** A FHIR HTTP failure: MednerError plus the HTTP status and the server's OperationOutcome when it sent one. */
export class FhirError extends MednerError {
  readonly status: number | undefined;
  /** May quote submitted content: put it in dead-letter records, never in logs. */
  readonly outcome: fhir4.OperationOutcome | undefined;
  /** The server's Retry-After, when it sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { retriable?: boolean; cause?: unknown; status?: number; outcome?: fhir4.OperationOutcome; retryAfterMs?: number } = {},
  ) {
    super(code, message, opts);
    this.name = 'FhirError';
    this.status = opts.status;
    this.outcome = opts.outcome;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

const FHIR_JSON = 'application/fhir+json';

export class FhirClient {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private token: { value: string; expiresAt: number } | undefined;

  constructor(private readonly opts: FhirClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = opts.fetchImpl ?? fetch;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /**
   * POST a transaction (or batch) Bundle to the base; returns the response Bundle. Callers need only
   * each entry's `response` (status, location, etag): `Prefer: return=minimal` asks servers whose
   * default is to echo every resource back not to (HAPI's default already leaves them out), and a
   * reply that small is not worth compressing (undici's fetch asks for gzip unless told otherwise).
   */
  async transaction(bundle: fhir4.Bundle): Promise<fhir4.Bundle> {
    return (await this.request('POST', '', bundle, { prefer: 'return=minimal', 'accept-encoding': 'identity' })) as fhir4.Bundle;
  }

  /**
   * POST [type]/[id]/$meta-delete: removes tags / security labels from a resource's current version
   * (no new version). HAPI carries tags forward on update, so a PUT cannot remove them.
   */
  async metaDelete(resourceType: string, id: string, meta: fhir4.Meta): Promise<void> {
    await this.request('POST', `${resourceType}/${encodeURIComponent(id)}/$meta-delete`, {
      resourceType: 'Parameters',
      parameter: [{ name: 'meta', valueMeta: meta }],
    });
  }

  /** GET [type]/[id]; undefined when the server says 404 or 410 (gone). */
  async read<T extends fhir4.Resource = fhir4.Resource>(resourceType: string, id: string): Promise<T | undefined> {
    try {
      return (await this.request('GET', `${resourceType}/${encodeURIComponent(id)}`)) as T;
    } catch (err) {
      if (err instanceof FhirError && (err.status === 404 || err.status === 410)) return undefined;
      throw err;
    }
  }

  /** GET [type]?params, following `next` links; returns the matching resources (not outcomes; includes only with `includes: true`). */
  async search<T extends fhir4.Resource = fhir4.Resource>(
    resourceType: string,
    params: Record<string, string> | URLSearchParams = {},
    opts: { maxPages?: number; includes?: boolean } = {},
  ): Promise<T[]> {
    const query = new URLSearchParams(params).toString();
    let path: string | undefined = `${resourceType}${query ? `?${query}` : ''}`;
    const out: T[] = [];
    for (let page = 0; path !== undefined && page < (opts.maxPages ?? 100); page++) {
      const bundle = (await this.request('GET', path)) as fhir4.Bundle;
      for (const e of bundle.entry ?? []) {
        if (!e.resource) continue;
        const mode = e.search?.mode ?? 'match';
        if ((mode === 'match' && e.resource.resourceType === resourceType) || (opts.includes && mode === 'include')) out.push(e.resource as T);
      }
      const next = bundle.link?.find((l) => l.relation === 'next')?.url;
      path = next;
    }
    return out;
  }

  /**
   * GET an attachment url (DocumentReference/DiagnosticReport attachment.url): a relative url
   * ("Binary/123") resolves against the FHIR base. Credentials (static bearer or OAuth2 client
   * credentials, refreshed once on a 401) go only to the FHIR server's own origin, never to another
   * host an attachment names. Returns the raw bytes and content type (a Binary in JSON is left for
   * intake to unwrap). Failures are FhirError: FHIR_UNAVAILABLE (retriable: network, timeout, 429,
   * 5xx) or FHIR_REJECTED (other statuses).
   */
  async readAttachment(url: string, opts: { maxBytes?: number } = {}): Promise<{ contentType?: string; data: Buffer }> {
    const absolute = /^https?:\/\//i.test(url) ? url : `${this.base}/${url.replace(/^\/+/, '')}`;
    const sameOrigin = new URL(absolute).origin === new URL(this.base).origin;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept: '*/*' };
      const auth = sameOrigin ? await this.authorization() : undefined;
      if (auth) headers.authorization = auth;
      let res: Response;
      try {
        res = await this.fetchImpl(absolute, { headers, signal: AbortSignal.timeout(this.opts.timeoutMs) });
      } catch (err) {
        throw new FhirError('FHIR_UNAVAILABLE', `attachment GET ${describe(absolute)}: network error or timeout`, { retriable: true, cause: err });
      }
      if (res.status === 401 && auth && this.opts.auth.kind === 'oauth2' && attempt === 0) {
        this.token = undefined; // expired or revoked: one fresh token
        await res.arrayBuffer().catch(() => undefined);
        continue;
      }
      if (!res.ok) {
        await res.arrayBuffer().catch(() => undefined);
        const retriable = res.status === 429 || res.status >= 500;
        throw new FhirError(retriable ? 'FHIR_UNAVAILABLE' : 'FHIR_REJECTED', `attachment GET ${describe(absolute)}: HTTP ${res.status}`, { retriable, status: res.status });
      }
      const data = opts.maxBytes === undefined ? Buffer.from(await res.arrayBuffer()) : await readBounded(res, opts.maxBytes);
      const contentType = res.headers.get('content-type');
      return contentType === null ? { data } : { contentType, data };
    }
  }

  /**
   * GET one page: a path relative to the base (`Type?params`, `Type/id/_history/v`) or an absolute
   * URL under the base (a paging link). Returns the JSON body (a Bundle for searches, includes kept).
   */
  async get<T = unknown>(path: string, opts: { headers?: Record<string, string> } = {}): Promise<T> {
    return (await this.request('GET', path, undefined, opts.headers)) as T;
  }

  /** PUT [type]/[id] of `resource` (an update, or a create with our id); returns the stored resource. */
  async update<T extends fhir4.Resource = fhir4.Resource>(resource: T & { id: string }): Promise<T> {
    return (await this.request('PUT', `${resource.resourceType}/${encodeURIComponent(resource.id)}`, resource)) as T;
  }

  /** The base URL, without a trailing slash. */
  get baseUrl(): string {
    return this.base;
  }

  /** One request with retries. `path` is relative to the base, or an absolute URL the server gave us (paging links). */
  private async request(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<unknown> {
    const maxRetries = this.opts.maxRetries ?? 4;
    let lastError: FhirError | undefined;
    let refreshedToken = false;
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      if (attempt > 0) await this.sleep(this.backoff(attempt, lastError));
      try {
        return await this.once(method, path, body, extraHeaders);
      } catch (err) {
        if (!(err instanceof FhirError)) throw err;
        // An expired or revoked OAuth token: fetch a new one once, without counting it as a retry.
        if (err.status === 401 && err.code !== 'FHIR_AUTH' && this.opts.auth.kind === 'oauth2' && !refreshedToken) {
          refreshedToken = true;
          this.token = undefined;
          attempt--;
          lastError = undefined;
          continue;
        }
        if (!err.retriable) throw err;
        lastError = err;
      }
    }
    throw new FhirError('FHIR_UNAVAILABLE', `FHIR ${method} ${describe(path)} failed after ${maxRetries + 1} attempts: ${lastError?.message ?? 'unknown'}`, {
      retriable: true,
      cause: lastError,
      ...(lastError?.status !== undefined ? { status: lastError.status } : {}),
      ...(lastError?.outcome ? { outcome: lastError.outcome } : {}),
    });
  }

  private backoff(attempt: number, err: FhirError | undefined): number {
    const retryAfter = err?.retryAfterMs;
    const cap = Math.min(this.opts.maxBackoffMs ?? 5000, (this.opts.baseBackoffMs ?? 200) * 2 ** (attempt - 1));
    const jittered = Math.random() * cap;
    return retryAfter !== undefined ? Math.max(retryAfter, jittered) : jittered;
  }

  private async once(method: string, path: string, body: unknown, extraHeaders: Record<string, string>): Promise<unknown> {
    const url = /^https?:\/\//.test(path) ? path : `${this.base}/${path}`;
    const headers: Record<string, string> = { accept: FHIR_JSON, ...extraHeaders };
    if (body !== undefined) headers['content-type'] = FHIR_JSON;
    const auth = await this.authorization();
    if (auth) headers.authorization = auth;
    let res: Response;
    try {
      res = await this.fetchImpl(url, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (err) {
      const timeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      throw new FhirError('FHIR_UNAVAILABLE', `FHIR ${method} ${describe(path)}: ${timeout ? `timed out after ${this.opts.timeoutMs} ms` : 'network error'}`, {
        retriable: true,
        cause: err,
      });
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new FhirError('FHIR_UNAVAILABLE', `FHIR ${method} ${describe(path)}: response body lost (${res.status})`, { retriable: true, cause: err });
    }
    const json = parseJson(text);
    if (res.ok) {
      if (json === undefined) throw new FhirError('FHIR_REJECTED', `FHIR ${method} ${describe(path)}: ${res.status} without a JSON body`, { status: res.status });
      return json;
    }
    const outcome = isOutcome(json) ? json : undefined;
    const status = res.status;
    const what = `FHIR ${method} ${describe(path)}: HTTP ${status}${outcome ? ` (${summarizeOutcome(outcome)})` : ''}`;
    if (status === 429 || status >= 500 || status === 409) {
      const ra = retryAfterMs(res.headers.get('retry-after'));
      throw new FhirError('FHIR_UNAVAILABLE', what, { retriable: true, status, ...(outcome ? { outcome } : {}), ...(ra !== undefined ? { retryAfterMs: ra } : {}) });
    }
    // The server's request-size limit (deploy/fhir-server answers 413): the same request will never fit.
    if (status === 413) throw new FhirError('FHIR_REQUEST_TOO_LARGE', what, { status, ...(outcome ? { outcome } : {}) });
    if (status === 412) throw new FhirError('FHIR_MULTIPLE_MATCHES', what, { status, ...(outcome ? { outcome } : {}) });
    throw new FhirError('FHIR_REJECTED', what, { status, ...(outcome ? { outcome } : {}) });
  }

  private async authorization(): Promise<string | undefined> {
    const auth = this.opts.auth;
    if (auth.kind === 'none') return undefined;
    if (auth.kind === 'bearer') return `Bearer ${auth.token}`;
    if (this.token && Date.now() < this.token.expiresAt) return `Bearer ${this.token.value}`;
    this.token = await this.fetchToken(auth);
    return `Bearer ${this.token.value}`;
  }

  /** OAuth2 client credentials (RFC 6749 4.4); the token is cached until 30 s before it expires. */
  private async fetchToken(auth: Extract<Config['fhir']['auth'], { kind: 'oauth2' }>): Promise<{ value: string; expiresAt: number }> {
    let res: Response;
    try {
      res = await this.fetchImpl(auth.tokenUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (err) {
      throw new FhirError('FHIR_UNAVAILABLE', 'OAuth2 token endpoint unreachable', { retriable: true, cause: err });
    }
    const body = parseJson(await res.text().catch(() => '')) as { access_token?: unknown; expires_in?: unknown } | undefined;
    if (!res.ok || typeof body?.access_token !== 'string') {
      const retriable = res.status === 429 || res.status >= 500;
      throw new FhirError(retriable ? 'FHIR_UNAVAILABLE' : 'FHIR_AUTH', `OAuth2 token request failed: HTTP ${res.status}`, { retriable, status: res.status });
    }
    const ttlS = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in ?? 300);
    return { value: body.access_token, expiresAt: Date.now() + Math.max(0, (Number.isFinite(ttlS) ? ttlS : 300) - 30) * 1000 };
  }
}

/** A response body, failing with DOCUMENT_TOO_LARGE as soon as it passes `maxBytes` (declared or read). */
async function readBounded(res: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new LimitError('DOCUMENT_TOO_LARGE', 'attachment_bytes', declared, maxBytes);
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    // Throwing leaves the loop, which cancels the stream.
    if (total > maxBytes) throw new LimitError('DOCUMENT_TOO_LARGE', 'attachment_bytes', total, maxBytes);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isOutcome(x: unknown): x is fhir4.OperationOutcome {
  return typeof x === 'object' && x !== null && (x as { resourceType?: unknown }).resourceType === 'OperationOutcome';
}

const SEVERITY_RANK: Record<string, number> = { fatal: 0, error: 1, warning: 2, information: 3 };
/** Errors (and fatal issues) shown in a message at most; without any error, the first SUMMARY_WARNINGS other issues. */
const SUMMARY_ERRORS = 20;
const SUMMARY_WARNINGS = 3;
const MESSAGE_ID_URL = 'http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id';

/**
 * The issues of an OperationOutcome for a message: every fatal/error issue (up to SUMMARY_ERRORS), or
 * when there is none the first SUMMARY_WARNINGS warnings, and how many issues were left out (a 422's
 * warnings, e.g. dom-6, used to hide its errors). Per issue: severity/code, the element path (without the `Type/id` comments HAPI
 * puts in it), the validator's message id and the HAPI message number. Never the diagnostics text: it
 * can quote submitted (patient) content.
 */
export function summarizeOutcome(o: fhir4.OperationOutcome): string {
  const issues = [...(o.issue ?? [])].sort((a, b) => (SEVERITY_RANK[a.severity] ?? 4) - (SEVERITY_RANK[b.severity] ?? 4));
  const errors = issues.filter((i) => i.severity === 'fatal' || i.severity === 'error');
  const shown = errors.length > 0 ? errors.slice(0, SUMMARY_ERRORS) : issues.slice(0, SUMMARY_WARNINGS);
  const parts = shown.map((i) => {
    const where = (i.expression?.[0] ?? i.location?.[0])?.replace(/\/\*.*?\*\//g, '').replace(/\s+/g, '');
    const msgId = i.extension?.find((e) => e.url === MESSAGE_ID_URL)?.valueString;
    const hapi = /HAPI-\d+/.exec(i.diagnostics ?? '')?.[0];
    return [`${i.severity}/${i.code}`, where, msgId && /^[\w.-]{1,80}$/.test(msgId) ? `[${msgId}]` : undefined, hapi].filter(Boolean).join(' ');
  });
  const left = issues.length - shown.length;
  if (left > 0) {
    const leftErrors = errors.length - Math.min(errors.length, SUMMARY_ERRORS);
    parts.push(`+${left} more${leftErrors > 0 ? ` (${leftErrors} errors)` : ''}`);
  }
  return parts.join('; ');
}

/** The resource type part of a path, for messages: no ids or search values (they can identify a patient). */
function describe(path: string): string {
  if (path === '') return '[base]';
  const p = path.replace(/^https?:\/\/[^/]+/, '');
  const type = /^\/?(?:[^?]*\/)?([A-Z][A-Za-z]+)(?:[/?]|$)/.exec(p)?.[1];
  return type ?? '[url]';
}

function retryAfterMs(h: string | null): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.min(60_000, Math.max(0, s * 1000));
  const d = Date.parse(h);
  return Number.isNaN(d) ? undefined : Math.min(60_000, Math.max(0, d - Date.now()));
}
