import type { Command } from 'commander';
import { loadConfig } from '../../config/config.ts';
import { createLogger } from '../../ops/logger.ts';
import { onShutdown } from '../../ops/shutdown.ts';
import { withUsableModel } from '../../pipeline/model-fallback.ts';
import { stackUp } from '../stack-up.ts';
import { createStages } from '../../pipeline/stages.ts';
import { startWorkerApp } from '../../pipeline/worker-app.ts';
import { stackServices } from '../../stack/stack.ts';
import { superviseStack, type Supervisor } from '../../stack/supervise.ts';
import { startViewerBeside } from './view.ts';

const say = (line: string) => process.stderr.write(`${line}\n`);

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('`npm start`: the local stack up (Kafka, Redis, FHIR server), then the worker with role all, on embedded defaults')
    .option('--no-stack', 'do not start the local stack (use the configured services)')
    .option('--no-view', 'do not start the web viewer (VIEW_HOST:VIEW_PORT)')
    .action(async (o: { stack: boolean; view: boolean }) => {
      const config = await withUsableModel(loadConfig(), process.env, say);
      if (o.stack) await stackUp(config, say);
      const logger = createLogger(config.logLevel);
      const stages = await createStages(config, logger);
      const app = await startWorkerApp({ config, role: 'all', logger, stages });
      const viewer = o.view ? await startViewerBeside(config, logger, say) : undefined;
      onShutdown(logger, async () => {
        await viewer?.close();
        await app.stop();
        await stages.close();
      });
      say(`worker running: send documents with \`medner send FILE...\`; metrics at ${app.http?.url ?? '(off)'}/metrics; Ctrl-C stops`);
      if (viewer) say(`viewer at ${viewer.url}/documents`);
    });
}
