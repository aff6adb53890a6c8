import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config.ts';
import { conformanceResources } from '../fhir/conformance.ts';
import { fhirServerVersion } from '../fhir/fhir-client.ts';
import { ensureFhirPackages } from './fhir-packages.ts';
import { assertNoOtherInstance, ownedPid, stopOwned, writePidFile } from './pid-file.ts';
import { findExecutable, isLocalHost, isPortOpen, runToCompletion, spawnDetached, waitForStartup } from './process.ts';
import { REPO_ROOT, stackDir } from './paths.ts';
import { StackError, type ManagedService, type ServiceStatus } from './service.ts';

/**
 * The local HAPI FHIR JPA server (R4) of deploy/fhir-server: built by Maven into
 * an executable jar, run with Java 17, on PostgreSQL (127.0.0.1:5432, database
 * medner_fhir) when it answers, else on an H2 file database under the stack dir.
 */
export interface FhirServerOptions {
  /** How long to wait for /metadata after starting (a first start creates the schema). */
  readyTimeoutMs?: number;
  heap?: string;
  /** `full`: the JVM's default tiered JIT; `quick`: C1 only (see javaArgs). */
  jit?: 'full' | 'quick';
  /** `auto`: PostgreSQL when 127.0.0.1:5432 accepts connections, else H2. A jdbc: URL is passed through. */
  db?: string;
  /** Validate every write (FHIR_SERVER_VALIDATE; default from config). */
  validate?: boolean;
  /** Where deploy/fhir-server lives (tests point it elsewhere). */
  deployDir?: string;
  /**
   * The PostgreSQL database when the server runs on PostgreSQL (`postgres`/`auto`; created when
   * absent): default medner_fhir. `npm test` and the soak give theirs (medner_test, medner_soak)
   * so they never write into the database `npm start` uses.
   */
  pgDatabase?: string;
}

export const FHIR_DEPLOY_DIR = path.join(REPO_ROOT, 'deploy', 'fhir-server');
const JAR_NAME = 'medner-fhir-server.jar';
const POSTGRES = { host: '127.0.0.1', port: 5432 };

/** Host and port our server must listen on to answer at `baseUrl`; it serves FHIR under /fhir only. */
export function localServerAddress(baseUrl: string): { host: string; port: number } {
  const u = new URL(baseUrl);
  if (u.protocol !== 'http:') throw new StackError(`FHIR_BASE_URL=${baseUrl}: the local FHIR server speaks plain http`);
  if (u.pathname.replace(/\/+$/, '') !== '/fhir') throw new StackError(`FHIR_BASE_URL=${baseUrl}: the local FHIR server serves its API at /fhir`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return { host: host === 'localhost' ? '127.0.0.1' : host, port: u.port === '' ? 80 : Number(u.port) };
}

/** Whether the jar must be (re)built: missing, or older than any source file. */
export function needsBuild(jarMtimeMs: number | undefined, newestSourceMtimeMs: number): boolean {
  return jarMtimeMs === undefined || jarMtimeMs < newestSourceMtimeMs;
}

/** The database the server is told to use (its FHIR_SERVER_DB). */
export function chooseDatabase(requested: string, postgresAnswers: boolean): string {
  if (requested === 'auto') return postgresAnswers ? 'postgres' : 'h2';
  if (requested === 'postgres' || requested === 'h2' || /^jdbc:(postgresql|h2):/.test(requested)) return requested;
  throw new StackError(`FHIR_SERVER_DB=${requested}: expected auto, postgres, h2 or a jdbc:postgresql:/jdbc:h2: URL`);
}

/**
 * The server's JVM flags. Serial GC: a 2-core machine gains nothing from a parallel collector.
 * `quick` stops the JIT at C1: the C2 compiler threads then do not compete with a short burst
 * for the cores (CI, demos), but a warm server spends about 30% more CPU per write (bench:fhir).
 */
export function javaArgs(opts: { heap: string; jit: 'full' | 'quick'; marker: string; jar: string }): string[] {
  // ExitOnOutOfMemoryError: a JVM out of heap dies (and `medner start` restarts it) instead of
  // staying up answering nothing while the whole pipeline waits on it (issue 20).
  return [`-Xmx${opts.heap}`, '-XX:+ExitOnOutOfMemoryError', '-XX:+UseSerialGC', ...(opts.jit === 'quick' ? ['-XX:TieredStopAtLevel=1'] : []), opts.marker, '-jar', opts.jar];
}

/**
 * Environment for the Java process (read by deploy/fhir-server's DatabaseSettings, ConformanceConfig and
 * application.properties): address, database, request-size limit, the validation packages and our own
 * conformance resources (folders), and whether writes are validated.
 */
export function serverEnv(opts: {
  host: string;
  port: number;
  db: string;
  dataDir: string;
  maxRequestBytes?: number;
  packageDirs?: string[];
  conformanceDirs?: string[];
  validate?: boolean;
  pgDatabase?: string;
}): Record<string, string> {
  return {
    FHIR_SERVER_HOST: opts.host,
    FHIR_SERVER_PORT: String(opts.port),
    FHIR_SERVER_DB: opts.db,
    FHIR_SERVER_DATA_DIR: opts.dataDir,
    ...(opts.maxRequestBytes !== undefined ? { FHIR_SERVER_MAX_REQUEST_BYTES: String(opts.maxRequestBytes) } : {}),
    ...(opts.pgDatabase !== undefined ? { FHIR_SERVER_PG_DATABASE: opts.pgDatabase } : {}),
    FHIR_SERVER_PACKAGES: (opts.packageDirs ?? []).join(','),
    FHIR_SERVER_CONFORMANCE_DIRS: (opts.conformanceDirs ?? []).join(','),
    FHIR_SERVER_VALIDATE: String(opts.validate ?? false),
  };
}

/** Writes our StructureDefinitions/CodeSystems/ValueSets for `canonicalBase` into `dir` (replacing what was there). */
export function writeConformance(dir: string, canonicalBase: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const r of conformanceResources(canonicalBase)) fs.writeFileSync(path.join(dir, `${r.resourceType}-${r.id}.json`), `${JSON.stringify(r, null, 2)}\n`);
}

