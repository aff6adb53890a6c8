/**
 * Renders kustomizations with `kubectl kustomize` and validates every object against the
 * Kubernetes, KEDA and Strimzi schemas of the `kubernetes-models` packages, in two layers:
 *
 * 1. the packages' JSON-schema validators (types, required fields, enums, formats, patterns);
 * 2. unknown fields, which those schemas (like Kubernetes' own OpenAPI) let through but the API
 *    server rejects or silently drops (kubectl's strict field validation): each object is checked
 *    as a TypeScript object literal against the package's interface, where an unknown property
 *    anywhere in the tree is an excess-property error.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import ts from 'typescript';
import YAML from 'yaml';
import { REPO_ROOT } from '../../src/stack/paths.ts';

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown };

/** The kubectl on PATH, or undefined. */
export function findKubectl(): string | undefined {
  const r = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  return r.status === 0 ? 'kubectl' : undefined;
}

/** `kubectl kustomize DIR` parsed into objects. */
export function render(kubectl: string, dir: string): K8sObject[] {
  const out = execFileSync(kubectl, ['kustomize', path.resolve(REPO_ROOT, dir)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return YAML.parseAllDocuments(out)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

/** Package module of each apiVersion's models. */
function modelModule(apiVersion: string, kind: string): string | undefined {
  if (apiVersion === 'v1') return `kubernetes-models/v1/${kind}`;
  if (['apps/v1', 'policy/v1', 'batch/v1', 'networking.k8s.io/v1', 'rbac.authorization.k8s.io/v1', 'autoscaling/v2'].includes(apiVersion)) {
    return `kubernetes-models/${apiVersion}/${kind}`;
  }
  if (apiVersion.startsWith('keda.sh/')) return `@kubernetes-models/keda/${apiVersion}/${kind}`;
  if (apiVersion.startsWith('kafka.strimzi.io/')) return `@kubernetes-models/strimzi-kafka-operator/${apiVersion}/${kind}`;
  return undefined;
}

export const describe = (o: K8sObject) => `${o.kind}/${o.metadata?.name ?? '?'}`;

/** Layer 1: the packages' schema validators. One line per problem; [] when valid. */
export async function schemaProblems(objects: K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const o of objects) {
    const mod = modelModule(o.apiVersion, o.kind);
    if (!mod) {
      problems.push(`${describe(o)}: no schema for ${o.apiVersion} ${o.kind}`);
      continue;
    }
    let Model: (new (data: unknown) => { validate(): void }) | undefined;
    try {
      Model = ((await import(mod)) as Record<string, new (data: unknown) => { validate(): void }>)[o.kind];
    } catch {
      Model = undefined;
    }
    if (!Model) {
      problems.push(`${describe(o)}: no schema for ${o.apiVersion} ${o.kind}`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (err) {
      problems.push(`${describe(o)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return problems;
}

/**
 * Layer 2: fields the schema does not know, at any depth (`spec.template.spec.containers[0].paht`),
 * found by walking each object beside its TypeScript interface from the models package.
 * Objects typed `{}` or `object` in the interfaces (x-kubernetes-preserve-unknown-fields, such as
 * a KafkaTopic's `config`) take any field, as the API server does.
 */
export function unknownFieldProblems(objects: K8sObject[]): string[] {
  const file = path.join(REPO_ROOT, 'test', '.k8s-objects.generated.ts');
  const problems: string[] = [];
  const known = objects.map((o) => modelModule(o.apiVersion, o.kind));
  const source = known.map((mod, i) => (mod ? `export type T${i} = import('${mod}').I${objects[i]!.kind};` : '')).join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const isOurs = (name: string) => path.resolve(name) === file;
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, create) => (isOurs(name) ? ts.createSourceFile(name, source, lang, true) : getSourceFile(name, lang, onError, create));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => isOurs(name) || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (isOurs(name) ? source : readFile(name));
  const program = ts.createProgram([file], options, host);
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(file);
  if (!sf) return [`cannot load ${file}`];
  for (const d of ts.getPreEmitDiagnostics(program, sf)) problems.push(`schema types: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
  const aliases = new Map<string, ts.Type>();
  sf.forEachChild((n) => {
    if (ts.isTypeAliasDeclaration(n)) aliases.set(n.name.text, checker.getTypeAtLocation(n.name));
  });

  const open = (t: ts.Type) =>
    (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) !== 0 ||
    ((t.flags & ts.TypeFlags.NonPrimitive) !== 0) ||
    ((t.flags & ts.TypeFlags.Object) !== 0 && !checker.isArrayType(t) && checker.getPropertiesOfType(t).length === 0 && checker.getIndexInfosOfType(t).length === 0);

  /** Problems of `value` against `type`, with paths under `at`. */
  const walk = (value: unknown, type: ts.Type, at: string): string[] => {
    if (value === null || typeof value !== 'object') return [];
    let t = checker.getNonNullableType(type);
    if (open(t)) return [];
    if (t.isUnion()) {
      const candidates = t.types.filter((m) => (m.flags & (ts.TypeFlags.Object | ts.TypeFlags.NonPrimitive | ts.TypeFlags.Any | ts.TypeFlags.Unknown)) !== 0);
      if (candidates.length === 0) return []; // a scalar type: layer 1 reports it
      const tries = candidates.map((m) => walk(value, m, at));
      return tries.find((p) => p.length === 0) ?? tries[0] ?? [];
    }
    if (Array.isArray(value)) {
      if (!checker.isArrayType(t)) return []; // layer 1 reports the type
      const el = checker.getTypeArguments(t as ts.TypeReference)[0];
      return el ? value.flatMap((v, i) => walk(v, el, `${at}[${i}]`)) : [];
    }
    const props = new Map(checker.getPropertiesOfType(t).map((p) => [p.name, p] as const));
    const index = checker.getIndexInfosOfType(t)[0];
    const out: string[] = [];
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const p = props.get(k);
      const where = at ? `${at}.${k}` : k;
      if (p) out.push(...walk(v, checker.getTypeOfSymbol(p), where));
      else if (index) out.push(...walk(v, index.type, where));
      else out.push(`${where}: unknown field`);
    }
    return out;
  };

  objects.forEach((o, i) => {
    const type = aliases.get(`T${i}`);
    if (!known[i] || !type) return problems.push(`${describe(o)}: no schema for ${o.apiVersion} ${o.kind}`);
    for (const p of walk(o, type, '')) problems.push(`${describe(o)}: ${p}`);
  });
  return problems;
}

/** Both layers. */
export async function validateObjects(objects: K8sObject[]): Promise<string[]> {
  return [...(await schemaProblems(objects)), ...unknownFieldProblems(objects)];
}
