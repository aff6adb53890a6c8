/**
 * Overlapping windows over a document's tokens (pure). A window holds at most
 * `maxLength - 2` tokens (room for [CLS] and [SEP]); consecutive windows overlap by
 * `stride` tokens. Every token is labelled from the one window where it sits farthest
 * from an edge ("owns" it), so each token is decoded once and entities are never cut.
 */

export interface TokenWindow {
  /** Token range [start, end) of the document that the window feeds to the model. */
  start: number;
  end: number;
  /** Token range [ownStart, ownEnd) whose labels are taken from this window. */
  ownStart: number;
  ownEnd: number;
}

export function planWindows(numTokens: number, maxLength: number, stride: number): TokenWindow[] {
  const size = maxLength - 2;
  if (size < 1) throw new RangeError(`maxLength ${maxLength} leaves no room for tokens`);
  if (!Number.isInteger(stride) || stride < 0 || stride >= size) throw new RangeError(`stride ${stride} must be in 0..${size - 1}`);
  if (numTokens <= size) return [{ start: 0, end: numTokens, ownStart: 0, ownEnd: numTokens }];
  const step = size - stride;
  const starts: number[] = [];
  for (let s = 0; ; s += step) {
    if (s + size >= numTokens) {
      starts.push(numTokens - size); // the last window is full length, ending at the document end
      break;
    }
    starts.push(s);
  }
  const windows = starts.map((start) => ({ start, end: start + size, ownStart: start, ownEnd: start + size }));
  // Distance of token p to the nearest edge of window w; the owner maximizes it (ties: earlier window).
  const dist = (w: TokenWindow, p: number): number => Math.min(p - w.start, w.end - 1 - p);
  for (let k = 0; k < windows.length; k++) {
    const w = windows[k]!;
    let own0 = w.start;
    while (own0 < w.end && !ownedBy(windows, k, own0, dist)) own0++;
    let own1 = own0;
    while (own1 < w.end && ownedBy(windows, k, own1, dist)) own1++;
    w.ownStart = own0;
    w.ownEnd = own1;
  }
  return windows;
}

function ownedBy(windows: TokenWindow[], k: number, p: number, dist: (w: TokenWindow, p: number) => number): boolean {
  const d = dist(windows[k]!, p);
  for (let j = k - 1; j >= 0 && windows[j]!.end > p; j--) if (dist(windows[j]!, p) >= d) return false;
  for (let j = k + 1; j < windows.length && windows[j]!.start <= p; j++) if (dist(windows[j]!, p) > d) return false;
  return true;
}
