/**
 * Composite mentions: "breast and ovarian cancer" names two concepts. Splits coordinated modifiers and
 * gives each one the shared head: ["breast cancer", "ovarian cancer"]. Which head length is right is
 * not known here ("sagittal and left transverse sinus thrombosis": "sagittal sinus thrombosis"), so each
 * earlier conjunct gets every tail of the last conjunct as an option, shortest head first; the linker
 * keeps the option that links best.
 */
export interface CompositeSplit {
  /** One entry per concept; each lists the readings to try, best guess first. */
  parts: string[][];
}

const CONJ = /\s*,\s*(?:and\/or|and|or)\s+|\s*,\s*|\s+(?:and\/or|and|or)\s+|\s*\/\s*/i;

export function splitComposite(text: string): CompositeSplit | undefined {
  const t = text.trim().replace(/\s+/g, ' ');
  if (!CONJ.test(t)) return undefined;
  const conj = t.split(CONJ).map((s) => s.trim()).filter(Boolean);
  if (conj.length < 2 || conj.length > 5) return undefined;
  const last = conj[conj.length - 1]!.split(' ');
  const parts: string[][] = [];
  for (const c of conj.slice(0, -1)) {
    const cw = c.split(' ');
    const options: string[] = [];
    // the conjunct already has a head of its own ("renal failure and hepatitis"): try it as is first
    if (cw.length > 1) options.push(c);
    for (let k = 1; k < last.length; k++) options.push(`${c} ${last.slice(last.length - k).join(' ')}`);
    if (cw.length === 1) options.push(c);
    parts.push([...new Set(options)]);
  }
  // "ventricular tachycardia and fibrillation": the last conjunct may share the first one's modifiers
  const lastOptions = [conj[conj.length - 1]!];
  const first = conj[0]!.split(' ');
  if (last.length === 1) for (let k = 1; k < first.length; k++) lastOptions.push(`${first.slice(0, k).join(' ')} ${conj[conj.length - 1]!}`);
  parts.push(lastOptions);
  return { parts };
}
