/**
 * Abbreviations defined in the document: "chronic kidney disease (CKD)" defines CKD. The matching rule
 * is Schwartz and Hearst's (PSB 2003): the short form's characters are found right to left in the long
 * form, the first one at the start of a word; the long form has at most min(|SF| + 5, 2 |SF|) words.
 */

export type AbbreviationMap = ReadonlyMap<string, string>;

function isShortForm(sf: string): boolean {
  if (sf.length < 2 || sf.length > 10) return false;
  if (!/\p{L}/u.test(sf[0]!) && !/\d/.test(sf[0]!)) return false;
  if (!/\p{L}/u.test(sf)) return false;
  if (sf.split(/\s+/).length > 2) return false;
  return true;
}

const SKIPPABLE = new Set(['of', 'and', 'the', 'in', 'with', 'to', 'for', 'or', 'by', 'on', 'a', 'an']);

/**
 * The long form whose word initials spell the short form ("attenuated adenomatous polyposis coli
 * (AAPC)": all four words, where the letter rule alone stops at "adenomatous", whose inner "a" it takes
 * for the second A). Words are split at spaces, hyphens and slashes; "of", "and", "the"... may be
 * skipped; digits in the short form must be words of their own. Undefined when the initials do not spell it.
 */
export function matchInitials(sf: string, before: string): string | undefined {
  const letters = sf.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
  if (letters.length < 2) return undefined;
  const cand = before.trimEnd();
  const starts: number[] = [];
  const re = /[\p{L}\p{N}]+/gu;
  let m: RegExpExecArray | null;
  while ((m = re.exec(cand))) starts.push(m.index);
  let si = letters.length - 1;
  let ti = starts.length - 1;
  // the last word must give the last letter: the long form ends right before the parenthesis
  while (si >= 0 && ti >= 0) {
    const w = cand.slice(starts[ti]!).match(/^[\p{L}\p{N}]+/u)![0].toLowerCase();
    if (w[0] === letters[si]) {
      si--;
      if (si < 0) break;
      ti--;
    } else if (SKIPPABLE.has(w) && si < letters.length - 1) ti--;
    else return undefined;
  }
  if (si >= 0 || ti < 0) return undefined;
  return cand.slice(starts[ti]!).replace(/[,;:]+$/, '');
}

/** The shortest long form ending before the parenthesis that the short form abbreviates, or undefined. */
export function matchLongForm(sf: string, before: string): string | undefined {
  const byInitials = matchInitials(sf, before);
  if (byInitials) return byInitials;
  const ws = before.trimEnd().split(/\s+/).filter(Boolean);
  const maxWords = Math.min(sf.length + 5, sf.length * 2);
  const cand = ws.slice(Math.max(0, ws.length - maxWords)).join(' ');
  const s = sf.toLowerCase();
  const l = cand.toLowerCase();
  let si = s.length - 1;
  let li = l.length - 1;
  while (si >= 0) {
    const c = s[si]!;
    if (!/[\p{L}\p{N}]/u.test(c)) {
      si--;
      continue;
    }
    while (li >= 0 && (l[li] !== c || (si === 0 && li > 0 && /[\p{L}\p{N}]/u.test(l[li - 1]!)))) li--;
    if (li < 0) return undefined;
    si--;
    li--;
  }
  // the long form starts at the word holding the first matched character
  const start = l.lastIndexOf(' ', li) + 1;
  const lf = cand.slice(start).trim();
  if (!lf || lf.length <= sf.length || lf.toLowerCase().split(/\s+/).length > maxWords) return undefined;
  return lf.replace(/[,;:]+$/, '');
}

/** Short form -> long form for every "long form (SF)" in the text. The first definition wins. */
export function findAbbreviations(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\(([^()]{1,12})\)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const raw = m[1]!.trim();
    const sf = /^[A-Z0-9]{2,}s$/.test(raw) ? raw.slice(0, -1) : raw; // "(ADRs)" defines ADR
    if (!isShortForm(sf) || out.has(sf)) continue;
    // the long form lies in the same sentence/clause before the parenthesis
    const before = text.slice(Math.max(0, m.index - 200), m.index).split(/[.;:()[\]]\s/).pop() ?? '';
    const lf = matchLongForm(sf, before);
    if (lf) out.set(sf, lf);
  }
  return out;
}

/** The mention with each defined short form (as a whole word, case-sensitive) replaced by its long form. */
export function expandAbbreviations(mention: string, abbr: AbbreviationMap): string {
  if (abbr.size === 0) return mention;
  let out = mention;
  for (const [sf, lf] of abbr) {
    const esc = sf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out.replace(new RegExp(`(^|[^\\p{L}\\p{N}])${esc}s?(?=$|[^\\p{L}\\p{N}])`, 'gu'), (_x, pre: string) => `${pre}${lf}`);
  }
  return out;
}
