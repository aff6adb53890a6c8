import type { Command } from 'commander';
import { loadConfig } from '../../config/config.ts';
import { createLogger } from '../../ops/logger.ts';
import { onShutdown } from '../../ops/shutdown.ts';
import { withUsableModel } from '../../pipeline/model-fallback.ts';
import { stackUp } from '../../pipeline/stack-up.ts';
import { createStages } from '../../pipeline/stages.ts';
import { startWorkerApp } from '../../pipeline/worker-app.ts';

const say = (line: string) => process.stderr.write(`${line}\n`);

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('`npm start`: the local stack up (Kafka, Redis, FHIR server), then the worker with role all, on embedded defaults')
    .option('--no-stack', 'do not start the local stack (use the configured services)')
    .action(async (o: { stack: boolean }) => {
      const config = await withUsableModel(loadConfig(), process.env, say);
      if (o.stack) await stackUp(config, say);
      const logger = createLogger(config.logLevel);
      const stages = await createStages(config, logger);
      const app = await startWorkerApp({ config, role: 'all', logger, stages });
      onShutdown(logger, async () => {
        await app.stop();
        await stages.close();
      });
      say(`worker running: send documents with \`medner send FILE...\`; metrics at ${app.http?.url ?? '(off)'}/metrics; Ctrl-C stops`);
    });
}
