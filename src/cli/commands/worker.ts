import type { Command } from 'commander';
import { loadConfig } from '../../config/config.ts';
import { createLogger } from '../../ops/logger.ts';
import { onShutdown } from '../../ops/shutdown.ts';
import { createStages } from '../../pipeline/stages.ts';
import { startWorkerApp, type WorkerApp, type WorkerRole } from '../../pipeline/worker-app.ts';
import { runViewer } from './view.ts';
import { MednerError } from '../../core/errors.ts';

export interface RunWorkerOptions {
  role: WorkerRole;
  http?: boolean;
  lockMs?: number;
  drainMs?: number;
  sessionMs?: number;
}

/** Starts the worker and stops it gracefully on SIGTERM/SIGINT; resolves once it runs. */
export async function runWorker(opts: RunWorkerOptions): Promise<WorkerApp> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const stages = await createStages(config, logger);
  let app: WorkerApp;
  try {
    app = await startWorkerApp({
      config,
      role: opts.role,
      logger,
      stages,
      http: opts.http ?? true,
      ...(opts.sessionMs !== undefined ? { sessionTimeoutMs: opts.sessionMs } : {}),
      ...(opts.lockMs !== undefined ? { lockDurationMs: opts.lockMs, stalledIntervalMs: Math.max(500, Math.floor(opts.lockMs / 2)) } : {}),
    });
  } catch (err) {
    await stages.close();
    throw err;
  }
  onShutdown(logger, async () => {
    await app.stop(opts.drainMs ?? 30_000);
    await stages.close();
  });
  return app;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new MednerError('USAGE', `expected a positive integer, got ${v}`);
  return n;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run the ingest side (Kafka -> queue), the inference pool (queue -> NER -> FHIR + Kafka), or both')
    .option('--role <role>', 'ingest | inference | all | view (the web viewer alone, see `medner view`)', 'all')
    .option('--no-http', 'do not serve /health, /ready and /metrics')
    .option('--lock-ms <ms>', 'job lock: a dead worker\'s jobs are retried after this long', positiveInt)
    .option('--session-ms <ms>', 'Kafka consumer session timeout (how soon a dead worker\'s partitions move)', positiveInt)
    .option('--drain-ms <ms>', 'on SIGTERM, how long to wait for in-flight documents', positiveInt)
    .action(async (o: { role: string; http: boolean; lockMs?: number; drainMs?: number; sessionMs?: number }) => {
      if (!['ingest', 'inference', 'all', 'view'].includes(o.role)) throw new MednerError('USAGE', `--role must be ingest, inference, all or view (got ${o.role})`);
      if (o.role === 'view') {
        const server = await runViewer();
        process.stderr.write(`viewer at ${server.url}/documents\n`);
        return;
      }
      await runWorker({ role: o.role as WorkerRole, http: o.http, ...(o.lockMs ? { lockMs: o.lockMs } : {}), ...(o.drainMs ? { drainMs: o.drainMs } : {}), ...(o.sessionMs ? { sessionMs: o.sessionMs } : {}) });
      // Keeps running until a signal.
    });
}
