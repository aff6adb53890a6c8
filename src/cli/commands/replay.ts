import type { Command } from 'commander';
import { loadConfig, type Config } from '../../config/config.ts';
import { createLogger, type Logger } from '../../ops/logger.ts';
import { createStages } from '../../pipeline/stages.ts';
import { runReplay, type ReplaySummary } from '../../pipeline/replay.ts';
import { startWorkerApp, type WorkerApp } from '../../pipeline/worker-app.ts';
import type { Stages } from '../../core/ports.ts';
import { replayWorkerCount } from '../../queue/inference-queue.ts';
import { MednerError } from '../../core/errors.ts';
import { DEFAULT_FORMATS } from '../../formats/registry.ts';

function isoDate(v: string): Date {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new MednerError('USAGE', `not an ISO date-time: ${v}`);
  return d;
}

function partitionList(v: string): number[] {
  const list = v.split(',').map((s) => s.trim());
  if (list.some((p) => !/^\d+$/.test(p))) throw new MednerError('USAGE', `--partitions takes numbers like 0,1 (got ${v})`);
  return list.map(Number);
}

/** `--output`: `fhir` (transactions, the default) or `ndjson:DIR` (Bulk Data NDJSON files in DIR). */
export function outputSpec(v: string): { sink: 'fhir' } | { sink: 'ndjson'; dir: string } {
  if (v === 'fhir') return { sink: 'fhir' };
  const m = /^ndjson:(.+)$/.exec(v);
  if (!m) throw new MednerError('USAGE', `--output takes fhir or ndjson:DIR (got ${v})`);
  return { sink: 'ndjson', dir: m[1]! };
}

/** Running inference workers that serve the replay queue, so the replay does not wait on nobody. */
function workersOnQueue(config: Config): Promise<number> {
  return replayWorkerCount(config.redis.url, config.redis.queueName);
}

function printSummary(s: ReplaySummary): void {
  const secs = s.ms / 1000;
  process.stdout.write(
    `replayed ${s.records} record(s) of ${s.topic} in ${secs.toFixed(1)} s (${(s.records / Math.max(secs, 0.001)).toFixed(1)}/s), ` +
      `${s.deadLettered} dead-lettered; group ${s.group}, run ${s.run}\n`,
  );
  const c = s.changes;
  process.stdout.write(
    `FHIR resources: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.retracted} retracted (entered-in-error); ` +
      `${c.deleted} superseded Provenance deleted\n`,
  );
  for (const r of s.ranges) process.stdout.write(`  partition ${r.partition}: offsets ${r.start}..${r.end} (end exclusive)\n`);
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('re-process a range of an input topic (by time), or the dead-letter topic, at a lower priority than the live feed')
    .option('--topic <topic>', 'input topic to replay (default: both input topics)')
    .option('--from <iso>', 'first record at or after this time (default: oldest kept)', isoDate)
    .option('--to <iso>', 'stop before the first record at or after this time (default: the end as of now)', isoDate)
    .option('--partitions <list>', 'only these partitions, e.g. 0,1', partitionList)
    .option('--group <name>', 'consumer group for the replay (default: a new one per run)')
    .option('--dead-letter', 'reprocess the records on the dead-letter topic (after a fix); failures link to the original record')
    .option('--inference <mode>', 'auto: run inference in this process when no worker serves the queue; yes; no', 'auto')
    .option('--output <sink>', 'fhir (transactions) or ndjson:DIR (FHIR Bulk Data NDJSON files plus manifest.json in DIR, for $import; default: OUTPUT_SINK)', outputSpec)
    .action(async (o: { topic?: string; from?: Date; to?: Date; partitions?: number[]; group?: string; deadLetter?: boolean; inference: string; output?: ReturnType<typeof outputSpec> }) => {
      const loaded = loadConfig();
      // --output swaps the FHIR transactions for NDJSON files (or back) in the configured sinks, keeping their order.
      const swap = (from: string, to: string) => (loaded.sinks.includes(from) ? loaded.sinks.map((s) => (s === from ? to : s)) : loaded.sinks.includes(to) ? loaded.sinks : [to, ...loaded.sinks]);
      const config: Config = o.output
        ? { ...loaded, output: { ...o.output, maxFileBytes: loaded.output.maxFileBytes }, sinks: o.output.sink === 'ndjson' ? swap('fhir', 'ndjson') : swap('ndjson', 'fhir') }
        : loaded;
      const logger: Logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
      if (config.output.sink === 'ndjson') {
        // The files are written by the inference workers of THIS process: a worker elsewhere would write FHIR transactions instead.
        if (o.inference === 'no') throw new MednerError('USAGE', '--output ndjson needs inference in this process (--inference auto or yes)');
        const others = await workersOnQueue(config);
        if (others > 0) throw new MednerError('USAGE', `--output ndjson: ${others} inference worker(s) already serve the replay queue and would write FHIR transactions; stop them or use another QUEUE_NAME`);
      }
      const stages: Stages = await createStages(config, logger, { ndjsonRequest: `medner replay ${process.argv.slice(3).join(' ')}`.trim() });
      let pool: WorkerApp | undefined;
      try {
        const needPool = config.output.sink === 'ndjson' || o.inference === 'yes' || (o.inference === 'auto' && (await workersOnQueue(config)) === 0);
        if (needPool) {
          process.stderr.write('no inference worker serves the queue: starting one in this process\n');
          pool = await startWorkerApp({ config, role: 'inference', logger, stages, http: false });
        }
        const topics = o.deadLetter ? [config.topics.deadLetter] : o.topic ? [o.topic] : DEFAULT_FORMATS.topics(config);
        for (const topic of topics) {
          const summary = await runReplay({
            config,
            logger,
            stages,
            topic,
            progress: process.stderr.isTTY,
            ...(o.from ? { from: o.from } : {}),
            ...(o.to ? { to: o.to } : {}),
            ...(o.partitions ? { partitions: o.partitions } : {}),
            ...(o.group ? { group: o.group } : {}),
            ...(o.deadLetter ? { deadLetter: true } : {}),
          });
          printSummary(summary);
        }
      } finally {
        await pool?.stop();
        await stages.close();
      }
      // stages.close() closed (fsynced) the files and wrote the manifest.
      if (config.output.sink === 'ndjson') process.stdout.write(`NDJSON files and manifest.json in ${config.output.dir}\n`);
    });
}
