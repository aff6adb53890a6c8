import type { FetchBinary } from './to-documents.ts';

/**
 * Fetches attachment.url over HTTP: relative urls ("Binary/123") resolve against the FHIR base
 * url; asks for the raw content (a FHIR Binary in JSON is unwrapped by intake if returned).
 * Non-2xx answers and timeouts throw; intake turns them into BINARY_FETCH_FAILED (retriable).
 */
export function httpBinaryFetcher(opts: { baseUrl: string; timeoutMs: number; bearerToken?: string }): FetchBinary {
  return async (url) => {
    const absolute = /^https?:\/\//i.test(url) ? url : `${opts.baseUrl.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`;
    const headers: Record<string, string> = { accept: '*/*' };
    if (opts.bearerToken) headers.authorization = `Bearer ${opts.bearerToken}`;
    const res = await fetch(absolute, { headers, signal: AbortSignal.timeout(opts.timeoutMs) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const data = Buffer.from(await res.arrayBuffer());
    const contentType = res.headers.get('content-type');
    return contentType === null ? { data } : { contentType, data };
  };
}
