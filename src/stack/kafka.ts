import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config.ts';
import { kafkaAnswers } from '../kafka/admin.ts';
import { kafkaVersionFromJars, renderServerProperties } from './kafka-properties.ts';
import { assertNoOtherInstance, ownedPid, stopOwned, writePidFile } from './pid-file.ts';
import { findExecutable, isLocalHost, isPortOpen, parseHostPort, runToCompletion, spawnDetached, waitForStartup } from './process.ts';
import { REPO_ROOT, stackDir } from './paths.ts';
import { StackError, type ManagedService, type ServiceStatus } from './service.ts';

/**
 * A single-node KRaft Kafka broker run from jars that Maven resolves from
 * deploy/kafka/pom.xml into <STACK_DIR>/kafka/lib (no tarball, no Docker).
 */
export interface KafkaServiceOptions {
  readyTimeoutMs?: number;
  heap?: string;
}

const DEPLOY_DIR = path.join(REPO_ROOT, 'deploy', 'kafka');

/** A Kafka cluster id: 16 random bytes, URL-safe base64 without padding, not starting with '-' (as Kafka's Uuid does). */
export function newClusterId(random: () => Buffer = () => crypto.randomBytes(16)): string {
  for (;;) {
    const id = random().toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * The Kafka broker jars under STACK_DIR/kafka/lib, resolved with Maven from deploy/kafka/pom.xml
 * when absent (as `medner stack up` does before it starts a broker); returns that folder.
 */
export function ensureKafkaJars(config: Config): string {
  const libDir = path.join(stackDir(config), 'kafka', 'lib');
  const present = () => {
    try {
      return kafkaVersionFromJars(fs.readdirSync(libDir)) !== undefined;
    } catch {
      return false;
    }
  };
  if (present()) return libDir;
  const mvn = findExecutable('mvn');
  if (!mvn) throw new StackError('mvn not found on PATH: it resolves the Kafka jars (e.g. apt-get install maven)');
  try {
    runToCompletion(mvn, ['-q', '-B', '-f', path.join(DEPLOY_DIR, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${libDir}`]);
  } catch (err) {
    throw new StackError(`resolving the Kafka jars with Maven failed: ${(err as Error).message}`);
  }
  if (!present()) throw new StackError(`Maven ran but no kafka_2.13 jar is in ${libDir}`);
  return libDir;
}

export function createKafkaService(config: Config, opts: KafkaServiceOptions = {}): ManagedService {
  const address = config.kafka.brokers[0] ?? '127.0.0.1:9092';
  const { host, port } = parseHostPort(address);
  const controllerPort = port + 1;
  const dir = path.join(stackDir(config), 'kafka');
  const libDir = path.join(dir, 'lib');
  const dataDir = path.join(dir, 'data');
  const propsFile = path.join(dir, 'server.properties');
  const pidFile = path.join(dir, 'kafka.pid');
  const logFile = path.join(dir, 'kafka.log');
  const clusterIdFile = path.join(dir, 'cluster-id');
  const log4j = path.join(DEPLOY_DIR, 'log4j2.xml');
  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;

  const ours = () => ownedPid(pidFile, address);

  const isUp = () => kafkaAnswers(config.kafka.brokers);

  const jarVersion = (): string | undefined => {
    try {
      return kafkaVersionFromJars(fs.readdirSync(libDir));
    } catch {
      return undefined;
    }
  };

  async function status(): Promise<ServiceStatus> {
    const rec = ours();
    const up = await isUp();
    const s: ServiceStatus = { name: 'kafka', up, address, managed: rec !== undefined };
    // The jar version is only known to be the broker's when we started it.
    const v = rec ? jarVersion() : undefined;
    if (v) s.version = v;
    if (rec) s.pid = rec.pid;
    return s;
  }

  function java(): string {
    const j = findExecutable('java');
    if (!j) throw new StackError('java not found on PATH: Kafka 4.x needs Java 17+ (e.g. apt-get install openjdk-17-jre-headless)');
    const out = runToCompletion(j, ['-version']);
    const m = /version "(\d+)(?:\.(\d+))?/.exec(out);
    const major = m?.[1] === '1' ? Number(m[2]) : Number(m?.[1]);
    if (Number.isFinite(major) && major < 17) throw new StackError(`java ${major} found: Kafka 4.x needs Java 17+`);
    return j;
  }

  function resolveJars(): void {
    ensureKafkaJars(config);
  }

  function javaArgs(mainClass: string, args: string[]): string[] {
    return [
      `-Xmx${opts.heap ?? '512m'}`,
      '-Xms128m',
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${log4j}`,
      '-cp',
      `${libDir}${path.sep}*`,
      mainClass,
      ...args,
    ];
  }

  function formatStorageOnce(javaBin: string): void {
    if (fs.existsSync(path.join(dataDir, 'meta.properties'))) return;
    let clusterId = fs.existsSync(clusterIdFile) ? fs.readFileSync(clusterIdFile, 'utf8').trim() : '';
    if (clusterId === '') {
      clusterId = newClusterId();
      fs.writeFileSync(clusterIdFile, `${clusterId}\n`);
    }
    try {
      // Static controller.quorum.voters: no --standalone.
      runToCompletion(javaBin, javaArgs('kafka.tools.StorageTool', ['format', '-t', clusterId, '-c', propsFile, '--ignore-formatted']), {
        timeoutMs: 120_000,
      });
    } catch (err) {
      throw new StackError(`formatting Kafka storage failed: ${(err as Error).message}`);
    }
  }

  async function up(): Promise<ServiceStatus> {
    if (await isUp()) return status();
    if (!isLocalHost(host)) throw new StackError(`Kafka at ${address} does not answer, and it is not a local address this stack can start`);
    assertNoOtherInstance(pidFile, address, 'Kafka broker', dir);
    if (ours() === undefined) {
      if (await isPortOpen(host, port)) throw new StackError(`port ${port} on ${host} is taken by something that is not a Kafka broker`);
      if (await isPortOpen(host, controllerPort)) throw new StackError(`port ${controllerPort} on ${host} (Kafka controller) is already taken`);
      const javaBin = java();
      fs.mkdirSync(dir, { recursive: true });
      resolveJars();
      const template = fs.readFileSync(path.join(DEPLOY_DIR, 'server.properties.template'), 'utf8');
      fs.writeFileSync(propsFile, renderServerProperties(template, { host, brokerPort: port, controllerPort, dataDir }));
      formatStorageOnce(javaBin);
      const pid = spawnDetached(javaBin, javaArgs('kafka.Kafka', [propsFile]), { cwd: dir, logFile });
      writePidFile(pidFile, { pid, marker: propsFile, address });
    }
    await waitForStartup({ name: 'Kafka', address, isUp, alive: () => ours() !== undefined, timeoutMs: readyTimeoutMs, everyMs: 1_000, logFile });
    return status();
  }

  async function down(): Promise<void> {
    await stopOwned(ours(), pidFile, 30_000);
  }

  return { name: 'kafka', address, isUp, status, up, down };
}