/** The newest modification time of pom.xml and everything under src/. */
export function newestSourceMtime(deployDir: string): number {
  let newest = fs.statSync(path.join(deployDir, 'pom.xml')).mtimeMs;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  walk(path.join(deployDir, 'src'));
  return newest;
}

function mtimeOf(file: string): number | undefined {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

export function createFhirServerService(config: Config, opts: FhirServerOptions = {}): ManagedService {
  const address = config.fhir.baseUrl;
  const deployDir = opts.deployDir ?? FHIR_DEPLOY_DIR;
  const jar = path.join(deployDir, 'target', JAR_NAME);
  const dir = stackDir(config);
  const pidFile = path.join(dir, 'fhir-server.pid');
  const logFile = path.join(dir, 'fhir-server.log');
  const dataDir = path.join(dir, 'fhir-server-data');
  const readyTimeoutMs = opts.readyTimeoutMs ?? 300_000;
  // The pid file's marker: only a java process with this on its command line is ours.
  const marker = `-Dmedner.stack=${dir}`;

  /** The live server this stack directory started for this base URL, if any. */
  const ours = () => ownedPid(pidFile, address);

  const isUp = async () => (await fhirServerVersion(address)) !== undefined;

  async function status(): Promise<ServiceStatus> {
    const rec = ours();
    const v = await fhirServerVersion(address);
    const s: ServiceStatus = { name: 'fhir', up: v !== undefined, address, managed: rec !== undefined };
    if (v?.version) s.version = v.version;
    if (rec) s.pid = rec.pid;
    return s;
  }

  function java(): string {
    const j = findExecutable('java');
    if (!j) throw new StackError('java not found on PATH: the local FHIR server needs Java 17+ (e.g. apt-get install openjdk-17-jdk-headless)');
    const m = /version "(\d+)(?:\.(\d+))?/.exec(runToCompletion(j, ['-version']));
    const major = m?.[1] === '1' ? Number(m[2]) : Number(m?.[1]);
    if (Number.isFinite(major) && major < 17) throw new StackError(`java ${major} found: the local FHIR server (HAPI FHIR 8) needs Java 17+`);
    return j;
  }

  function buildJarIfStale(): void {
    if (!needsBuild(mtimeOf(jar), newestSourceMtime(deployDir))) return;
    const mvn = findExecutable('mvn');
    if (!mvn) throw new StackError('mvn not found on PATH: it builds the local FHIR server (e.g. apt-get install maven)');
    try {
      runToCompletion(mvn, ['-q', '-B', '-f', path.join(deployDir, 'pom.xml'), '-DskipTests', 'package'], { timeoutMs: 1_200_000 });
    } catch (err) {
      throw new StackError(`building the FHIR server with Maven failed: ${(err as Error).message.split('\n')[0]}`);
    }
    if (mtimeOf(jar) === undefined) throw new StackError(`Maven ran but ${jar} is missing`);
  }

  async function up(): Promise<ServiceStatus> {
    if (await isUp()) return status();
    const { host, port } = localServerAddress(address);
    if (!isLocalHost(host)) throw new StackError(`no FHIR server answers at ${address}, and it is not a local address this stack can start`);
    assertNoOtherInstance(pidFile, address, 'FHIR server', dir);
    if (ours() === undefined) {
      if (await isPortOpen(host, port)) throw new StackError(`port ${port} on ${host} is taken by something that is not a FHIR server`);
      const javaBin = java();
      buildJarIfStale();
      const db = chooseDatabase(opts.db ?? config.fhirServerDb, await isPortOpen(POSTGRES.host, POSTGRES.port));
      fs.mkdirSync(dataDir, { recursive: true });
      fs.appendFileSync(logFile, `\n--- medner stack: starting FHIR server (${db === 'postgres' || db === 'h2' ? db : 'jdbc url'}) at ${new Date().toISOString()}\n`);
      const args = javaArgs({ heap: opts.heap ?? config.fhirServer.heap, jit: opts.jit ?? config.fhirServerJit, marker, jar });
      // The validator's packages (fetched once into the stack dir) and our own extensions under FHIR_CANONICAL_BASE.
      const packageDirs = ensureFhirPackages(path.join(dir, 'fhir-packages'));
      const conformanceDir = path.join(dir, 'fhir-conformance');
      writeConformance(conformanceDir, config.fhir.canonicalBase);
      const validate = opts.validate ?? config.fhirServer.validate;
      const env = {
        ...process.env,
        ...serverEnv({ host, port, db, dataDir, maxRequestBytes: config.fhirServer.maxRequestBytes, packageDirs, conformanceDirs: [conformanceDir], validate, ...(opts.pgDatabase === undefined ? {} : { pgDatabase: opts.pgDatabase }) }),
      };
      const pid = spawnDetached(javaBin, args, { cwd: dir, logFile, env });
      writePidFile(pidFile, { pid, marker, address });
    }
    await waitForStartup({ name: 'the FHIR server', address: `${address}/metadata`, isUp, alive: () => ours() !== undefined, timeoutMs: readyTimeoutMs, everyMs: 2_000, logFile });
    return status();
  }

  async function down(): Promise<void> {
    await stopOwned(ours(), pidFile, 30_000);
  }

  return { name: 'fhir', address, isUp, status, up, down };
}
