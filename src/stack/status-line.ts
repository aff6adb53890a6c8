import type { Config } from '../config/config.ts';
import type { ServiceStatus } from './service.ts';

/** One aligned line per service: name, up/down, address, version, managed (pid) or external. */
export function formatStatusLines(statuses: ServiceStatus[]): string[] {
  const rows = statuses.map((s) => [
    s.name,
    s.up ? 'up' : 'down',
    s.address,
    s.version ?? '-',
    s.managed ? `managed${s.pid !== undefined ? ` (pid ${s.pid})` : ''}` : s.up ? 'external' : '-',
  ]);
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  '));
}

const shellQuote = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replaceAll("'", `'\\''`)}'`);

/** `export` lines that point integration tests at this stack's services. */
export function envExports(config: Config): string[] {
  return [
    ['KAFKA_BROKERS', config.kafka.brokers.join(',')],
    ['REDIS_URL', config.redis.url],
    ['FHIR_BASE_URL', config.fhir.baseUrl],
  ].map(([k, v]) => `export ${k}=${shellQuote(v ?? '')}`);
}
