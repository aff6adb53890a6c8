/**
 * `npm test` (after the type check): the unit and integration tests, always against real services.
 *
 *  - KAFKA_BROKERS, REDIS_URL and FHIR_BASE_URL all set: the tests use those.
 *  - otherwise, when a Docker engine answers: test/support/services.ts starts containers.
 *  - otherwise: this runner starts the embedded stack as `medner stack up` does (each missing
 *    service only when nothing answers at its configured address), points the tests at it, and
 *    stops what it started when the tests end, fail, or are interrupted (Ctrl-C, SIGTERM).
 *
 * Extra arguments are passed to `node --test` (e.g. `npm test -- --test-name-pattern=replay`).
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.ts';
import { ensureTopics } from '../src/ingest/topics.ts';
import type { ManagedService } from '../src/stack/service.ts';
import { stackServices } from '../src/stack/stack.ts';
import { envExports } from '../src/stack/status-line.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (line: string) => process.stderr.write(`[npm test] ${line}\n`);

const testFiles = ['test/unit', 'test/integration'].flatMap((dir) =>
  readdirSync(path.join(root, dir))
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => path.join(dir, f)),
);

async function dockerAnswers(): Promise<boolean> {
  try {
    const tc = await import('testcontainers');
    await tc.getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/** Starts what does not answer; returns the services this run started (to stop afterwards). */
async function startStack(): Promise<ManagedService[]> {
  const config = loadConfig();
  const started: ManagedService[] = [];
  try {
    for (const svc of stackServices(config)) {
      if (await svc.isUp()) {
        say(`${svc.name}: something answers at ${svc.address}: using it`);
        continue;
      }
      const t0 = Date.now();
      say(`${svc.name}: starting at ${svc.address} ...`);
      started.push(svc);
      await svc.up();
      say(`${svc.name}: ready (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
    await ensureTopics(config);
  } catch (err) {
    await stopStack(started);
    throw err;
  }
  for (const line of envExports(config)) {
    const m = /^export (\w+)=(.*)$/.exec(line);
    if (m) process.env[m[1]!] = m[2]!.replace(/^'(.*)'$/s, '$1').replaceAll(`'\\''`, "'");
  }
  return started;
}

async function stopStack(started: ManagedService[]): Promise<void> {
  for (const svc of [...started].reverse()) {
    try {
      await svc.down();
      say(`${svc.name}: stopped`);
    } catch (err) {
      say(`${svc.name}: could not be stopped: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

function runTests(args: string[]): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...args, ...testFiles], {
    cwd: root,
    stdio: 'inherit',
    env: process.env,
  });
  const forward = (signal: NodeJS.Signals) => () => {
    say(`${signal}: stopping the tests, then the services this run started`);
    child.kill(signal);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

async function main(): Promise<number> {
  const unset = ['KAFKA_BROKERS', 'REDIS_URL', 'FHIR_BASE_URL'].filter((k) => !process.env[k]);
  let started: ManagedService[] = [];
  if (unset.length > 0 && !(await dockerAnswers())) {
    say(`${unset.join(', ')} unset and no Docker engine: starting the embedded stack (only what does not answer)`);
    started = await startStack();
  }
  try {
    return await runTests(process.argv.slice(2));
  } finally {
    await stopStack(started);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(`could not start the services the tests need: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
