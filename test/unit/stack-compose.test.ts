import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { isConfigKey } from '../../src/config/config.ts';
import { REPO_ROOT } from '../../src/stack/paths.ts';

// docker-compose.yml and the Dockerfile cannot run here; at least their settings must be ones the config reads.
const read = (f: string) => fs.readFileSync(path.join(REPO_ROOT, f), 'utf8');

/** The UPPER_CASE keys of the YAML block that starts at `anchor` and ends at the next top-level key. */
function blockKeys(yaml: string, anchor: RegExp): string[] {
  const start = yaml.search(anchor);
  assert.ok(start >= 0, `no ${anchor} in docker-compose.yml`);
  const rest = yaml.slice(start).split('\n');
  const end = rest.findIndex((l, i) => i > 0 && /^\S/.test(l));
  return [...rest.slice(1, end < 0 ? undefined : end).join('\n').matchAll(/^\s+([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1] ?? '');
}

test('the worker environment in docker-compose.yml uses only config keys', () => {
  const yaml = read('docker-compose.yml');
  const keys = blockKeys(yaml, /^x-medner-env:/m);
  assert.ok(keys.includes('KAFKA_BROKERS') && keys.includes('REDIS_URL') && keys.includes('FHIR_BASE_URL'));
  const inference = blockKeys(yaml, /^ {2}inference:/m).filter((k) => !keys.includes(k));
  assert.deepEqual([...keys, ...inference].filter((k) => !isConfigKey(k)), []);
  assert.match(yaml, /command: \["worker", "--role", "inference"\]/);
  assert.match(yaml, /command: \["worker", "--role", "ingest"\]/);
});

test('the Dockerfile sets only config keys (besides npm/onnxruntime install switches)', () => {
  // ENV instructions with their backslash-continued lines.
  const lines = read('Dockerfile').split('\n');
  let envLines = '';
  let inEnv = false;
  for (const l of lines) {
    if (/^ENV\s/.test(l)) inEnv = true;
    if (inEnv && !/^\s*#/.test(l)) envLines += `${l}\n`;
    if (inEnv && !/^\s*#/.test(l) && !l.trimEnd().endsWith('\\')) inEnv = false;
  }
  const keys = [...envLines.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1] ?? '');
  const own = keys.filter((k) => !['NODE_ENV', 'ONNXRUNTIME_NODE_INSTALL', 'npm_config_onnxruntime_node_install'].includes(k));
  assert.ok(own.length > 0);
  assert.deepEqual(own.filter((k) => !isConfigKey(k)), []);
});
