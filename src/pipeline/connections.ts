/**
 * Before a worker starts anything: can it log in to Kafka and Redis? Wrong credentials or a TLS
 * mismatch stop it at once with an error naming the service (KAFKA_AUTH_FAILED, KAFKA_TLS_FAILED,
 * REDIS_AUTH_FAILED, REDIS_TLS_FAILED), before any consumer joins its group, so nothing is
 * consumed. A service that does not answer yet is not fatal here: the clients retry as before.
 */
import { Redis } from 'ioredis';
import type { Config } from '../config/config.ts';
import { connectKafkaAdmin } from '../ingest/kafka-admin.ts';
import type { Logger } from '../ops/logger.ts';
import { MednerError } from '../core/errors.ts';

const FATAL = new Set(['KAFKA_AUTH_FAILED', 'KAFKA_TLS_FAILED', 'KAFKA_TLS_CONFIG', 'REDIS_AUTH_FAILED', 'REDIS_TLS_FAILED']);

export async function checkKafkaLogin(config: Config): Promise<void> {
  const admin = await connectKafkaAdmin({ ...config.kafka, clientId: `${config.kafka.clientId}-check`, probe: true });
  try {
    await admin.clusterInfo();
  } finally {
    await admin.close().catch(() => {});
  }
}

/** host:port of a Redis URL, never its password. */
export function redisWhere(url: string): string {
  const u = new URL(url);
  return `Redis at ${u.protocol === 'rediss:' ? 'rediss' : 'redis'}://${u.hostname}:${u.port || 6379}`;
}

export async function checkRedisLogin(url: string, timeoutMs = 5000): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: timeoutMs, retryStrategy: () => null, enableOfflineQueue: false });
  // A rejected AUTH arrives as an 'error' event, and connect() may then never settle: keep the
  // event's error and give up after timeoutMs.
  let seen: unknown;
  redis.on('error', (e: unknown) => (seen ??= e));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await redis.connect();
        await redis.ping();
      })(),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
    ]);
  } catch (caught) {
    const err = seen ?? caught;
    const msg = err instanceof Error ? err.message : String(err);
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (/WRONGPASS|NOAUTH|invalid password|invalid username-password|AUTH/i.test(msg)) {
      throw new MednerError('REDIS_AUTH_FAILED', `${redisWhere(url)} rejected the login (${msg.split('\n')[0]}): check the password in REDIS_URL or REDIS_PASSWORD`, { cause: err });
    }
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_SSL|ERR_TLS|EPROTO|ALTNAME/i.test(`${code} ${msg}`)) {
      throw new MednerError('REDIS_TLS_FAILED', `${redisWhere(url)}: TLS failed (${code || msg}); a private CA goes in NODE_EXTRA_CA_CERTS`, { cause: err });
    }
    throw new MednerError('REDIS_UNREACHABLE', `${redisWhere(url)} did not answer: ${msg}`, { retriable: true, cause: err });
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

/** Both checks; credentials and TLS problems throw, unreachable services are logged and left to the clients' retries. */
export async function checkLogins(config: Config, logger: Logger): Promise<void> {
  const results = await Promise.allSettled([checkKafkaLogin(config), checkRedisLogin(config.redis.url)]);
  for (const r of results) {
    if (r.status === 'fulfilled') continue;
    const err = r.reason;
    if (err instanceof MednerError && FATAL.has(err.code)) throw err;
    logger.warn({ code: err instanceof MednerError ? err.code : 'INTERNAL', err: err instanceof Error ? err.message : String(err) }, 'a service did not answer at start; its client keeps trying');
  }
}
