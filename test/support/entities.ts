import assert from 'node:assert/strict';
import type { Entity } from '../../src/core/entity.ts';

/** Entities from (text, label) pairs, found left to right in the sentence (score 0.9). */
export function ents(text: string, spans: [string, string][]): Entity[] {
  let from = 0;
  return spans.map(([t, label]) => {
    const start = text.indexOf(t, from);
    assert.ok(start >= 0, `${t} not in text`);
    from = start + t.length;
    return { start, end: start + t.length, text: t, label, score: 0.9 };
  });
}
