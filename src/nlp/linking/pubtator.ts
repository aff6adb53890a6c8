/**
 * PubTator files (BC5CDR, NCBI-disease): `PMID|t|title`, `PMID|a|abstract`, then mention lines
 * `PMID<TAB>start<TAB>end<TAB>text<TAB>type<TAB>id[<TAB>part texts]`. Offsets are into title + " " + abstract.
 * Ids: `|` joins the concepts of a composite mention (all are required), `+` joins alternatives for one
 * mention (NCBI-disease; any one is correct), `-1` means no concept fits.
 */
export interface PubtatorMention {
  start: number;
  end: number;
  text: string;
  /** The corpus type (Chemical, Disease, SpecificDisease, Modifier, DiseaseClass, CompositeMention). */
  type: string;
  /** One entry per part of a composite mention; each entry lists alternatives (`+`). `['-1']` when none fits. */
  parts: string[][];
  /** Flat list of every id (parts and alternatives), for convenience. */
  ids: string[];
  /** Texts of a composite's parts when the corpus gives them (BC5CDR 7th column). */
  partTexts?: string[];
}

export interface PubtatorDocument {
  id: string;
  text: string;
  mentions: PubtatorMention[];
}

/** NCBI-disease's fine types are all diseases; BC5CDR's are Chemical and Disease. */
export function pubtatorType(type: string): 'Chemical' | 'Disease' {
  return type === 'Chemical' ? 'Chemical' : 'Disease';
}

export function parsePubtator(src: string): PubtatorDocument[] {
  const docs: PubtatorDocument[] = [];
  let cur: { id: string; title?: string; abstract?: string; mentions: PubtatorMention[] } | undefined;
  const flush = (): void => {
    if (cur) docs.push({ id: cur.id, text: `${cur.title ?? ''} ${cur.abstract ?? ''}`, mentions: cur.mentions });
    cur = undefined;
  };
  for (const raw of src.split(/\r?\n/)) {
    const line = raw.replace(/\s+$/, '');
    if (!line) {
      flush();
      continue;
    }
    const ta = /^(\d+)\|([ta])\|(.*)$/.exec(line);
    if (ta) {
      const [, id, kind, text] = ta as unknown as [string, string, string, string];
      if (!cur || cur.id !== id) {
        flush();
        cur = { id, mentions: [] };
      }
      if (kind === 't') cur.title = text;
      else cur.abstract = text;
      continue;
    }
    const f = line.split('\t');
    if (!cur || f.length < 6 || f[0] !== cur.id || !/^\d+$/.test(f[1]!)) continue; // relation lines (CID) and strays
    const ids = f[5]!.trim();
    const parts = ids.split('|').map((p) => p.split('+').map((x) => x.trim()).filter(Boolean)).filter((p) => p.length > 0);
    const m: PubtatorMention = { start: Number(f[1]), end: Number(f[2]), text: f[3]!, type: f[4]!, parts, ids: parts.flat() };
    if (f[6]) m.partTexts = f[6].split('|').map((s) => s.trim());
    cur.mentions.push(m);
  }
  flush();
  return docs;
}
