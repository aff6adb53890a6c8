import type { Command } from 'commander';
import { loadConfig } from '../../config/config.ts';
import { ensureTopics } from '../../ingest/topics.ts';
import { StackError, type ManagedService, type ServiceStatus } from '../../stack/service.ts';
import { stackServices } from '../../stack/stack.ts';
import { envExports, formatStatusLines } from '../../stack/status-line.ts';
import { superviseStack } from '../../stack/supervise.ts';

function select(services: ManagedService[], only: string | undefined): ManagedService[] {
  if (only === undefined) return services;
  const names = only.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !services.some((s) => s.name === n));
  if (unknown.length > 0) throw new StackError(`unknown service ${unknown.join(', ')} (known: ${services.map((s) => s.name).join(', ')})`);
  return services.filter((s) => names.includes(s.name));
}

const say = (line: string) => process.stderr.write(`${line}\n`);

export function registerStack(program: Command): void {
  const stack = program.command('stack').description('start/inspect/stop the local Kafka, Redis and FHIR server');

  stack
    .command('up')
    .description('start each service that does not answer yet, then create the topics (safe to repeat)')
    .option('--only <names>', 'comma-separated subset: kafka,redis,fhir')
    .option('--watch', 'stay in the foreground and restart a service this stack started when it dies (backoff, logged); Ctrl-C stops watching')
    .action(async (opts: { only?: string; watch?: boolean }) => {
      const config = loadConfig();
      const services = select(stackServices(config), opts.only);
      const failures: string[] = [];
      const statuses: ServiceStatus[] = [];
      for (const svc of services) {
        const t0 = Date.now();
        try {
          if (!(await svc.isUp())) say(`starting ${svc.name} at ${svc.address} ...`);
          statuses.push(await svc.up());
          say(`${svc.name} ready (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        } catch (err) {
          failures.push(`${svc.name}: ${err instanceof Error ? err.message : String(err)}`);
          statuses.push(await svc.status().catch(() => ({ name: svc.name, up: false, address: svc.address, managed: false })));
        }
      }
      const kafka = statuses.find((s) => s.name === 'kafka');
      if (kafka?.up) {
        const r = await ensureTopics(config);
        say(`topics: ${r.created.length} created, ${r.existing.length} already there`);
        for (const m of r.partitionMismatch) say(`warning: topic ${m.topic} has ${m.partitions} partitions, configured ${m.expected}`);
      }
      for (const line of formatStatusLines(statuses)) process.stdout.write(`${line}\n`);
      if (failures.length > 0) throw new StackError(failures.join('; '));
      if (opts.watch) {
        const sup = await superviseStack(services, {
          log: (e) => say(`${new Date().toISOString()} ${e.service}: ${e.event}${e.attempt ? ` (attempt ${e.attempt})` : ''}${e.backoffMs ? `, next try in ${e.backoffMs / 1000} s` : ''}${e.error ? `: ${e.error}` : ''}`),
        });
        say('watching the services this stack started; Ctrl-C stops watching (the services keep running)');
        await new Promise<void>((resolve) => {
          const keepAlive = setInterval(() => undefined, 60_000);
          process.once('SIGINT', () => (clearInterval(keepAlive), sup.stop(), resolve()));
          process.once('SIGTERM', () => (clearInterval(keepAlive), sup.stop(), resolve()));
        });
      }
    });

  stack
    .command('status')
    .description('one line per service: name, up/down, address, version, managed or external')
    .option('--env', 'print `export` lines for KAFKA_BROKERS, REDIS_URL and FHIR_BASE_URL instead (for tests)')
    .action(async (opts: { env?: boolean }) => {
      const config = loadConfig();
      if (opts.env) {
        for (const line of envExports(config)) process.stdout.write(`${line}\n`);
        return;
      }
      const statuses = await Promise.all(stackServices(config).map((s) => s.status()));
      for (const line of formatStatusLines(statuses)) process.stdout.write(`${line}\n`);
    });

  stack
    .command('down')
    .description('stop the services that `stack up` started (others are left alone)')
    .option('--only <names>', 'comma-separated subset: kafka,redis,fhir')
    .action(async (opts: { only?: string }) => {
      const config = loadConfig();
      const services = select(stackServices(config), opts.only).reverse();
      const failures: string[] = [];
      for (const svc of services) {
        try {
          const before = await svc.status();
          await svc.down();
          say(before.managed ? `${svc.name} stopped` : `${svc.name} not started by this stack: left alone`);
        } catch (err) {
          failures.push(`${svc.name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      if (failures.length > 0) throw new StackError(failures.join('; '));
    });
}
