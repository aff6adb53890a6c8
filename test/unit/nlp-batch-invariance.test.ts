import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNerEngine, type NerEngineOptions } from '../../src/nlp/engine.ts';
import { loadModelFolder } from '../../src/nlp/model-folder.ts';
import type { Entity } from '../../src/core/entity.ts';
import { seededOrder, syntheaLikeNotes } from '../support/clinical-notes.ts';

/**
 * Batch invariance (issue 21): a document's entities and scores (to the two decimals written
 * to FHIR) are the same whether it runs alone or inside any batch, for every variant we ship
 * and the test model's, across sessions with different thread counts. 64 Synthea-like notes
 * (some span several windows) alone, then shuffled in batches of 8, 32 and 64.
 */

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOCS = syntheaLikeNotes(64);

/** Entities as written: span, label and the score rounded to two decimals. */
const written = (es: Entity[]): string[] => es.map((e) => `${e.start}-${e.end} ${e.label} ${(Math.round(e.score * 100) / 100).toFixed(2)}`);

const shuffled = seededOrder;

/** Documents whose written entities differ between alone (one session, 2 threads) and shuffled batches (2 sessions, 1 thread each). */
async function differences(opts: Omit<NerEngineOptions, 'sessions' | 'intraOpThreads' | 'batchSize'>): Promise<{ differing: number[]; entities: number }> {
  const alone = await createNerEngine({ ...opts, sessions: 1, intraOpThreads: 2, batchSize: 64 });
  const batched = await createNerEngine({ ...opts, sessions: 2, intraOpThreads: 1, batchSize: 64 });
  try {
    const ref: string[][] = [];
    for (const d of DOCS) ref.push(written((await alone.extract([d]))[0]!));
    const differing = new Set<number>();
    for (const size of [8, 32, 64]) {
      const order = shuffled(DOCS.length, size);
      for (let k = 0; k < order.length; k += size) {
        const idx = order.slice(k, k + size);
        const out = await batched.extract(idx.map((i) => DOCS[i]!));
        idx.forEach((i, j) => {
          if (JSON.stringify(written(out[j]!)) !== JSON.stringify(ref[i])) differing.add(i);
        });
      }
    }
    return { differing: [...differing], entities: ref.reduce((n, r) => n + r.length, 0) };
  } finally {
    await alone.close();
    await batched.close();
  }
}

const tiny = path.join(repo, 'test/fixtures/models/tiny-bert');
for (const variant of ['fp32', 'int8'] as const) {
  test(`test model ${variant}: 64 notes alone and in shuffled batches of 8, 32, 64 give identical entities and scores`, async () => {
    const { differing, entities } = await differences({ modelDir: tiny, variant });
    assert.ok(entities > 100, `only ${entities} entities: the comparison would prove little`);
    assert.deepEqual(differing, []);
  });
}

test('the comparison can fail: dynamic int8 with shared batches (batchInvariant: false) differs', async () => {
  const { differing } = await differences({ modelDir: tiny, variant: 'int8', batchInvariant: false });
  assert.ok(differing.length > 0, 'expected batch-dependent int8 results without batchInvariant');
});

// Every shipped model folder, every variant in it (the default model ships int8 only).
const models = path.join(repo, 'models');
for (const name of fs.readdirSync(models).filter((n) => fs.existsSync(path.join(models, n, 'medner-model.json'))).sort()) {
  test(`shipped ${name}: every variant batch-invariant on 64 notes`, async () => {
    const folder = await loadModelFolder(path.join(models, name));
    const variants = (['fp32', 'int8'] as const).filter((v) => folder.variants[v] !== undefined);
    assert.ok(variants.length > 0);
    for (const variant of variants) {
      const { differing, entities } = await differences({ modelDir: path.join(models, name), variant });
      assert.ok(entities > 50, `${name} ${variant}: only ${entities} entities`);
      assert.deepEqual(differing, [], `${name} ${variant}`);
    }
  });
}
