/**
 * Intake throughput on one core: HL7 v2 (~5 KB generated MDM^T02 and ORU^R01 messages) and
 * FHIR DocumentReferences (Synthea's when ../shared/data is present, else generated).
 * Prints a table and writes bench-results/parse.json. Run: npm run bench:parse
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { parseDocuments } from '../src/formats/intake.ts';

const WORDS = 'patient reports intermittent chest pain radiating left arm denies dyspnea history hypertension diabetes mellitus type two metformin lisinopril aspirin daily exam unremarkable lungs clear heart regular rate rhythm no murmurs abdomen soft nontender plan follow up cardiology stress test ordered'.split(' ');

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function sentence(r: () => number): string {
  const n = 8 + Math.floor(r() * 12);
  const w: string[] = [];
  for (let i = 0; i < n; i++) w.push(WORDS[Math.floor(r() * WORDS.length)]!);
  let s = w.join(' ');
  if (r() < 0.2) s += ' BP 120\\S\\80 \\T\\ HR 72';
  if (r() < 0.1) s += '\\.br\\';
  return s[0]!.toUpperCase() + s.slice(1) + '.';
}

/** A ~5 KB message: MSH..TXA or OBR then OBX TX/FT segments with repetitions and NTEs. */
function message(i: number, kind: 'MDM' | 'ORU'): Buffer {
  const r = rng(i + 1);
  const segs = [
    `MSH|^~\\&|NOTES|GENHOSP|MEDNER|LAB|20240312101500-0500||${kind === 'MDM' ? 'MDM^T02^MDM_T02' : 'ORU^R01^ORU_R01'}|CTRL${i}|P|2.5.1||||||UNICODE UTF-8`,
    'EVN|T02|20240312101500',
    `PID|1||MRN${100000 + i}^^^GENHOSP&2.16.840.1.113883.3.999&ISO^MR~X${i}^^^OTHER^PI||Testperson^Alex||19700101|F`,
    `PV1|1|I|W1^101^A||||||||||||||||VN${i}^^^GENHOSP`,
    kind === 'MDM' ? `TXA|1|11506-3^Progress note^LN|TX|20240312093000||||||||DOC${i}^GENHOSP||||||AU||AV` : `OBR|1|PL${i}|FIL${i}^RAD|71020^Chest XR^C4|||20240311080000||||||||||||||||||F`,
  ];
  let size = segs.join('\r').length;
  let set = 1;
  while (size < 5000) {
    const reps: string[] = [];
    for (let k = 0; k < 3; k++) reps.push(sentence(r));
    const s = `OBX|${set}|${set % 3 === 0 ? 'FT' : 'TX'}|11506-3^Progress note^LN|${set}|${reps.join('~')}||||||F`;
    segs.push(s);
    size += s.length + 1;
    if (set % 4 === 0) {
      const n = `NTE|1||${sentence(r)}`;
      segs.push(n);
      size += n.length + 1;
    }
    set++;
  }
  return Buffer.from(segs.join('\r') + '\r', 'utf8');
}

function documentReferences(): { items: Buffer[]; origin: string } {
  const file = fileURLToPath(new URL('../../shared/data/synthea/DocumentReference.ndjson', import.meta.url));
  if (existsSync(file)) {
    const items = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => Buffer.from(l));
    return { items, origin: 'synthea DocumentReference.ndjson' };
  }
  const items: Buffer[] = [];
  for (let i = 0; i < 500; i++) {
    const r = rng(i + 7);
    const text = Array.from({ length: 30 }, () => sentence(r).replace(/\\[^\\]*\\/g, '')).join('\n');
    items.push(Buffer.from(JSON.stringify({ resourceType: 'DocumentReference', id: `dr-${i}`, status: 'current', subject: { reference: `Patient/p${i}` }, context: { encounter: [{ reference: `Encounter/e${i}` }] }, content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: Buffer.from(text).toString('base64') } }] })));
  }
  return { items, origin: 'generated' };
}

async function measure(name: string, items: Buffer[], seconds: number): Promise<{ name: string; messages: number; seconds: number; perSecond: number; cpuSeconds: number; perCpuSecond: number; meanBytes: number; mbPerSecond: number }> {
  const source = { kind: 'file', path: 'bench', index: 0 } as const;
  for (let i = 0; i < Math.min(items.length, 200); i++) await parseDocuments(items[i]!, { source }); // warm up
  let n = 0;
  let bytes = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let k = 0; k < 50; k++) {
      const item = items[n % items.length]!;
      const docs = await parseDocuments(item, { source });
      if (docs.length === 0) throw new Error('no document');
      bytes += item.length;
      n++;
    }
  }
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  // Wall-clock rate suffers when the machine is shared; the CPU-time rate is what one core does.
  return { name, messages: n, seconds: +elapsed.toFixed(2), perSecond: Math.round(n / elapsed), cpuSeconds: +cpuSeconds.toFixed(2), perCpuSecond: Math.round(n / cpuSeconds), meanBytes: Math.round(bytes / n), mbPerSecond: +(bytes / elapsed / 1e6).toFixed(1) };
}

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const mdm = Array.from({ length: 200 }, (_, i) => message(i, 'MDM'));
const oru = Array.from({ length: 200 }, (_, i) => message(i + 1000, 'ORU'));
const refs = documentReferences();
const results = [
  await measure('HL7 v2 MDM^T02', mdm, seconds),
  await measure('HL7 v2 ORU^R01', oru, seconds),
  await measure(`FHIR DocumentReference (${refs.origin})`, refs.items, seconds),
];

console.log('\nIntake throughput, one core (single-threaded event loop)\n');
console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores\n`);
console.log(['case'.padEnd(58), 'msg/s wall'.padStart(11), 'msg/s CPU'.padStart(10), 'mean B'.padStart(7), 'MB/s'.padStart(6), 'n'.padStart(7)].join(' '));
for (const r of results)
  console.log([r.name.padEnd(58), String(r.perSecond).padStart(11), String(r.perCpuSecond).padStart(10), String(r.meanBytes).padStart(7), String(r.mbPerSecond).padStart(6), String(r.messages).padStart(7)].join(' '));
const hl7Min = Math.min(results[0]!.perSecond, results[1]!.perSecond);
const hl7MinCpu = Math.min(results[0]!.perCpuSecond, results[1]!.perCpuSecond);
console.log(`\nHL7 v2 goal >= 5,000 msg/s: wall ${hl7Min >= 5000 ? 'met' : 'NOT met'} (${hl7Min}/s), per CPU-second ${hl7MinCpu >= 5000 ? 'met' : 'NOT met'} (${hl7MinCpu}/s)`);

const outDir = fileURLToPath(new URL('../bench-results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
writeFileSync(`${outDir}parse.json`, JSON.stringify({ at: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, secondsPerCase: seconds, loadAverage: os.loadavg(), goalHl7PerSecond: 5000, results }, null, 2) + '\n');
console.log(`wrote ${outDir}parse.json`);
