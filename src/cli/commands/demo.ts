import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type * as fhir4 from 'fhir/r4.js';
import { loadConfig, type Config } from '../../config/config.ts';
import { createConsumer, createKafka, createProducer, topicOffsets } from '../../kafka/client.ts';
import { documentsFromFile } from '../../ingest/outgoing-documents.ts';
import { createLogger } from '../../ops/logger.ts';
import { withUsableModel } from '../../pipeline/model-fallback.ts';
import { stackUp } from '../stack-up.ts';
import { createFhirClient, createStages } from '../../pipeline/stages.ts';
import { startWorkerApp, type WorkerApp } from '../../pipeline/worker-app.ts';
import type { Stages } from '../../core/ports.ts';
import { valueSummary } from '../../fhir/observation-value.ts';
import { ensureTopics } from '../../ingest/topics.ts';
import { connectKafkaAdmin } from '../../kafka/admin.ts';
import { DEFAULT_FORMATS, inputTopic } from '../../formats/registry.ts';

/**
 * The demo's own topics, consumer group and queue (issue 20): it can run beside `npm start`
 * without joining the live group or reading the live topics, and deletes its topics at the end.
 */
export function demoConfig(config: Config, run: string): Config {
  const n = `medner.demo.${run}`;
  return {
    ...config,
    kafka: { ...config.kafka, groupId: `${n}.group` },
    topics: { ...config.topics, inputs: Object.fromEntries(DEFAULT_FORMATS.formats.map((f) => [f.topicKey, `${n}.${f.name}`])), output: `${n}.out`, deadLetter: `${n}.dead-letter`, partitions: 1, replicationFactor: 1 },
    redis: { ...config.redis, queueName: `${n.replace(/\./g, '-')}` },
    http: { ...config.http, port: 0 },
  };
}

const say = (line: string) => process.stderr.write(`${line}\n`);
const SAMPLES_DIR = 'samples';

async function startPool(config: Config, stages: Stages): Promise<WorkerApp> {
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  try {
    return await startWorkerApp({ config, role: 'all', logger, stages });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    return startWorkerApp({ config: { ...config, http: { ...config.http, port: 0 } }, role: 'all', logger, stages });
  }
}

/** What the server holds for each update of an output bundle (by logical id; not the shared Device): "Type/id" with a short label. */
async function landed(config: Config, bundle: fhir4.Bundle): Promise<{ type: string; id: string; label: string }[]> {
  const out: { type: string; id: string; label: string }[] = [];
  const client = createFhirClient(config);
  for (const e of bundle.entry ?? []) {
    const url = e.request?.url;
    if (e.request?.method !== 'PUT' || !url || e.resource?.resourceType === 'Device') continue;
    let body: fhir4.Resource;
    try {
      body = await client.get<fhir4.Resource>(url, { headers: { 'cache-control': 'no-cache' } });
    } catch {
      continue;
    }
    // `Type/<id>` answers the resource; a conditional URL (older outputs) a search Bundle
    const found = body.resourceType === 'Bundle' ? ((body as fhir4.Bundle).entry ?? []) : [{ resource: body }];
    for (const r of found) {
      const resource = r.resource as (fhir4.Resource & { code?: fhir4.CodeableConcept; medicationCodeableConcept?: fhir4.CodeableConcept }) | undefined;
      if (!resource?.id) continue;
      const cc = resource.code ?? resource.medicationCodeableConcept;
      const value = valueSummary(resource); // "9.2 g/dL (L)", "150/95 mmHg", "25 mg orally twice daily"
      const label = `${cc?.text ?? cc?.coding?.[0]?.display ?? ''}${value ? ` = ${value}` : ''}`.replace(/\s+/g, ' ').slice(0, 100);
      out.push({ type: resource.resourceType, id: resource.id, label });
    }
  }
  return out;
}

/**
 * A FHIR sample names its own DocumentReference (resourceType/id), which the derived resources
 * point at: put it on the FHIR server first, as a hospital's server would already hold it, so the
 * viewer can show the note. Best effort: the demo goes on without it.
 */
async function putSourceDocument(config: Config, value: Buffer | Uint8Array | string): Promise<void> {
  let r: { resourceType?: unknown; id?: unknown };
  try {
    r = JSON.parse(Buffer.from(value).toString('utf8')) as typeof r;
  } catch {
    return;
  }
  if (typeof r.resourceType !== 'string' || !['DocumentReference', 'DiagnosticReport'].includes(r.resourceType) || typeof r.id !== 'string') return;
  // Through the FHIR client: the configured auth (bearer or OAuth2 client credentials).
  await createFhirClient(config)
    .update({ ...(r as fhir4.Resource), id: r.id })
    .catch(() => undefined);
}

