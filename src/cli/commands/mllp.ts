import type { Command } from 'commander';
import { loadConfig } from '../../config/config.ts';
import { createKafka, createProducer } from '../../kafka/client.ts';
import { createLogger } from '../../ops/logger.ts';
import { onShutdown } from '../../ops/shutdown.ts';
import { startMllpServer } from '../../mllp/server.ts';
import { inputTopic } from '../../formats/registry.ts';

export function registerMllp(program: Command): void {
  program
    .command('mllp')
    .description('MLLP front door: HL7 v2 over MLLP -> TOPIC_HL7_IN; ACK AA only after Kafka acknowledged (acks=all), AE/AR with the reason otherwise')
    .option('--port <n>', 'TCP port (default MLLP_PORT, 2575)', (v) => Number(v))
    .option('--host <addr>', 'bind address (default MLLP_HOST)')
    .action(async (o: { port?: number; host?: string }) => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const producer = createProducer(createKafka({ brokers: config.kafka.brokers, clientId: `${config.kafka.clientId}-mllp` }, logger));
      const server = await startMllpServer({
        host: o.host ?? config.mllp.host,
        port: o.port ?? config.mllp.port,
        topic: inputTopic(config, 'hl7v2'),
        producer,
        logger,
        maxMessageBytes: config.mllp.maxMessageBytes,
        idleTimeoutMs: config.mllp.idleTimeoutMs,
        ackTimeoutMs: config.mllp.ackTimeoutMs,
        maxConnections: config.mllp.maxConnections,
        ...(config.mllp.tls ? { tls: config.mllp.tls } : {}),
      });
      process.stderr.write(`MLLP listening on ${o.host ?? config.mllp.host}:${server.port}${config.mllp.tls ? ' (TLS)' : ''} -> ${inputTopic(config, 'hl7v2')}; Ctrl-C stops\n`);
      onShutdown(logger, async () => {
        await server.close();
        await producer.close();
      });
    });
}
