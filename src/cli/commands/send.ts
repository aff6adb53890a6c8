import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.ts';
import { createKafka, createProducer } from '../../ingest/kafka.ts';
import { documentsFromFile } from '../../ingest/outgoing-documents.ts';
import { createLogger } from '../../ops/logger.ts';

export function registerSend(program: Command): void {
  program
    .command('send')
    .description('put documents on the right input topic (HL7 v2 -> TOPIC_HL7_IN, FHIR JSON -> TOPIC_FHIR_IN); key = document id')
    .argument('<files...>', 'HL7 v2 files (one or more messages), FHIR JSON resources, or NDJSON')
    .action(async (files: string[]) => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
      const producer = createProducer(createKafka({ brokers: config.kafka.brokers, clientId: `${config.kafka.clientId}-send` }, logger));
      const counts = new Map<string, number>();
      try {
        for (const file of files) {
          const docs = documentsFromFile(file, readFileSync(file));
          for (const d of docs) {
            const topic = d.format === 'hl7v2' ? config.topics.hl7In : config.topics.fhirIn;
            await producer.send(topic, [{ key: d.key, value: d.value, headers: { 'medner-sent-from': 'medner-send' } }]);
            counts.set(topic, (counts.get(topic) ?? 0) + 1);
          }
          process.stderr.write(`${file}: ${docs.length} record(s)\n`);
        }
      } finally {
        await producer.close();
      }
      for (const [topic, n] of counts) process.stdout.write(`sent ${n} record(s) to ${topic}\n`);
    });
}