async function deleteDemoTopics(config: Config): Promise<void> {
  const admin = await connectKafkaAdmin({ brokers: config.kafka.brokers, clientId: `${config.kafka.clientId}-demo-admin` });
  try {
    await admin.deleteTopics([...DEFAULT_FORMATS.topics(config), config.topics.output, config.topics.deadLetter]);
  } finally {
    await admin.close();
  }
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('stack up, worker up (in this process), send the sample documents, wait for their results and show what landed in the FHIR server')
    .option('--no-stack', 'do not start the local stack (use the configured services)')
    .option('--timeout <s>', 'how long to wait for the results', (v) => Number(v), 180)
    .action(async (o: { stack: boolean; timeout: number }) => {
      const base = await withUsableModel(loadConfig(), process.env, say);
      if (o.stack) await stackUp(base, say);
      // Always exits: a watchdog past the wait ends the process even if a client hangs on close.
      const watchdog = setTimeout(() => {
        say('demo: still closing long after the timeout; exiting');
        process.exit(process.exitCode ?? 1);
      }, (o.timeout + 120) * 1000);
      watchdog.unref();
      const config = demoConfig(base, Date.now().toString(36));
      await ensureTopics(config);
      say(`demo topics ${DEFAULT_FORMATS.topics(config).join(', ')} (group ${config.kafka.groupId}): the live feed is not touched`);
      const logger = createLogger('warn');
      const stages = await createStages(config, logger);
      const kafka = createKafka({ ...config.kafka, clientId: `${config.kafka.clientId}-demo` }, logger);

      // Watch the output topic from its current end, before anything is sent.
      const ends = await topicOffsets(kafka, config.topics.output);
      const results = new Map<string, fhir4.Bundle>();
      const watcher = createConsumer(kafka, { groupId: `${config.kafka.groupId}-demo-${Date.now().toString(36)}` });
      await watcher.run(
        [config.topics.output],
        async (m) => {
          const end = ends.find((e) => e.partition === m.partition)?.high ?? 0n;
          const id = m.headers['medner-document-id'];
          if (BigInt(m.offset) < end || !id || !m.value) return;
          results.set(id, JSON.parse(m.value.toString('utf8')) as fhir4.Bundle);
        },
        { fromBeginning: true },
      );

      const app = await startPool(config, stages);
      say(`worker up (model ${app.engines[0]?.model.name} ${app.engines[0]?.model.version}); metrics at ${app.http?.url}/metrics`);
      const producer = createProducer(kafka);
      const expected = new Map<string, string>();
      try {
        const files = readdirSync(SAMPLES_DIR).filter((f) => /\.(hl7|json|ndjson)$/i.test(f)).sort();
        for (const f of files) {
          const file = path.join(SAMPLES_DIR, f);
          for (const [i, d] of documentsFromFile(file, readFileSync(file)).entries()) {
            if (d.format === 'fhir') await putSourceDocument(config, d.value);
            for (const doc of await stages.parse(d.value, { kind: 'file', path: file, index: i }, d.format)) expected.set(doc.id, f);
            await producer.send(inputTopic(config, d.format), [{ key: d.key, value: d.value }]);
          }
          say(`sent ${file}`);
        }
        const deadline = Date.now() + o.timeout * 1000;
        while ([...expected.keys()].some((id) => !results.has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));

        const out = process.stdout;
        out.write(`\nFHIR server: ${config.fhir.baseUrl}\n`);
        for (const [id, file] of expected) {
          const bundle = results.get(id);
          if (!bundle) {
            out.write(`\n${file} (document ${id}): no result within ${o.timeout} s (see the dead-letter topic ${config.topics.deadLetter})\n`);
            continue;
          }
          const items = await landed(config, bundle);
          const counts = new Map<string, number>();
          for (const it of items) counts.set(it.type, (counts.get(it.type) ?? 0) + 1);
          out.write(`\n${file} (document ${id}): ${[...counts].map(([t, n]) => `${n} ${t}`).join(', ')}\n`);
          for (const it of items) out.write(`  ${config.fhir.baseUrl}/${it.type}/${it.id}${it.label ? `  ${it.label}` : ''}\n`);
        }
        const viewUrl = `http://${config.view.host.includes(':') ? `[${config.view.host}]` : config.view.host}:${config.view.port}`;
        const runs = [...expected.keys()]
          .map((id) => results.get(id)?.entry?.find((e) => e.resource?.resourceType === 'Provenance')?.resource?.id)
          .filter((x): x is string => !!x);
        out.write(`\nViewer (\`npx medner view\`, or \`npm start\`, serves it): ${viewUrl}/documents\n`);
        for (const id of runs) out.write(`  ${viewUrl}/documents/${id}\n`);
        const missing = [...expected.keys()].filter((id) => !results.has(id)).length;
        if (missing > 0) process.exitCode = 1;
      } finally {
        await producer.close().catch(() => undefined);
        await watcher.stop().catch(() => undefined);
        await app.stop(10_000).catch(() => undefined);
        await stages.close().catch(() => undefined);
        await deleteDemoTopics(config).catch(() => say('demo: could not delete its topics'));
      }
      process.exit(process.exitCode ?? 0);
    });
}
