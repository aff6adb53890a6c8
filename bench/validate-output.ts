/**
 * `npx tsx bench/validate-output.ts BUNDLES.ndjson [--fhir URL]`: every resource in the transaction
 * Bundles (one per line, as `medner extract --fhir` prints them) sent to the FHIR server's
 * `$validate` (FHIR_BASE_URL by default); prints the error count per resource type and per message,
 * and the same as JSON (bench-results/validate-output.json). Our FHIR server validates with R4 core,
 * hl7.terminology.r4 and hl7.fhir.uv.extensions.r4 (deploy/fhir-server/README.md).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type * as fhir4 from 'fhir/r4.js';
import { loadConfig } from '../src/config/config.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const base = (flag('--fhir') ?? loadConfig().fhir.baseUrl).replace(/\/+$/, '');
const file = args[0];
if (!file) throw new Error('usage: bench/validate-output.ts BUNDLES.ndjson [--fhir URL]');

const bundles = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as fhir4.Bundle);
const byType = new Map<string, { resources: number; errors: number }>();
const byMessage = new Map<string, number>();
for (const b of bundles) {
  for (const e of b.entry ?? []) {
    const r = e.resource;
    if (!r) continue;
    const resp = await fetch(`${base}/${r.resourceType}/$validate`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(r) });
    const outcome = (await resp.json()) as fhir4.OperationOutcome;
    const errors = (outcome.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    const t = byType.get(r.resourceType) ?? { resources: 0, errors: 0 };
    t.resources++;
    t.errors += errors.length;
    byType.set(r.resourceType, t);
    // the message without the resource's own values (ids, hashes) so equal problems count together
    for (const i of errors) {
      const m = (i.diagnostics ?? i.details?.text ?? '?').replace(/[0-9a-f]{16,}/g, '…').slice(0, 240);
      byMessage.set(m, (byMessage.get(m) ?? 0) + 1);
    }
  }
}
const total = [...byType.values()].reduce((s, t) => ({ resources: s.resources + t.resources, errors: s.errors + t.errors }), { resources: 0, errors: 0 });
console.log(`| type | resources | errors |\n|---|---|---|`);
for (const [t, v] of [...byType].sort()) console.log(`| ${t} | ${v.resources} | ${v.errors} |`);
console.log(`| all (${bundles.length} bundles) | ${total.resources} | ${total.errors} |`);
for (const [m, n] of [...byMessage].sort((a, b) => b[1] - a[1])) console.log(`${n}\t${m}`);
mkdirSync('bench-results', { recursive: true });
const json = { fhir: base, bundles: bundles.length, ...total, byType: Object.fromEntries(byType), byMessage: Object.fromEntries(byMessage) };
writeFileSync('bench-results/validate-output.json', `${JSON.stringify(json, null, 2)}\n`);
