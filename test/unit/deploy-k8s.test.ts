/**
 * deploy/k8s renders with `kubectl kustomize` (Debian's kubernetes-client, kustomize v2.0.3, or a
 * newer kubectl) and every rendered object is valid against the Kubernetes, KEDA and Strimzi
 * schemas (test/support/k8s-validate.ts: schema validators plus unknown fields at any depth).
 * Then what the schemas cannot know: every setting is configured, references resolve, selectors
 * select, the autoscalers agree with the topics and the queue. Without kubectl the test skips
 * visibly (fails under CI=true; .ci/run installs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONFIG_KEYS, isConfigKey, loadConfig } from '../../src/config/config.ts';
import { REPO_ROOT } from '../../src/stack/paths.ts';
import { findKubectl, render, schemaProblems, unknownFieldProblems, validateObjects, type K8sObject } from '../support/k8s-validate.ts';

const kubectl = findKubectl();
const skip = kubectl ? false : 'kubectl not found (apt-get install kubernetes-client)';
if (!kubectl && process.env.CI === 'true') {
  test('kubectl is installed under CI', () => assert.fail('kubectl not found: .ci/run installs Debian kubernetes-client'));
}

const OVERLAYS = ['deploy/k8s/overlays/cpu', 'deploy/k8s/overlays/gpu'];
const ALL = [...OVERLAYS, 'deploy/k8s/kafka-topics', 'deploy/k8s/samples/fhir-postgres'];
/** Settings only `medner stack` reads (the local services), not a worker in a cluster. */
const STACK_ONLY = ['STACK_DIR', 'FHIR_SERVER_DB', 'FHIR_SERVER_JIT', 'FHIR_SERVER_HEAP', 'FHIR_SERVER_MAX_REQUEST_BYTES', 'FHIR_SERVER_VALIDATE'];

const rendered = new Map<string, K8sObject[]>();
const get = (dir: string): K8sObject[] => {
  if (!rendered.has(dir)) rendered.set(dir, render(kubectl!, dir));
  return rendered.get(dir)!;
};

type Any = any; // rendered YAML, navigated after the schema checks below passed
const byKind = (objs: K8sObject[], kind: string): Any[] => objs.filter((o) => o.kind === kind);
const one = (objs: K8sObject[], kind: string, name: string): Any => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `no ${kind}/${name}`);
  return o;
};
const decode = (data: Record<string, string> | undefined) => Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
const configMap = (objs: K8sObject[]): Record<string, string> => byKind(objs, 'ConfigMap').find((c) => c.metadata.name.startsWith('medner-config'))?.data ?? {};
const secret = (objs: K8sObject[]): Record<string, string> => {
  const s = byKind(objs, 'Secret').find((c) => c.metadata.name.startsWith('medner-secrets'));
  return { ...decode(s?.data), ...(s?.stringData ?? {}) };
};
const workloads = (objs: K8sObject[]): Any[] => objs.filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind));
const mednerContainers = (objs: K8sObject[]): { deployment: string; c: Any }[] =>
  byKind(objs, 'Deployment').flatMap((d) => (d.spec.template.spec.containers as Any[]).filter((c) => /^medner(-gpu)?(:|$)/.test(c.image)).map((c) => ({ deployment: d.metadata.name, c })));
const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

for (const dir of ALL) {
  test(`${dir}: renders with kubectl kustomize and every object validates against its schema`, { skip }, async () => {
    const objs = get(dir);
    assert.ok(objs.length >= 4, `${dir} rendered ${objs.length} objects`);
    assert.deepEqual(await validateObjects(objs), []);
  });
}

