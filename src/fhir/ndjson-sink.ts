import fs from 'node:fs/promises';
import path from 'node:path';
import type * as fhir4 from 'fhir/r4.js';
import { MednerError } from '../core/errors.ts';

/**
 * FHIR Bulk Data NDJSON output for backfills (`$import` into a FHIR server, or a warehouse):
 * one file per resource type (`Condition.000001.ndjson`), a new file once one reaches
 * `maxFileBytes`, and a `manifest.json` in the shape of a Bulk Data export manifest,
 * rewritten (atomically: temporary file, fsync, rename) whenever a file closes.
 *
 * The resources are exactly those the document's transaction Bundle PUTs
 * (document-output.ts buildDocumentTransaction), with the same deterministic ids, so
 * an import and a later transaction write agree. The HL7 v2 Patient conditional create
 * (POST ... ifNoneExist) is NOT written: it has no id of ours (the server resolves it to
 * an existing Patient or makes one), and references to its `urn:uuid:` fullUrl become a
 * logical reference by the patient identifier, as for FHIR sources that name the patient
 * only by identifier. The model Device (the same in every Bundle) is written once per sink.
 *
 * Durability: a document's lines are appended (one write per file) and every file touched
 * is fsynced before writeDocument resolves, so the job reports success only once its
 * resources are on disk. A crash mid-document can leave part of it (some types written,
 * or a torn last line); the job is retried and writes the document whole again. Duplicate
 * lines across a retry are acceptable for `$import`: the ids are deterministic, so the
 * second copy is an update to the same resource. On open, a torn last line of an earlier
 * run's file is cut off, and new lines go to new files (never appended to an old one).
 */

export interface NdjsonSinkOptions {
  dir: string;
  /** A file is closed and a new one begun once it reaches this size. */
  maxFileBytes: number;
  /** The manifest's `request` (what produced the files). */
  request?: string;
}

export interface ManifestOutput {
  type: string;
  url: string;
  count: number;
}

export interface BulkManifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: false;
  output: ManifestOutput[];
  error: ManifestOutput[];
}

export const MANIFEST_FILE = 'manifest.json';
const FILE_RE = /^([A-Za-z]+)\.(\d{6,})\.ndjson$/;

/** `Type.000001.ndjson`. */
export function ndjsonFileName(type: string, seq: number): string {
  return `${type}.${String(seq).padStart(6, '0')}.ndjson`;
}

/**
 * The resources a transaction Bundle PUTs, as NDJSON lines by resource type (pure).
 * Entries other than PUT (the HL7 v2 Patient conditional create) are left out; references to
 * their fullUrl become a reference by the resource's first identifier.
 */
export function bundleLines(bundle: fhir4.Bundle): Map<string, { id: string; line: string }[]> {
  const byFullUrl = new Map<string, fhir4.Identifier | undefined>();
  for (const e of bundle.entry ?? []) {
    if (e.request?.method !== 'PUT' && e.fullUrl?.startsWith('urn:uuid:')) {
      const r = e.resource as { identifier?: fhir4.Identifier[] } | undefined;
      byFullUrl.set(e.fullUrl, r?.identifier?.[0]);
    }
  }
  const replacer =
    byFullUrl.size === 0
      ? undefined
      : (_key: string, value: unknown): unknown => {
          if (value && typeof value === 'object' && 'reference' in value && typeof value.reference === 'string' && byFullUrl.has(value.reference)) {
            const { reference: _ref, ...rest } = value as fhir4.Reference;
            const identifier = byFullUrl.get(value.reference);
            return identifier ? { ...rest, identifier } : rest;
          }
          return value;
        };
  const out = new Map<string, { id: string; line: string }[]>();
  for (const e of bundle.entry ?? []) {
    const r = e.resource;
    if (e.request?.method !== 'PUT' || !r?.id) continue;
    const [type, id] = e.request.url.split('/');
    if (type !== r.resourceType || id !== r.id) {
      throw new MednerError('NDJSON_ENTRY_MISMATCH', `a PUT entry's url does not name its resource (${r.resourceType})`);
    }
    const list = out.get(type) ?? [];
    list.push({ id: r.id, line: JSON.stringify(r, replacer as never) + '\n' });
    out.set(type, list);
  }
  return out;
}

/** The manifest for these closed files (pure). Files listed by type, then sequence. */
export function buildManifest(transactionTime: Date, request: string, files: ManifestOutput[]): BulkManifest {
  const output = [...files].sort((a, b) => (a.type === b.type ? a.url.localeCompare(b.url) : a.type.localeCompare(b.type)));
  return { transactionTime: transactionTime.toISOString(), request, requiresAccessToken: false, output, error: [] };
}

interface OpenFile {
  type: string;
  seq: number;
  name: string;
  handle: fs.FileHandle;
  bytes: number;
  count: number;
}

export class NdjsonSink {
  private readonly open = new Map<string, OpenFile>();
  private readonly closed: ManifestOutput[] = [];
  private readonly nextSeq = new Map<string, number>();
  private readonly devicesWritten = new Set<string>();
  private readonly startedAt = new Date();
  /** Documents are written one at a time (workers share the sink), so lines never interleave. */
  private tail: Promise<unknown> = Promise.resolve();
  private ready: Promise<void> | undefined;
  private closing = false;

