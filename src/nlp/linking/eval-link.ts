/**
 * `medner eval --task link`: accuracy@1 of the linker on gold mentions of a PubTator file, end to end
 * (NER + linking, strict on span, type and id) when an engine is given, and the ICD-10-CM category
 * agreement with the Disease Ontology bridge.
 */
import { readFileSync } from 'node:fs';
import type { Entity } from '../../core/entity.ts';
import { findAbbreviations } from './abbreviations.ts';
import { DEFAULT_LINK_THRESHOLD, linkMention } from './link-entities.ts';
import type { Linker, LinkLabel } from './linker.ts';
import { parsePubtator, pubtatorType, type PubtatorDocument, type PubtatorMention } from './pubtator.ts';

export interface LinkScores {
  mentions: number;
  correct: number;
  accuracy: number;
  /** Mentions given a code at the threshold, and how many of those were right. */
  coded: number;
  codedCorrect: number;
  codedPrecision: number;
}

export interface PrfScores {
  precision: number;
  recall: number;
  f1: number;
  tp: number;
  predicted: number;
  gold: number;
}

export interface LinkEvalReport {
  data: string;
  documents: number;
  tables: string;
  threshold: number;
  link: Record<string, LinkScores>;
  endToEnd?: Record<string, PrfScores>;
  icd10cmCategory: { mentions: number; coded: number; agree: number; agreement: number };
  /** Accuracy of coded mentions at each threshold (to choose the threshold on dev). */
  sweep?: { threshold: number; coded: number; correct: number; wrong: number; precision: number; coverage: number }[];
}

const r4 = (x: number): number => Math.round(x * 10_000) / 10_000;

/** Is a predicted id list right for a gold mention (every composite part; any `+` alternative)? */
export function matchesGold(predicted: readonly (string | undefined)[], gold: PubtatorMention): boolean {
  if (predicted.length !== gold.parts.length || predicted.some((p) => p === undefined)) return false;
  const used = new Set<number>();
  for (const p of predicted) {
    const k = gold.parts.findIndex((alts, i) => !used.has(i) && alts.includes(p!));
    if (k < 0) return false;
    used.add(k);
  }
  return true;
}

const isGold = (m: PubtatorMention): boolean => m.ids.length > 0 && !m.ids.includes('-1');

export interface LinkEvalOptions {
  threshold?: number;
  sweep?: boolean;
  /** NER for the end-to-end score: texts -> entities (labels as the corpus types). */
  extract?: (texts: string[]) => Promise<Entity[][]>;
  tablesName?: string;
}

export async function evaluateLinking(linker: Linker, file: string, opts: LinkEvalOptions = {}): Promise<LinkEvalReport> {
  const docs: PubtatorDocument[] = parsePubtator(readFileSync(file, 'utf8'));
  const threshold = opts.threshold ?? DEFAULT_LINK_THRESHOLD;
  const link: Record<string, LinkScores> = {};
  const cat = { mentions: 0, coded: 0, agree: 0, agreement: 0 };
  const scored: { score: number; ok: boolean }[] = [];
  for (const d of docs) {
    const abbr = findAbbreviations(d.text);
    for (const m of d.mentions) {
      if (!isGold(m)) continue;
      const type = pubtatorType(m.type);
      const s = (link[type] ??= { mentions: 0, correct: 0, accuracy: 0, coded: 0, codedCorrect: 0, codedPrecision: 0 });
      const l = linkMention(linker, m.text, type, threshold, abbr);
      const top = l.result.parts.map((p) => p.candidates[0]?.id);
      const ok = matchesGold(top, m);
      s.mentions++;
      if (ok) s.correct++;
      const minScore = Math.min(...l.result.parts.map((p) => p.candidates[0]?.score ?? 0));
      scored.push({ score: minScore, ok });
      if (l.accepted.every((a) => a !== undefined)) {
        s.coded++;
        if (matchesGold(l.accepted.map((a) => a!.id), m)) s.codedCorrect++;
      }
      // ICD-10-CM category agreement with the bridge of the gold id (single-concept mentions)
      if (type === 'Disease' && m.parts.length === 1) {
        const cats = new Set(m.parts[0]!.flatMap((id) => linker.tables.bridge.get(id) ?? []).map((c) => c.slice(0, 3)));
        if (cats.size > 0) {
          cat.mentions++;
          const icd = l.icd[0];
          if (icd) {
            cat.coded++;
            if (cats.has(icd.code.slice(0, 3))) cat.agree++;
          }
        }
      }
    }
  }
  for (const s of Object.values(link)) {
    s.accuracy = r4(s.mentions ? s.correct / s.mentions : 0);
    s.codedPrecision = r4(s.coded ? s.codedCorrect / s.coded : 0);
  }
  cat.agreement = r4(cat.mentions ? cat.agree / cat.mentions : 0);
  const report: LinkEvalReport = { data: file, documents: docs.length, tables: opts.tablesName ?? linker.tables.manifest.version, threshold, link, icd10cmCategory: cat };
  if (opts.sweep) {
    report.sweep = [];
    const total = scored.length;
    for (let t = 0.3; t <= 0.951; t += 0.025) {
      const above = scored.filter((x) => x.score >= t);
      const correct = above.filter((x) => x.ok).length;
      report.sweep.push({ threshold: r4(t), coded: above.length, correct, wrong: above.length - correct, precision: r4(above.length ? correct / above.length : 0), coverage: r4(total ? above.length / total : 0) });
    }
  }
  if (opts.extract) report.endToEnd = await endToEnd(linker, docs, threshold, opts.extract);
  return report;
}

async function endToEnd(linker: Linker, docs: PubtatorDocument[], threshold: number, extract: (texts: string[]) => Promise<Entity[][]>): Promise<Record<string, PrfScores>> {
  const counts: Record<string, { tp: number; predicted: number; gold: number }> = {};
  const c = (t: string) => (counts[t] ??= { tp: 0, predicted: 0, gold: 0 });
  const CHUNK = 64;
  for (let i = 0; i < docs.length; i += CHUNK) {
    const chunk = docs.slice(i, i + CHUNK);
    const ents = await extract(chunk.map((d) => d.text));
    chunk.forEach((d, k) => {
      const abbr = findAbbreviations(d.text);
      const gold = d.mentions.filter(isGold);
      for (const g of gold) c(pubtatorType(g.type)).gold++;
      const used = new Set<number>();
      for (const e of ents[k]!) {
        const type = e.label === 'Chemical' ? 'Chemical' : e.label === 'Disease' ? 'Disease' : undefined;
        if (!type) continue;
        const l = linkMention(linker, e.text, type as LinkLabel, threshold, abbr);
        if (!l.accepted.every((a) => a !== undefined)) continue; // no code given: not a linked prediction
        c(type).predicted++;
        const ids = l.accepted.map((a) => a!.id);
        const gi = gold.findIndex((g, j) => !used.has(j) && g.start === e.start && g.end === e.end && pubtatorType(g.type) === type && matchesGold(ids, g));
        if (gi >= 0) {
          used.add(gi);
          c(type).tp++;
        }
      }
    });
  }
  const out: Record<string, PrfScores> = {};
  for (const [t, { tp, predicted, gold }] of Object.entries(counts)) {
    if (gold === 0) continue; // a type the corpus does not annotate (NCBI-disease has no chemicals)
    const p = predicted ? tp / predicted : 0;
    const r = gold ? tp / gold : 0;
    out[t] = { precision: r4(p), recall: r4(r), f1: r4(p + r ? (2 * p * r) / (p + r) : 0), tp, predicted, gold };
  }
  return out;
}