test('a wrong field fails validation: misspelled, misplaced, mistyped, in Kubernetes, KEDA and Strimzi objects', { skip }, async () => {
  const objs = structuredClone(get('deploy/k8s/overlays/cpu')) as Any[];
  const dep = one(objs, 'Deployment', 'medner-ingest');
  dep.spec.replicass = 2; // misspelled
  dep.spec.template.spec.containers[0].livenessProbe.httpGet.paht = '/health'; // misspelled, deep
  const inf = one(objs, 'Deployment', 'medner-inference');
  inf.spec.template.spec.containers[0].resources.requests.cpu = { cores: 2 }; // wrong type
  const so = one(objs, 'ScaledObject', 'medner-inference');
  so.spec.maxReplicas = 3; // KEDA calls it maxReplicaCount
  one(objs, 'ScaledObject', 'medner-ingest').spec.triggers[0].metadata.lagThreshold = 5000; // must be a string
  const topics = structuredClone(get('deploy/k8s/kafka-topics')) as Any[];
  topics[0].spec.partition = 12; // Strimzi: partitions
  topics[1].spec.replicas = 'three';
  const problems = await validateObjects([...objs, ...topics]);
  const expect = [
    /Deployment\/medner-ingest: spec\.replicass: unknown field/,
    /Deployment\/medner-ingest: spec\.template\.spec\.containers\[0\]\.livenessProbe\.httpGet\.paht: unknown field/,
    /Deployment\/medner-inference: .*requests\/cpu/,
    /ScaledObject\/medner-inference: spec\.maxReplicas: unknown field/,
    /ScaledObject\/medner-ingest: .*lagThreshold must be string/,
    /KafkaTopic\/.*: spec\.partition: unknown field/,
    /KafkaTopic\/.*replicas must be integer/,
  ];
  for (const re of expect) assert.ok(problems.some((p) => re.test(p)), `expected a problem matching ${re}, got:\n${problems.join('\n')}`);
  // The untouched objects are still clean: only the changed ones are reported.
  assert.ok(problems.every((p) => /medner-ingest|medner-inference|KafkaTopic/.test(p)), problems.join('\n'));
});

