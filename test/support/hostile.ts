/**
 * The project's hostile input generator (issue 20): deterministic from a seed, the kinds of
 * input a reliability tester threw at the pipeline. Each input says which topic it goes to and
 * what must become of it: a dead letter (any reason code), a skip (no document text: empty
 * record, tombstone) or an output. Patient-like values are synthetic and listed in `phi`, so a
 * soak can check that none of them appears in a log line.
 */
import { syntheaLikeNote } from './clinical-notes.ts';

export interface HostileInput {
  kind: string;
  topic: 'hl7' | 'fhir';
  key: string;
  value: Buffer | null;
  expect: 'dead-letter' | 'skip' | 'output';
  /** Identifiers and note phrases of this input, none of which may appear in a log. */
  phi: string[];
}

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const NAMES = ['Quillfeather', 'Ambervale', 'Thornwick', 'Duskmere', 'Ravensholt', 'Brightwater'];

function msh(id: string, type: string): string {
  return `MSH|^~\\&|LAB|GENHOSP|MEDNER|GENHOSP|20260301093000||${type}|${id}|P|2.5.1`;
}

/**
 * A good document: an MDM^T02 whose note is a Synthea-like note (test/support/clinical-notes.ts,
 * one OBX per line) after a line naming the patient; unique document id and MRN per seed and index.
 */
export function goodNote(i: number, seed = 1): HostileInput {
  const r = rng(seed * 7919 + i);
  const name = `${NAMES[Math.floor(r() * NAMES.length)]}${i}`;
  const mrn = `SOAKMRN${seed}x${i}`;
  const phrase = `${name} reports chest pain since Tuesday`;
  const lines = [`${phrase}. Admitted with pneumonia and acute kidney injury. Started ceftriaxone; lisinopril held.`, ...syntheaLikeNote(i).split('\n').filter((l) => l.trim() !== '')];
  const id = `SOAK-${seed}-${i}`;
  const value = Buffer.from(
    [
      msh(`${id}-m`, 'MDM^T02^MDM_T02'),
      'EVN|T02|20260301093000',
      `PID|1||${mrn}^^^GENHOSP^MR||${name}^Alex||19700101|F`,
      `TXA|1|DS^Discharge summary|TX|20260301090000||||||||${id}^GENHOSP||||||AU||AV`,
      ...lines.map((l, k) => `OBX|${k + 1}|TX|18842-5^Discharge summary^LN||${l}||||||F`),
      '',
    ].join('\r'),
  );
  return { kind: 'good', topic: 'hl7', key: id, value, expect: 'output', phi: [mrn, name, phrase] };
}

/** The hostile kinds, cycled. Sizes stay under Kafka's default 1 MB record limit (the broker refuses larger). */
export function hostileInput(i: number, seed = 1): HostileInput {
  const r = rng(seed * 104729 + i);
  const id = `HOSTILE-${seed}-${i}`;
  const mrn = `HMRN${seed}x${i}`;
  const name = `${NAMES[i % NAMES.length]}h${i}`;
  const phi = [mrn, name];
  const pid = `PID|1||${mrn}^^^GENHOSP^MR||${name}^Alex||19700101|F`;
  const kinds: (() => Omit<HostileInput, 'key' | 'phi'>)[] = [
    () => ({ kind: 'truncated-hl7', topic: 'hl7', value: Buffer.from(`${msh(id, 'MDM^T02')}\r${pid}\rTXA|1|DS|TX|2026`), expect: 'dead-letter' }),
    () => ({ kind: 'wrong-delimiters', topic: 'hl7', value: Buffer.from(`MSH#^~\\&#LAB#GENHOSP\r${pid.replace(/\|/g, '#')}\r`), expect: 'dead-letter' }),
    () => ({ kind: 'binary-garbage', topic: 'hl7', value: Buffer.from(Array.from({ length: 4096 }, () => Math.floor(r() * 256))), expect: 'dead-letter' }),
    () => ({ kind: 'invalid-utf8-fhir', topic: 'fhir', value: Buffer.concat([Buffer.from(`{"resourceType":"DocumentReference","id":"${id}","status":"current","subject":{"identifier":{"value":"${mrn}"}},"content":[{"attachment":{"contentType":"text/plain","data":"`), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}}]}')]), expect: 'dead-letter' }),
    () => ({
      kind: '10000-obx',
      topic: 'hl7',
      value: Buffer.from([msh(id, 'ORU^R01^ORU_R01'), pid, `OBR|1||${id}-o|11502-2^Lab^LN`, ...Array.from({ length: 10_000 }, (_, k) => `OBX|${k + 1}|TX|11502-2^Lab^LN||Mild anemia noted on repeat count, see ${name}.||||||F`)].join('\r')),
      expect: 'dead-letter',
    }),
    () => ({ kind: 'empty-record', topic: 'hl7', value: Buffer.alloc(0), expect: 'dead-letter' }),
    () => ({ kind: 'tombstone', topic: 'fhir', value: null, expect: 'dead-letter' }),
    () => ({
      kind: 'huge-note',
      topic: 'hl7',
      value: Buffer.from([msh(id, 'MDM^T02^MDM_T02'), pid, `TXA|1|DS|TX|20260301||||||||${id}^GENHOSP||||||AU`, `OBX|1|TX|18842-5^DS^LN||${`${name} has pneumonia. `.repeat(45_000).slice(0, 900_000)}||||||F`].join('\r')),
      expect: 'dead-letter',
    }),
    () => ({ kind: 'wrong-fhir-type', topic: 'fhir', value: Buffer.from(JSON.stringify({ resourceType: 'Patient', id, identifier: [{ value: mrn }], name: [{ family: name }] })), expect: 'dead-letter' }),
    () => ({ kind: 'deeply-nested-json', topic: 'fhir', value: Buffer.from(`${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`), expect: 'dead-letter' }),
    () => ({
      kind: 'base64-attachment',
      topic: 'fhir',
      value: Buffer.from(JSON.stringify({ resourceType: 'DocumentReference', id, status: 'current', subject: { identifier: { value: mrn } }, content: [{ attachment: { contentType: 'text/plain', data: Buffer.from(`${name} has pneumonia. `.repeat(25_000).slice(0, 520_000)).toString('base64') } }] })),
      expect: 'dead-letter',
    }),
  ];
  const made = kinds[i % kinds.length]!();
  return { ...made, key: id, phi };
}

export const HOSTILE_KINDS = 11;
