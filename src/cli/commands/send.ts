import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.ts';
import { createKafka, createProducer } from '../../kafka/client.ts';
import { documentsFromFile } from '../../ingest/outgoing-documents.ts';
import { createLogger } from '../../ops/logger.ts';
import { inputTopic } from '../../formats/registry.ts';

export function registerSend(program: Command): void {
  program
    .command('send')
    .description('put documents on their format\'s input topic (HL7 v2 -> TOPIC_HL7_IN, FHIR JSON -> TOPIC_FHIR_IN); key = document id')
    .argument('<files...>', 'HL7 v2 files (one or more messages), FHIR JSON resources, or NDJSON')
    .action(async (files: string[]) => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
      const producer = createProducer(createKafka({ ...config.kafka, clientId: `${config.kafka.clientId}-send` }, logger));
      const counts = new Map<string, number>();
      const failed: string[] = [];
      try {
        for (const file of files) {
          let docs;
          try {
            docs = documentsFromFile(file, readFileSync(file));
          } catch (err) {
            // Unreadable, empty, unknown or wrongly encoded: say so and fail the command, never drop silently.
            const code = (err as { code?: unknown }).code;
            process.stderr.write(`${file}: ${typeof code === 'string' ? `${code}: ` : ''}${err instanceof Error ? err.message : String(err)}\n`);
            failed.push(file);
            continue;
          }
          for (const d of docs) {
            const topic = inputTopic(config, d.format);
            await producer.send(topic, [{ key: d.key, value: d.value, headers: { 'medner-sent-from': 'medner-send' } }]);
            counts.set(topic, (counts.get(topic) ?? 0) + 1);
          }
          process.stderr.write(`${file}: ${docs.length} record(s)\n`);
        }
      } finally {
        await producer.close();
      }
      for (const [topic, n] of counts) process.stdout.write(`sent ${n} record(s) to ${topic}\n`);
      if (failed.length > 0) {
        process.stderr.write(`${failed.length} file(s) not sent\n`);
        process.exitCode = 2;
      }
    });
}
