import fs from 'node:fs';
import os from 'node:os';
import { z } from 'zod';
import { MednerError } from '../core/errors.ts';
import { defaultIntraOpThreads, defaultSessions } from './threads.ts';

/**
 * The one place where settings are read. Every setting comes from an
 * environment variable; defaults are the embedded local stack.
 */

const intIn = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const csv = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0));
const url = z.string().url();
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** An input format's topic: TOPIC_<KEY>_IN, read for any KEY (the formats' registry knows the keys and defaults). */
const INPUT_TOPIC_VAR = /^TOPIC_([A-Z][A-Z0-9]*)_IN$/;
const KAFKA_TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

const envSchema = z.object({
  KAFKA_BROKERS: csv.pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port')).min(1)).default(['127.0.0.1:9092']),
  KAFKA_CLIENT_ID: z.string().min(1).default('medner'),
  KAFKA_GROUP_ID: z.string().min(1).default('medner-ingest'),
  // Kafka security: TLS (on when KAFKA_SSL=true or any KAFKA_SSL_*_FILE is set) and SASL.
  KAFKA_SSL: bool.default(false),
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  KAFKA_SSL_CERT_FILE: z.string().min(1).optional(),
  KAFKA_SSL_KEY_FILE: z.string().min(1).optional(),
  KAFKA_SSL_KEY_PASSWORD: z.string().min(1).optional(),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  TOPIC_OUTPUT: z.string().min(1).default('medner.fhir.resources'),
  TOPIC_DEAD_LETTER: z.string().min(1).default('medner.dead-letter'),
  TOPIC_PARTITIONS: intIn(1, 1024).default(3),
  TOPIC_REPLICATION_FACTOR: intIn(1, 16).default(1),

  REDIS_URL: url.default('redis://127.0.0.1:6379'),
  REDIS_PASSWORD: z.string().min(1).optional(),
  QUEUE_NAME: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only').default('medner-inference'),
  QUEUE_HIGH_WATER: intIn(1, 1_000_000).default(2000),
  QUEUE_LOW_WATER: intIn(0, 1_000_000).default(500),
  JOB_ATTEMPTS: intIn(1, 100).default(5),

  FHIR_BASE_URL: url.default('http://127.0.0.1:8080/fhir'),
  FHIR_BEARER_TOKEN: z.string().min(1).optional(),
  FHIR_OAUTH_TOKEN_URL: url.optional(),
  FHIR_OAUTH_CLIENT_ID: z.string().min(1).optional(),
  FHIR_OAUTH_CLIENT_SECRET: z.string().min(1).optional(),
  FHIR_TIMEOUT_MS: intIn(100, 600_000).default(30_000),
  FHIR_WRITE: bool.default(true),
  FHIR_RECONCILE: z.enum(['provenance', 'full']).default('provenance'),
  FHIR_CANONICAL_BASE: z
    .string()
    .url()
    .regex(/^https?:\/\/[^\s?#]+[^/\s?#]$/, 'expected an http(s) URL without query, fragment or trailing slash')
    .default('https://medner.example.org/fhir'),
  // Where a document's resources go: `fhir` (one transaction per document) or `ndjson` (Bulk Data files in NDJSON_DIR).
  OUTPUT_SINK: z.enum(['fhir', 'ndjson']).default('fhir'),
  // The sinks every document is written to, in order (src/pipeline/sinks); default from OUTPUT_SINK and FHIR_WRITE.
  OUTPUT_SINKS: csv.pipe(
    z
      .array(z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected sink names like fhir,kafka'))
      .min(1, 'expected at least one sink')
      .refine((a) => new Set(a).size === a.length, 'a sink is listed twice'),
  ).optional(),
  NDJSON_DIR: z.string().min(1).optional(),
  NDJSON_MAX_FILE_BYTES: intIn(4096, 2 ** 40).default(256 * 1024 * 1024),

  MODEL_DIR: z.string().min(1).default('models/medner-clinical-bge-small'),
  MODEL_VARIANT: z.enum(['auto', 'fp32', 'int8', 'fp16']).default('auto'),
  EXECUTION_PROVIDER: z.enum(['cpu', 'cuda', 'webgpu']).default('cpu'),
  GPU_IDS: csv.pipe(z.array(z.string().regex(/^\d+$/, 'expected GPU indexes like 0,1')).transform((a) => a.map(Number))).default([0]),
  INFERENCE_WORKERS: intIn(1, 256).default(1),
  INFERENCE_SESSIONS: intIn(0, 256).default(0),
  INTRA_OP_THREADS: intIn(0, 1024).default(0),
  BATCH_SIZE: intIn(1, 1024).default(32),
  BATCH_WAIT_MS: intIn(0, 60_000).default(20),
  BATCH_MAX_PADDING: z
    .string()
    .regex(/^(auto|off|\d+(\.\d+)?)$/, 'expected auto, off or a fraction like 0.1')
    .default('auto')
    .transform((v) => (v === 'auto' ? undefined : v === 'off' ? Infinity : Number(v))),
  BATCH_INVARIANT: z
    .enum(['auto', 'true', 'false'])
    .default('auto')
    .transform((v) => (v === 'auto' ? undefined : v === 'true')),
  LINKING: bool.default(true),
  TERMINOLOGY_DIR: z.string().min(1).optional(),

  VIEW_HOST: z.string().min(1).default('127.0.0.1'),
  VIEW_PORT: intIn(0, 65535).default(9465),
  VIEW_BEARER_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  VIEW_BASIC_AUTH: z.string().regex(/^[^:]+:.{8,}$/, 'expected user:password (a password of 8 characters or more)').optional(),
  VIEW_FHIR_LINKS: z.enum(['proxy', 'direct']).default('proxy'),
  VIEW_FHIR_PUBLIC_URL: url.optional(),
  VIEW_PAGE_SIZE: intIn(1, 200).default(25),
  HTTP_PORT: intIn(0, 65535).default(9464),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  STACK_DIR: z.string().min(1).default('.stack'),
  FHIR_SERVER_DB: z.string().regex(/^(auto|h2|postgres|jdbc:(postgresql|h2):.+)$/, 'expected auto, h2, postgres or a jdbc:postgresql:/jdbc:h2: URL').default('auto'),
  FHIR_SERVER_JIT: z.enum(['full', 'quick']).default('full'),
  FHIR_SERVER_HEAP: z.string().regex(/^\d+[mMgG]$/, 'expected a JVM heap size like 768m or 2g').default('1g'),
  FHIR_SERVER_MAX_REQUEST_BYTES: intIn(65_536, 1_073_741_824).default(16 * 1024 * 1024),
  FHIR_SERVER_VALIDATE: bool.default(false),

  // Bounds on the work one document can cause (issue 20); each counts in medner_limit_exceeded_total when it bites.
  MAX_NARRATIVE_BYTES: intIn(1_024, 1_073_741_824).default(256 * 1024),
  MAX_ENTITIES_PER_DOCUMENT: intIn(1, 1_000_000).default(2_000),
  MAX_SPANS_PER_RESOURCE: intIn(1, 100_000).default(50),
  MAX_TRANSACTION_ENTRIES: intIn(10, 1_000_000).default(2_500),
  MAX_TRANSACTION_BYTES: intIn(65_536, 1_073_741_824).default(8 * 1024 * 1024),
  DEAD_LETTER_ATTEMPTS: intIn(1, 1_000).default(10),

  // The MLLP front door (medner mllp)
  MLLP_HOST: z.string().min(1).default('127.0.0.1'),
  MLLP_PORT: intIn(0, 65535).default(2575),
  MLLP_MAX_MESSAGE_BYTES: intIn(1_024, 1_073_741_824).default(1_000_000),
  MLLP_IDLE_TIMEOUT_MS: intIn(1_000, 86_400_000).default(300_000),
  MLLP_ACK_TIMEOUT_MS: intIn(100, 600_000).default(15_000),
  MLLP_MAX_CONNECTIONS: intIn(1, 100_000).default(200),
  MLLP_TLS_CERT: z.string().min(1).optional(),
  MLLP_TLS_KEY: z.string().min(1).optional(),
  FHIR_MAX_OUTAGE_MS: intIn(1_000, 7 * 24 * 3_600_000).default(15 * 60_000),
});

export type Env = z.infer<typeof envSchema>;

/** TLS to the brokers: PEM files (read when a client is created); none set = the system's CAs. */
export interface KafkaTls {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  keyPassword?: string;
}
export interface KafkaSasl {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

export interface Config {
  kafka: { brokers: string[]; clientId: string; groupId: string; ssl?: KafkaTls; sasl?: KafkaSasl };
  topics: {
    /**
     * Input topics set by TOPIC_<KEY>_IN (e.g. TOPIC_HL7_IN), by lower-case key. Each input format
     * names its key and default topic (src/formats/registry.ts, `topicOf`), which also refuses a key
     * no format reads.
     */
    inputs: Readonly<Record<string, string>>;
    output: string;
    deadLetter: string;
    partitions: number;
    replicationFactor: number;
  };
  /** `url` carries REDIS_PASSWORD when set (redis://:PASSWORD@host:port); rediss:// is TLS. */
  redis: { url: string; queueName: string; highWater: number; lowWater: number; jobAttempts: number };
  fhir: {
    baseUrl: string;
    timeoutMs: number;
    write: boolean;
    /** What the writer reads before writing a document: its Provenance and targets, or (`full`) every resource tagged with it. */
    reconcile: 'provenance' | 'full';
    /** Canonical base of our extensions, code systems and identifier systems (FHIR_CANONICAL_BASE; src/fhir/uris.ts reads the same variable). */
    canonicalBase: string;
    auth:
      | { kind: 'none' }
      | { kind: 'bearer'; token: string }
      | { kind: 'oauth2'; tokenUrl: string; clientId: string; clientSecret: string };
  };
  /** Where a document's resources go: FHIR transactions, or Bulk Data NDJSON files (src/fhir/ndjson-sink.ts). */
  output: { sink: 'fhir'; maxFileBytes: number } | { sink: 'ndjson'; dir: string; maxFileBytes: number };
  /**
   * The output sinks (src/pipeline/sinks) every document is written to, in this order (OUTPUT_SINKS);
   * by default `fhir,kafka`, `ndjson,kafka` with OUTPUT_SINK=ndjson, `kafka` with FHIR_WRITE=false.
   */
  sinks: string[];
  model: {
    dir: string;
    variant: 'auto' | 'fp32' | 'int8' | 'fp16';
    executionProvider: 'cpu' | 'cuda' | 'webgpu';
    gpuIds: number[];
    workers: number;
    /** onnxruntime sessions per inference worker. */
    sessions: number;
    intraOpThreads: number;
    batchSize: number;
    batchWaitMs: number;
    /** Padding an inference batch may add before it is split (fraction of real tokens); undefined: the engine's default for the provider. */
    maxPadding: number | undefined;
    /** Each window runs alone (results independent of the batch); undefined: the engine's default (on for CPU, off on GPUs). */
    batchInvariant: boolean | undefined;
    /** Terminology linking of the labels whose mapping has a `link` entry (LINKING). */
    linking: boolean;
    /** Terminology tables folder (TERMINOLOGY_DIR); undefined: the committed terminology/. */
    terminologyDir: string | undefined;
  };
  http: { host: string; port: number };
  /** `medner view`: the read-only web viewer over the FHIR server. */
  view: {
    host: string;
    port: number;
    /** Access to the pages themselves (a front for a reverse proxy / SSO): none, a static bearer token, or basic auth. */
    auth: { kind: 'none' } | { kind: 'bearer'; token: string } | { kind: 'basic'; user: string; password: string };
    /**
     * Where a highlight opens its resource: `proxy`, the viewer reads it from the FHIR server with the FHIR
     * credentials and shows the JSON (`/fhir/Type/id`; browsers download application/fhir+json instead of
     * showing it); `direct`, the FHIR server's URL. The entity table links the FHIR server's URL either way.
     */
    fhirLinks: 'direct' | 'proxy';
    /** Base URL browsers use for direct links (default FHIR_BASE_URL). */
    fhirPublicUrl?: string;
    pageSize: number;
  };
  logLevel: Env['LOG_LEVEL'];
  stackDir: string;
  /** Database of the local FHIR server that `medner stack up` starts. */
  fhirServerDb: string;
  /** JIT of the local FHIR server: `full` (C2, for throughput once warm) or `quick` (C1 only: short runs such as CI). */
  fhirServerJit: Env['FHIR_SERVER_JIT'];
  /** The local FHIR server's JVM heap (-Xmx) and its request-size limit (413 above it). */
  fhirServer: { heap: string; maxRequestBytes: number; validate: boolean };
  /** The MLLP front door. */
  mllp: {
    host: string;
    port: number;
    maxMessageBytes: number;
    idleTimeoutMs: number;
    ackTimeoutMs: number;
    maxConnections: number;
    tls?: { certFile: string; keyFile: string };
  };
  /** Bounds on the work one document can cause. */
  limits: {
    /** UTF-8 bytes of one document's extracted narrative; above: dead letter DOCUMENT_TOO_LARGE. */
    maxNarrativeBytes: number;
    /** Entities the model may find in one document; above: dead letter OUTPUT_TOO_LARGE. */
    maxEntitiesPerDocument: number;
    /** Source spans (derivation-reference extensions) kept per resource; the rest are counted and dropped. */
    maxSpansPerResource: number;
    /** Entries in one FHIR transaction; above: dead letter OUTPUT_TOO_LARGE. */
    maxTransactionEntries: number;
    /** Serialized bytes of one FHIR transaction; above: dead letter OUTPUT_TOO_LARGE. */
    maxTransactionBytes: number;
    /** Tries to write one dead-letter record before the consumer stops (unhealthy). */
    deadLetterAttempts: number;
    /** How long a job waits for an unavailable FHIR server before it spends its attempts. */
    fhirMaxOutageMs: number;
  };
}

export class ConfigError extends MednerError {
  constructor(readonly problems: string[]) {
    super('CONFIG_INVALID', `invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates configuration; throws ConfigError with one line per bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.fromEntries(
    Object.keys(envSchema.shape)
      .filter((k) => env[k] !== undefined && env[k] !== '')
      .map((k) => [k, env[k]]),
  );
  const parsed = envSchema.safeParse(known);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const key = String(i.path[0] ?? '?');
        return `${key}=${JSON.stringify(known[key] ?? '')}: ${i.message}`;
      }),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  const inputs: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    const m = INPUT_TOPIC_VAR.exec(k);
    if (!m || v === undefined || v === '') continue;
    if (!KAFKA_TOPIC_NAME.test(v)) problems.push(`${k}=${JSON.stringify(v)}: not a Kafka topic name (letters, digits, '.', '_', '-'; at most 249)`);
    else inputs[m[1]!.toLowerCase()] = v;
  }
  if (e.QUEUE_LOW_WATER >= e.QUEUE_HIGH_WATER) {
    problems.push(`QUEUE_LOW_WATER=${e.QUEUE_LOW_WATER}: must be below QUEUE_HIGH_WATER (${e.QUEUE_HIGH_WATER})`);
  }
  const oauthKeys = ['FHIR_OAUTH_TOKEN_URL', 'FHIR_OAUTH_CLIENT_ID', 'FHIR_OAUTH_CLIENT_SECRET'] as const;
  const oauthSet = oauthKeys.filter((k) => e[k] !== undefined);
  if (oauthSet.length > 0 && oauthSet.length < oauthKeys.length) {
    const missing = oauthKeys.filter((k) => e[k] === undefined).join(', ');
    problems.push(`${oauthSet.join(', ')}: OAuth2 client credentials also need ${missing}`);
  }
  if (oauthSet.length > 0 && e.FHIR_BEARER_TOKEN !== undefined) {
    problems.push('FHIR_BEARER_TOKEN: set either a bearer token or OAuth2 client credentials, not both');
  }
  if (e.VIEW_BEARER_TOKEN !== undefined && e.VIEW_BASIC_AUTH !== undefined) {
    problems.push('VIEW_BEARER_TOKEN: set either a bearer token or VIEW_BASIC_AUTH for the viewer, not both');
  }
  for (const k of ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE'] as const) {
    const f = e[k];
    if (f === undefined) continue;
    try {
      fs.accessSync(f, fs.constants.R_OK);
    } catch {
      problems.push(`${k}=${JSON.stringify(f)}: cannot read this file`);
    }
  }
  if ((e.KAFKA_SSL_CERT_FILE === undefined) !== (e.KAFKA_SSL_KEY_FILE === undefined)) {
    problems.push('KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE: a client certificate needs both');
  }
  if (e.KAFKA_SSL_KEY_PASSWORD !== undefined && e.KAFKA_SSL_KEY_FILE === undefined) problems.push('KAFKA_SSL_KEY_PASSWORD: set without KAFKA_SSL_KEY_FILE');
  const saslSet = (['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const).filter((k) => e[k] !== undefined);
  if (e.KAFKA_SASL_MECHANISM !== undefined && saslSet.length < 2) {
    problems.push(`KAFKA_SASL_MECHANISM=${e.KAFKA_SASL_MECHANISM}: also needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`);
  }
  if (e.KAFKA_SASL_MECHANISM === undefined && saslSet.length > 0) {
    problems.push(`${saslSet.join(', ')}: set KAFKA_SASL_MECHANISM too (plain, scram-sha-256 or scram-sha-512)`);
  }
  const redisUrl = new URL(e.REDIS_URL);
  if (redisUrl.protocol !== 'redis:' && redisUrl.protocol !== 'rediss:') {
    problems.push(`REDIS_URL=${JSON.stringify(e.REDIS_URL)}: expected redis:// or rediss:// (TLS)`);
  }
  if ((e.MLLP_TLS_CERT === undefined) !== (e.MLLP_TLS_KEY === undefined)) {
    problems.push(`${e.MLLP_TLS_CERT === undefined ? 'MLLP_TLS_KEY' : 'MLLP_TLS_CERT'}: TLS needs both MLLP_TLS_CERT and MLLP_TLS_KEY`);
  }
  if (e.OUTPUT_SINK === 'ndjson' && e.NDJSON_DIR === undefined) problems.push('OUTPUT_SINK=ndjson: also needs NDJSON_DIR');
  const sinks = e.OUTPUT_SINKS ?? (e.OUTPUT_SINK === 'ndjson' ? ['ndjson', 'kafka'] : e.FHIR_WRITE ? ['fhir', 'kafka'] : ['kafka']);
  if (e.OUTPUT_SINKS) {
    const list = e.OUTPUT_SINKS.join(',');
    if (e.OUTPUT_SINKS.includes('ndjson') && e.NDJSON_DIR === undefined) problems.push(`OUTPUT_SINKS=${list}: the ndjson sink also needs NDJSON_DIR`);
    if (e.OUTPUT_SINKS.includes('fhir') && !e.FHIR_WRITE) problems.push(`OUTPUT_SINKS=${list}: names fhir, but FHIR_WRITE=false`);
    if (e.OUTPUT_SINK === 'ndjson' && !e.OUTPUT_SINKS.includes('ndjson')) problems.push(`OUTPUT_SINK=ndjson: OUTPUT_SINKS=${list} does not name ndjson`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  // REDIS_PASSWORD (a Secret, say) wins over a password in the URL (a ConfigMap).
  if (e.REDIS_PASSWORD !== undefined) redisUrl.password = encodeURIComponent(e.REDIS_PASSWORD);

  const ssl: KafkaTls | undefined =
    e.KAFKA_SSL || e.KAFKA_SSL_CA_FILE || e.KAFKA_SSL_CERT_FILE
      ? {
          ...(e.KAFKA_SSL_CA_FILE ? { caFile: e.KAFKA_SSL_CA_FILE } : {}),
          ...(e.KAFKA_SSL_CERT_FILE ? { certFile: e.KAFKA_SSL_CERT_FILE } : {}),
          ...(e.KAFKA_SSL_KEY_FILE ? { keyFile: e.KAFKA_SSL_KEY_FILE } : {}),
          ...(e.KAFKA_SSL_KEY_PASSWORD ? { keyPassword: e.KAFKA_SSL_KEY_PASSWORD } : {}),
        }
      : undefined;
  const sasl: KafkaSasl | undefined =
    e.KAFKA_SASL_MECHANISM && e.KAFKA_SASL_USERNAME && e.KAFKA_SASL_PASSWORD
      ? { mechanism: e.KAFKA_SASL_MECHANISM, username: e.KAFKA_SASL_USERNAME, password: e.KAFKA_SASL_PASSWORD }
      : undefined;

  const auth: Config['fhir']['auth'] =
    e.FHIR_OAUTH_TOKEN_URL && e.FHIR_OAUTH_CLIENT_ID && e.FHIR_OAUTH_CLIENT_SECRET
      ? { kind: 'oauth2', tokenUrl: e.FHIR_OAUTH_TOKEN_URL, clientId: e.FHIR_OAUTH_CLIENT_ID, clientSecret: e.FHIR_OAUTH_CLIENT_SECRET }
      : e.FHIR_BEARER_TOKEN
        ? { kind: 'bearer', token: e.FHIR_BEARER_TOKEN }
        : { kind: 'none' };

  const cores = os.availableParallelism();
  // 0: the engine's default for the provider, on the cores each worker gets.
  const sessions = e.INFERENCE_SESSIONS > 0 ? e.INFERENCE_SESSIONS : defaultSessions(e.EXECUTION_PROVIDER, Math.max(1, Math.floor(cores / e.INFERENCE_WORKERS)));
  return {
    kafka: { brokers: e.KAFKA_BROKERS, clientId: e.KAFKA_CLIENT_ID, groupId: e.KAFKA_GROUP_ID, ...(ssl ? { ssl } : {}), ...(sasl ? { sasl } : {}) },
    topics: {
      inputs,
      output: e.TOPIC_OUTPUT,
      deadLetter: e.TOPIC_DEAD_LETTER,
      partitions: e.TOPIC_PARTITIONS,
      replicationFactor: e.TOPIC_REPLICATION_FACTOR,
    },
    redis: {
      // The URL as given (byte for byte) unless a password was added.
      url: e.REDIS_PASSWORD !== undefined ? redisUrl.toString() : e.REDIS_URL,
      queueName: e.QUEUE_NAME,
      highWater: e.QUEUE_HIGH_WATER,
      lowWater: e.QUEUE_LOW_WATER,
      jobAttempts: e.JOB_ATTEMPTS,
    },
    fhir: { baseUrl: e.FHIR_BASE_URL.replace(/\/+$/, ''), timeoutMs: e.FHIR_TIMEOUT_MS, write: e.FHIR_WRITE, reconcile: e.FHIR_RECONCILE, canonicalBase: e.FHIR_CANONICAL_BASE, auth },
    sinks,
    output: sinks.includes('ndjson') && e.NDJSON_DIR ? { sink: 'ndjson', dir: e.NDJSON_DIR, maxFileBytes: e.NDJSON_MAX_FILE_BYTES } : { sink: 'fhir', maxFileBytes: e.NDJSON_MAX_FILE_BYTES },
    model: {
      dir: e.MODEL_DIR,
      variant: e.MODEL_VARIANT,
      executionProvider: e.EXECUTION_PROVIDER,
      gpuIds: e.GPU_IDS,
      workers: e.INFERENCE_WORKERS,
      sessions,
      // 0 means "cores divided among the sessions", so sessions never oversubscribe the CPU.
      intraOpThreads: e.INTRA_OP_THREADS > 0 ? e.INTRA_OP_THREADS : defaultIntraOpThreads(e.INFERENCE_WORKERS * sessions, cores),
      batchSize: e.BATCH_SIZE,
      batchWaitMs: e.BATCH_WAIT_MS,
      maxPadding: e.BATCH_MAX_PADDING,
      batchInvariant: e.BATCH_INVARIANT,
      linking: e.LINKING,
      terminologyDir: e.TERMINOLOGY_DIR,
    },
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT },
    view: {
      host: e.VIEW_HOST,
      port: e.VIEW_PORT,
      auth: e.VIEW_BEARER_TOKEN
        ? { kind: 'bearer', token: e.VIEW_BEARER_TOKEN }
        : e.VIEW_BASIC_AUTH
          ? { kind: 'basic', user: e.VIEW_BASIC_AUTH.slice(0, e.VIEW_BASIC_AUTH.indexOf(':')), password: e.VIEW_BASIC_AUTH.slice(e.VIEW_BASIC_AUTH.indexOf(':') + 1) }
          : { kind: 'none' },
      fhirLinks: e.VIEW_FHIR_LINKS,
      ...(e.VIEW_FHIR_PUBLIC_URL ? { fhirPublicUrl: e.VIEW_FHIR_PUBLIC_URL.replace(/\/+$/, '') } : {}),
      pageSize: e.VIEW_PAGE_SIZE,
    },
    logLevel: e.LOG_LEVEL,
    stackDir: e.STACK_DIR,
    fhirServerDb: e.FHIR_SERVER_DB,
    fhirServerJit: e.FHIR_SERVER_JIT,
    fhirServer: { heap: e.FHIR_SERVER_HEAP, maxRequestBytes: e.FHIR_SERVER_MAX_REQUEST_BYTES, validate: e.FHIR_SERVER_VALIDATE },
    mllp: {
      host: e.MLLP_HOST,
      port: e.MLLP_PORT,
      maxMessageBytes: e.MLLP_MAX_MESSAGE_BYTES,
      idleTimeoutMs: e.MLLP_IDLE_TIMEOUT_MS,
      ackTimeoutMs: e.MLLP_ACK_TIMEOUT_MS,
      maxConnections: e.MLLP_MAX_CONNECTIONS,
      ...(e.MLLP_TLS_CERT && e.MLLP_TLS_KEY ? { tls: { certFile: e.MLLP_TLS_CERT, keyFile: e.MLLP_TLS_KEY } } : {}),
    },
    limits: {
      maxNarrativeBytes: e.MAX_NARRATIVE_BYTES,
      maxEntitiesPerDocument: e.MAX_ENTITIES_PER_DOCUMENT,
      maxSpansPerResource: e.MAX_SPANS_PER_RESOURCE,
      maxTransactionEntries: e.MAX_TRANSACTION_ENTRIES,
      maxTransactionBytes: e.MAX_TRANSACTION_BYTES,
      deadLetterAttempts: e.DEAD_LETTER_ATTEMPTS,
      fhirMaxOutageMs: e.FHIR_MAX_OUTAGE_MS,
    },
  };
}

/** The environment variables the config reads, for docs and `medner config`. */
export const CONFIG_KEYS = Object.keys(envSchema.shape);

/** Whether medner reads this environment variable: one of CONFIG_KEYS, or an input topic (TOPIC_<KEY>_IN). */
export function isConfigKey(k: string): boolean {
  return CONFIG_KEYS.includes(k) || INPUT_TOPIC_VAR.test(k);
}
