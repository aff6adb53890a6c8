/**
 * The Redis connections medner makes besides BullMQ's own: the login check before a worker starts
 * (src/pipeline/connections.ts) and the INFO probe of `medner stack` (src/stack/redis.ts). With
 * bullmq, ioredis is used only in src/queue (test/unit/seams.test.ts).
 */
import { Redis } from 'ioredis';
import { MednerError } from '../core/errors.ts';

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

/** INFO server of the Redis at `url` as key/value lines' text, or undefined when none answers within `timeoutMs`. */
export async function redisServerInfo(url: string, timeoutMs = 1_500): Promise<string | undefined> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.info('server');
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}
