import { StackError } from './service.ts';

/** Parses Redis INFO output (`key:value` lines, `# Section` headers) into a map. */
export function parseRedisInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    if (raw === '' || raw.startsWith('#')) continue;
    const i = raw.indexOf(':');
    if (i <= 0) continue;
    out.set(raw.slice(0, i), raw.slice(i + 1).trim());
  }
  return out;
}

/** host and port of a redis:// or rediss:// URL (port 6379 when absent). */
export function redisAddress(url: string): { host: string; port: number } {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new StackError(`expected a redis:// URL, got ${u.protocol}`);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port === '' ? 6379 : Number(u.port) };
}
