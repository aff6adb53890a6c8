import type { Command } from 'commander';
import { loadConfig } from '../../config/config.ts';
import { ensureTopics } from '../../ingest/topics.ts';

export function registerTopics(program: Command): void {
  program
    .command('topics')
    .description('create the project topics if absent (TOPIC_* names, TOPIC_PARTITIONS, TOPIC_REPLICATION_FACTOR)')
    .action(async () => {
      const config = loadConfig();
      const r = await ensureTopics(config);
      for (const t of r.created) process.stdout.write(`created ${t}\n`);
      for (const t of r.existing) process.stdout.write(`exists  ${t}\n`);
      if (r.deadLetterMaxBytes) {
        const d = r.deadLetterMaxBytes;
        process.stdout.write(`${config.topics.deadLetter}: max.message.bytes ${d.bytes}${d.raised ? ' (raised)' : ''}, fits inputs up to ${d.inputMaxBytes} bytes\n`);
      }
      for (const m of r.partitionMismatch) {
        process.stderr.write(`warning: topic ${m.topic} has ${m.partitions} partitions, configured ${m.expected}\n`);
      }
    });
}