test('an unknown kind or apiVersion is reported, not skipped', { skip }, async () => {
  const bogus = { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledThing', metadata: { name: 'x' } } as K8sObject;
  assert.match((await schemaProblems([bogus])).join('\n'), /ScaledThing\/x: no schema/);
  assert.match(unknownFieldProblems([{ ...bogus, apiVersion: 'example.com/v1' }]).join('\n'), /no schema/);
});

test('a wrong field in a kustomize patch fails: a real overlay rendered by kubectl', { skip }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medner-k8s-'));
  try {
    // kustomize v2 accepts only relative paths to a base.
    const base = path.relative(tmp, path.join(REPO_ROOT, 'deploy/k8s/overlays/cpu'));
    fs.writeFileSync(path.join(tmp, 'kustomization.yaml'), `bases:\n  - ${base}\npatchesStrategicMerge:\n  - bad.yaml\n`);
    fs.writeFileSync(
      path.join(tmp, 'bad.yaml'),
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: medner-ingest\nspec:\n  template:\n    spec:\n      containers:\n        - name: ingest\n          resource:\n            limits: { cpu: "1" }\n',
    );
    const problems = await validateObjects(render(kubectl!, tmp));
    assert.deepEqual(problems, ['Deployment/medner-ingest: spec.template.spec.containers[0].resource: unknown field']);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

for (const dir of OVERLAYS) {
  test(`${dir}: every setting is in the ConfigMap or the Secret, and each container's environment is a valid configuration`, { skip }, () => {
    const objs = get(dir);
    const cm = configMap(objs);
    const sec = secret(objs);
    const missing = CONFIG_KEYS.filter((k) => !STACK_ONLY.includes(k) && !(k in cm) && !(k in sec));
    assert.deepEqual(missing, [], `add these settings to deploy/k8s/base/kustomization.yaml (configMapGenerator, or secretGenerator for credentials)`);
    const unknown = [...Object.keys(cm), ...Object.keys(sec)].filter((k) => !isConfigKey(k));
    assert.deepEqual(unknown, [], 'keys medner does not read');
    for (const k of ['FHIR_BEARER_TOKEN', 'FHIR_OAUTH_CLIENT_SECRET', 'REDIS_URL', 'REDIS_PASSWORD', 'KAFKA_SASL_PASSWORD', 'KAFKA_SSL_KEY_PASSWORD']) assert.ok(k in sec && !(k in cm), `${k} belongs in the Secret only`);
    const containers = mednerContainers(objs);
    assert.deepEqual(containers.map((c) => c.deployment).sort(), ['medner-inference', 'medner-ingest', 'medner-viewer']);
    for (const { deployment, c } of containers) {
      const env: Record<string, string> = {};
      for (const from of c.envFrom as Any[]) {
        if (from.configMapRef) Object.assign(env, one(objs, 'ConfigMap', from.configMapRef.name).data);
        if (from.secretRef) Object.assign(env, decode(one(objs, 'Secret', from.secretRef.name).data));
      }
      for (const e of (c.env ?? []) as Any[]) env[e.name] = e.value;
      const config = loadConfig(env);
      assert.equal(config.http.host, '0.0.0.0', `${deployment}: probes need HTTP_HOST=0.0.0.0`);
      if (deployment === 'medner-inference') {
        const cpu = Number(String(c.resources.limits.cpu));
        assert.ok(config.model.sessions * config.model.intraOpThreads <= cpu, `${deployment}: ${config.model.sessions} sessions x ${config.model.intraOpThreads} threads on ${cpu} cores`);
      }
    }
  });

  test(`${dir}: probes, references and selectors hold together`, { skip }, () => {
    const objs = get(dir);
    const ns = one(objs, 'Namespace', 'medner').metadata.name;
    for (const o of objs) if (o.kind !== 'Namespace') assert.equal(o.metadata.namespace, ns, `${o.kind}/${o.metadata.name} namespace`);
    for (const { deployment, c } of mednerContainers(objs)) {
      const ports = new Set((c.ports as Any[]).map((p) => p.name));
      assert.equal(c.livenessProbe?.httpGet?.path, '/health', `${deployment} liveness`);
      assert.equal(c.readinessProbe?.httpGet?.path, '/ready', `${deployment} readiness`);
      assert.ok(ports.has(c.livenessProbe.httpGet.port) && ports.has(c.readinessProbe.httpGet.port), `${deployment}: probe port is a declared port`);
      assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory, `${deployment}: requests and limits`);
    }
    assert.deepEqual((one(objs, 'Deployment', 'medner-viewer').spec.template.spec.containers[0].ports as Any[]).map((p) => p.containerPort), [9465]);
    for (const d of workloads(objs)) {
      assert.ok(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels), `${d.metadata.name}: selector selects its own pods`);
      for (const c of d.spec.template.spec.containers as Any[]) {
        for (const from of (c.envFrom ?? []) as Any[]) {
          if (from.configMapRef) one(objs, 'ConfigMap', from.configMapRef.name);
          if (from.secretRef) one(objs, 'Secret', from.secretRef.name);
        }
      }
    }
    for (const s of byKind(objs, 'Service')) {
      if (s.spec.type === 'ExternalName') {
        assert.ok(s.spec.externalName, `${s.metadata.name}: externalName`);
        continue;
      }
      const pods = workloads(objs).filter((w) => matches(s.spec.selector, w.spec.template.metadata.labels));
      assert.ok(pods.length > 0, `Service ${s.metadata.name} selects no pods`);
      for (const p of s.spec.ports as Any[]) {
        const declared = pods.flatMap((w) => (w.spec.template.spec.containers as Any[]).flatMap((c) => (c.ports ?? []) as Any[]));
        assert.ok(declared.some((d) => d.name === p.targetPort || d.containerPort === p.targetPort), `Service ${s.metadata.name}: targetPort ${p.targetPort}`);
      }
    }
    const pdbs = byKind(objs, 'PodDisruptionBudget');
    for (const d of byKind(objs, 'Deployment')) {
      const pdb = pdbs.filter((p) => matches(p.spec.selector.matchLabels, d.spec.template.metadata.labels));
      assert.equal(pdb.length, 1, `one PodDisruptionBudget for ${d.metadata.name}`);
    }
    for (const name of ['fhir-server', 'fhir-postgresql']) assert.equal(one(objs, 'Service', name).spec.type, 'ExternalName');
    assert.match(configMap(objs).FHIR_BASE_URL ?? '', /^http:\/\/fhir-server:8080\//);
    for (const so of byKind(objs, 'ScaledObject')) {
      one(objs, 'Deployment', so.spec.scaleTargetRef.name);
      for (const t of so.spec.triggers as Any[]) {
        if (!t.authenticationRef) continue;
        const auth = one(objs, 'TriggerAuthentication', t.authenticationRef.name);
        for (const ref of auth.spec.secretTargetRef as Any[]) {
          const s = one(objs, 'Secret', ref.name);
          assert.ok(ref.key in { ...s.data, ...s.stringData }, `${ref.name} has ${ref.key}`);
        }
      }
    }
  });

  test(`${dir}: the autoscalers agree with the topics, the consumer group and the queue`, { skip }, () => {
    const objs = get(dir);
    const topics = get('deploy/k8s/kafka-topics');
    const cm = configMap(objs);
    const topicOf = (name: string) => {
      const t = byKind(topics, 'KafkaTopic').find((k) => (k.spec.topicName ?? k.metadata.name) === name);
      assert.ok(t, `KafkaTopic for ${name}`);
      return t;
    };
    for (const key of ['TOPIC_FHIR_IN', 'TOPIC_HL7_IN', 'TOPIC_OUTPUT', 'TOPIC_DEAD_LETTER']) {
      const t = topicOf(cm[key]!);
      assert.equal(t.spec.replicas, 3, `${key} replicas`);
      assert.equal(Number(t.spec.config['min.insync.replicas']), 2, `${key} min.insync.replicas`);
      assert.ok(Number(t.spec.config['retention.ms']) >= 7 * 86_400_000, `${key} retention`);
      assert.ok(t.metadata.labels?.['strimzi.io/cluster'], `${key}: strimzi.io/cluster label`);
    }
    assert.equal(Number(cm.TOPIC_REPLICATION_FACTOR), 3);

    // Ingest: kafka scaler per input topic, never more replicas than partitions.
    const ingest = one(objs, 'ScaledObject', 'medner-ingest');
    const inputs = [cm.TOPIC_FHIR_IN!, cm.TOPIC_HL7_IN!];
    const kafkaTriggers = (ingest.spec.triggers as Any[]).filter((t) => t.type === 'kafka');
    assert.deepEqual(kafkaTriggers.map((t) => t.metadata.topic).sort(), [...inputs].sort());
    for (const t of kafkaTriggers) {
      assert.equal(t.metadata.consumerGroup, cm.KAFKA_GROUP_ID);
      assert.equal(t.metadata.bootstrapServers, cm.KAFKA_BROKERS);
      assert.equal(t.metadata.allowIdleConsumers, 'false');
      // A full queue alone (records not committed while their jobs wait) must not add ingest pods.
      assert.ok(Number(t.metadata.lagThreshold) > Number(cm.QUEUE_HIGH_WATER), 'lagThreshold above QUEUE_HIGH_WATER');
    }
    const partitions = Math.min(...inputs.map((n) => topicOf(n).spec.partitions as number));
    assert.ok(ingest.spec.maxReplicaCount <= partitions, `ingest maxReplicaCount ${ingest.spec.maxReplicaCount} > ${partitions} partitions`);
    assert.equal(ingest.spec.maxReplicaCount, partitions, 'ingest can use every partition');
    assert.ok(ingest.spec.minReplicaCount >= 1, 'ingest serves /queue for the inference scaler: never zero');
    assert.equal(Number(cm.TOPIC_PARTITIONS), partitions);

    // Inference: the BullMQ backlog from GET /queue on the ingest Service, in the rendered namespace.
    const inference = one(objs, 'ScaledObject', 'medner-inference');
    const batch = Number(cm.BATCH_SIZE);
    const triggers = new Map((inference.spec.triggers as Any[]).map((t) => [t.metadata.valueLocation, t]));
    assert.deepEqual([...triggers.keys()].sort(), ['live.total', 'replay.total']);
    const svc = one(objs, 'Service', 'medner-ingest');
    for (const t of triggers.values()) {
      assert.equal(t.type, 'metrics-api');
      assert.equal(t.metadata.format, 'json');
      const url = new URL(t.metadata.url);
      assert.equal(url.hostname, `${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`);
      assert.ok((svc.spec.ports as Any[]).some((p) => String(p.port) === url.port), 'URL port is the Service port');
      assert.equal(url.pathname, '/queue');
    }
    assert.equal(Number(triggers.get('live.total').metadata.targetValue), 2 * batch, 'live target: a pod takes 2 x BATCH_SIZE jobs');
    assert.equal(Number(triggers.get('replay.total').metadata.targetValue), Math.max(1, Math.floor(batch / 4)), 'replay target: BATCH_SIZE / 4 slots');
    assert.ok(
      inference.spec.maxReplicaCount * 2 * batch <= Number(cm.QUEUE_HIGH_WATER),
      `maxReplicaCount ${inference.spec.maxReplicaCount} x ${2 * batch} jobs is above QUEUE_HIGH_WATER ${cm.QUEUE_HIGH_WATER}: backpressure would stop the backlog before the maximum`,
    );
    assert.ok(inference.spec.maxReplicaCount >= 1 && inference.spec.minReplicaCount <= inference.spec.maxReplicaCount);
  });
}

test('the GPU overlay asks for one GPU per inference pod with node selector and tolerations; CPU pods ask for none', { skip }, () => {
  const gpu = one(get('deploy/k8s/overlays/gpu'), 'Deployment', 'medner-inference').spec.template.spec;
  const c = gpu.containers[0];
  assert.equal(c.resources.limits['nvidia.com/gpu'], '1');
  assert.ok(Object.keys(gpu.nodeSelector ?? {}).some((k: string) => k.startsWith('nvidia.com/')));
  assert.ok((gpu.tolerations as Any[]).some((t) => t.key === 'nvidia.com/gpu' && t.effect === 'NoSchedule'));
  assert.equal((c.env as Any[]).find((e) => e.name === 'EXECUTION_PROVIDER')?.value, 'cuda');
  assert.equal(one(get('deploy/k8s/overlays/gpu'), 'ScaledObject', 'medner-inference').spec.minReplicaCount, 0, 'GPU inference scales to zero');
  for (const d of byKind(get('deploy/k8s/overlays/cpu'), 'Deployment')) {
    for (const k of d.spec.template.spec.containers as Any[]) assert.equal(k.resources?.limits?.['nvidia.com/gpu'], undefined);
  }
  for (const name of ['medner-ingest', 'medner-viewer']) {
    assert.equal(one(get('deploy/k8s/overlays/gpu'), 'Deployment', name).spec.template.spec.nodeSelector, undefined, `${name} stays off GPU nodes`);
  }
});

test('the optional sample replaces the external services with in-cluster ones that select its pods', { skip }, () => {
  const objs = get('deploy/k8s/samples/fhir-postgres');
  for (const name of ['fhir-server', 'fhir-postgresql']) {
    const s = one(objs, 'Service', name);
    assert.equal(s.spec.type, 'ClusterIP');
    assert.equal(s.spec.externalName, undefined);
    const pods = workloads(objs).filter((w) => matches(s.spec.selector, w.spec.template.metadata.labels));
    assert.deepEqual(pods.map((w) => w.metadata.name), [name], `Service ${name} selects the sample's pods`);
  }
  const hapi = one(objs, 'Deployment', 'fhir-server').spec.template.spec.containers[0];
  assert.match((hapi.env as Any[]).find((e) => e.name === 'spring.datasource.url').value, /\/\/fhir-postgresql:5432\//);
});
