import type { Command } from 'commander';
import { loadConfig } from '../../config/config.ts';

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('validate the configuration from the environment and print it (secrets masked)')
    .action(() => {
      const c = loadConfig();
      const redisUrl = new URL(c.redis.url);
      if (redisUrl.password) redisUrl.password = '***';
      const masked = {
        ...c,
        kafka: { ...c.kafka, ...(c.kafka.sasl ? { sasl: { ...c.kafka.sasl, password: '***' } } : {}), ...(c.kafka.ssl?.keyPassword ? { ssl: { ...c.kafka.ssl, keyPassword: '***' } } : {}) },
        redis: { ...c.redis, url: redisUrl.toString() },
        fhir: { ...c.fhir, auth: c.fhir.auth.kind === 'none' ? c.fhir.auth : { kind: c.fhir.auth.kind, secret: '***' } },
        view: { ...c.view, auth: c.view.auth.kind === 'none' ? c.view.auth : { kind: c.view.auth.kind, secret: '***' } },
      };
      process.stdout.write(`${JSON.stringify(masked, null, 2)}\n`);
    });
}
