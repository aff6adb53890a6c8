/**
 * Before a worker starts anything: can it log in to Kafka and Redis? Wrong credentials or a TLS
 * mismatch stop it at once with an error naming the service (KAFKA_AUTH_FAILED, KAFKA_TLS_FAILED,
 * REDIS_AUTH_FAILED, REDIS_TLS_FAILED), before any consumer joins its group, so nothing is
 * consumed. A service that does not answer yet is not fatal here: the clients retry as before.
 */
import type { Config } from '../config/config.ts';
import { connectKafkaAdmin } from '../kafka/admin.ts';
import type { Logger } from '../ops/logger.ts';
import { MednerError } from '../core/errors.ts';
import { checkRedisLogin } from '../queue/redis.ts';

const FATAL = new Set(['KAFKA_AUTH_FAILED', 'KAFKA_TLS_FAILED', 'KAFKA_TLS_CONFIG', 'REDIS_AUTH_FAILED', 'REDIS_TLS_FAILED']);

export async function checkKafkaLogin(config: Config): Promise<void> {
  const admin = await connectKafkaAdmin({ ...config.kafka, clientId: `${config.kafka.clientId}-check`, probe: true });
  try {
    await admin.clusterInfo();
  } finally {
    await admin.close().catch(() => {});
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