  constructor(private readonly opts: NdjsonSinkOptions) {
    if (!(opts.maxFileBytes > 0)) throw new MednerError('NDJSON_CONFIG', 'maxFileBytes must be positive');
  }

  /** Writes the resources the Bundle PUTs; resolves once they are fsynced. */
  writeDocument(bundle: fhir4.Bundle): Promise<{ resources: number; bytes: number }> {
    const lines = bundleLines(bundle);
    const run = this.tail.then(() => this.append(lines));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Closes (fsyncs) every open file and writes the manifest. */
  async close(): Promise<BulkManifest> {
    this.closing = true;
    await this.tail;
    await this.init();
    for (const f of [...this.open.values()]) await this.closeFile(f, false);
    return this.writeManifest();
  }

  /** The files closed so far (for tests and the manifest). */
  closedFiles(): ManifestOutput[] {
    return [...this.closed];
  }

  private init(): Promise<void> {
    this.ready ??= this.recover();
    return this.ready;
  }

  /** Files of an earlier run: a torn last line is cut off; they are listed in the manifest; new files follow them. */
  private async recover(): Promise<void> {
    await fs.mkdir(this.opts.dir, { recursive: true });
    for (const name of (await fs.readdir(this.opts.dir)).sort()) {
      const m = FILE_RE.exec(name);
      if (!m) continue;
      const [, type, seqText] = m as unknown as [string, string, string];
      const file = path.join(this.opts.dir, name);
      let text = await fs.readFile(file, 'utf8');
      if (text.length > 0 && !text.endsWith('\n')) {
        text = text.slice(0, text.lastIndexOf('\n') + 1);
        const h = await fs.open(file, 'r+');
        try {
          await h.truncate(Buffer.byteLength(text));
          await h.sync();
        } finally {
          await h.close();
        }
      }
      const count = text.length === 0 ? 0 : text.split('\n').length - 1;
      this.closed.push({ type, url: name, count });
      this.nextSeq.set(type, Math.max(this.nextSeq.get(type) ?? 1, Number(seqText) + 1));
    }
  }

  private async append(lines: Map<string, { id: string; line: string }[]>): Promise<{ resources: number; bytes: number }> {
    if (this.closing) throw new MednerError('NDJSON_CLOSED', 'the NDJSON sink is closed', { retriable: true });
    await this.init();
    const touched: OpenFile[] = [];
    let resources = 0;
    let bytes = 0;
    for (const [type, items] of lines) {
      const fresh = type === 'Device' ? items.filter((i) => !this.devicesWritten.has(i.id)) : items;
      if (fresh.length === 0) continue;
      const data = fresh.map((i) => i.line).join('');
      const size = Buffer.byteLength(data);
      let f = this.open.get(type);
      // Rotate before a document would take the file past the limit (a document's lines of a type stay in one file).
      if (f && f.bytes > 0 && f.bytes + size > this.opts.maxFileBytes) {
        await this.closeFile(f, true);
        f = undefined;
      }
      f ??= await this.openFile(type);
      await f.handle.appendFile(data);
      f.bytes += size;
      f.count += fresh.length;
      if (!touched.includes(f)) touched.push(f);
      resources += fresh.length;
      bytes += size;
    }
    for (const f of touched) await f.handle.datasync();
    for (const [type, items] of lines) if (type === 'Device') for (const i of items) this.devicesWritten.add(i.id);
    return { resources, bytes };
  }

  private async openFile(type: string): Promise<OpenFile> {
    const seq = this.nextSeq.get(type) ?? 1;
    this.nextSeq.set(type, seq + 1);
    const name = ndjsonFileName(type, seq);
    // 'wx': never append to (or overwrite) a file that exists.
    const handle = await fs.open(path.join(this.opts.dir, name), 'wx');
    await syncDir(this.opts.dir);
    const f: OpenFile = { type, seq, name, handle, bytes: 0, count: 0 };
    this.open.set(type, f);
    return f;
  }

  private async closeFile(f: OpenFile, manifest: boolean): Promise<void> {
    await f.handle.sync();
    await f.handle.close();
    this.open.delete(f.type);
    this.closed.push({ type: f.type, url: f.name, count: f.count });
    if (manifest) await this.writeManifest();
  }

  private async writeManifest(): Promise<BulkManifest> {
    const manifest = buildManifest(this.startedAt, this.opts.request ?? 'medner', this.closed);
    const tmp = path.join(this.opts.dir, `.${MANIFEST_FILE}.tmp`);
    const h = await fs.open(tmp, 'w');
    try {
      await h.writeFile(JSON.stringify(manifest, null, 2) + '\n');
      await h.sync();
    } finally {
      await h.close();
    }
    await fs.rename(tmp, path.join(this.opts.dir, MANIFEST_FILE));
    await syncDir(this.opts.dir);
    return manifest;
  }
}

async function syncDir(dir: string): Promise<void> {
  const h = await fs.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
