/**
 * Lays spans over a text as properly nested pieces: the text is cut at every span boundary;
 * each cut segment is wrapped in the spans that cover it, outermost (earliest start, then longest)
 * first. A span that crosses another is split into several pieces, so overlapping spans stay
 * readable and the markup stays valid. Pure.
 */

export interface LayoutSpan {
  id: string;
  start: number;
  end: number;
}

export type LayoutToken =
  | { kind: 'open'; span: string; piece: number; last: boolean }
  | { kind: 'close' }
  | { kind: 'text'; text: string };

export interface Layout {
  tokens: LayoutToken[];
  /** Spans left out: empty, or beyond the text (its text changed since it was processed). */
  outside: string[];
}

export function layoutSpans(text: string, spans: readonly LayoutSpan[]): Layout {
  const outside: string[] = [];
  const valid = spans.filter((s) => {
    const ok = Number.isInteger(s.start) && Number.isInteger(s.end) && s.start >= 0 && s.end > s.start && s.end <= text.length;
    if (!ok) outside.push(s.id);
    return ok;
  });
  const order = [...valid].sort((a, b) => a.start - b.start || b.end - a.end || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rank = new Map(order.map((s, i) => [s.id, i]));
  const cuts = [...new Set([0, text.length, ...valid.flatMap((s) => [s.start, s.end])])].sort((a, b) => a - b);

  // First pass: which spans cover each segment (outermost first).
  const segments: { start: number; end: number; stack: LayoutSpan[] }[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const start = cuts[i]!;
    const end = cuts[i + 1]!;
    const stack = order.filter((s) => s.start <= start && s.end >= end);
    segments.push({ start, end, stack });
  }
  // Pieces per span, to mark the last one.
  const pieces = new Map<string, number>();
  const countPieces = () => {
    let open: string[] = [];
    for (const seg of segments) {
      const want = seg.stack.map((s) => s.id);
      let common = 0;
      while (common < open.length && common < want.length && open[common] === want[common]) common++;
      for (const id of want.slice(common)) pieces.set(id, (pieces.get(id) ?? 0) + 1);
      open = want;
    }
  };
  countPieces();

  const tokens: LayoutToken[] = [];
  const seenPieces = new Map<string, number>();
  let open: string[] = [];
  for (const seg of segments) {
    const want = seg.stack.map((s) => s.id);
    let common = 0;
    while (common < open.length && common < want.length && open[common] === want[common]) common++;
    for (let k = open.length; k > common; k--) tokens.push({ kind: 'close' });
    for (const id of want.slice(common)) {
      const n = seenPieces.get(id) ?? 0;
      seenPieces.set(id, n + 1);
      tokens.push({ kind: 'open', span: id, piece: n, last: n + 1 === pieces.get(id) });
    }
    open = want;
    tokens.push({ kind: 'text', text: text.slice(seg.start, seg.end) });
  }
  for (let k = open.length; k > 0; k--) tokens.push({ kind: 'close' });
  void rank;
  return { tokens, outside };
}
