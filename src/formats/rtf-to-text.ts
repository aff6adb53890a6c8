/**
 * A small RTF-to-plain-text converter for narrative notes: paragraphs and line breaks become
 * "\n", tabs "\t", \'hh and \uN are decoded, destination groups (font/colour tables, pictures,
 * \* groups, headers) are skipped. Formatting is dropped. Not a full RTF reader.
 */

const SKIP_DESTINATIONS = new Set([
  'fonttbl', 'colortbl', 'stylesheet', 'info', 'pict', 'header', 'footer', 'headerl', 'headerr', 'footerl', 'footerr',
  'object', 'themedata', 'colorschememapping', 'latentstyles', 'datastore', 'xmlnstbl', 'listtable', 'listoverridetable',
  'rsidtbl', 'generator', 'filetbl', 'revtbl', 'pgdsctbl', 'fldinst', 'bkmkstart', 'bkmkend', 'shppict', 'nonshppict',
]);

const CP1252 = new TextDecoder('windows-1252');

export function isRtf(text: string): boolean {
  return /^\s*\{\\rtf/.test(text);
}

export function rtfToText(rtf: string): string {
  let out = '';
  let i = 0;
  const n = rtf.length;
  // Per group: skipping a destination, and how many fallback characters follow \uN (\ucN).
  const stack: { skip: boolean; uc: number }[] = [];
  let skip = false;
  let uc = 1;
  let pendingSkipChars = 0;
  let hexBytes: number[] = [];
  const emit = (s: string): void => {
    if (hexBytes.length) {
      if (!skip) out += CP1252.decode(Uint8Array.from(hexBytes));
      hexBytes = [];
    }
    if (skip || s === '') return;
    if (pendingSkipChars > 0) {
      const drop = Math.min(pendingSkipChars, s.length);
      pendingSkipChars -= drop;
      s = s.slice(drop);
    }
    out += s;
  };
  while (i < n) {
    const c = rtf[i]!;
    if (c === '{') {
      emit('');
      stack.push({ skip, uc });
      i++;
      if (rtf.startsWith('\\*', i)) skip = true;
      continue;
    }
    if (c === '}') {
      emit('');
      const top = stack.pop();
      if (top) ({ skip, uc } = top);
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') {
      i++;
      continue;
    }
    if (c !== '\\') {
      let j = i;
      while (j < n && rtf[j] !== '\\' && rtf[j] !== '{' && rtf[j] !== '}' && rtf[j] !== '\r' && rtf[j] !== '\n') j++;
      emit(rtf.slice(i, j));
      i = j;
      continue;
    }
    // control symbol or control word
    const next = rtf[i + 1];
    if (next === undefined) break;
    if (next === '\\' || next === '{' || next === '}') {
      emit(next);
      i += 2;
      continue;
    }
    if (next === "'") {
      const h = rtf.slice(i + 2, i + 4);
      if (/^[0-9a-fA-F]{2}$/.test(h)) {
        if (pendingSkipChars > 0) pendingSkipChars--;
        else if (!skip) hexBytes.push(parseInt(h, 16));
      }
      i += 4;
      continue;
    }
    if (next === '~') {
      emit('\u00a0');
      i += 2;
      continue;
    }
    if (next === '-' || next === '_') {
      emit(next === '_' ? '-' : '');
      i += 2;
      continue;
    }
    if (next === '\r' || next === '\n') {
      emit('\n');
      i += 2;
      continue;
    }
    const m = /^([a-zA-Z]{1,32})(-?\d{1,10})? ?/.exec(rtf.slice(i + 1, i + 48));
    if (!m) {
      i += 2;
      continue;
    }
    i += 1 + m[0].length;
    const word = m[1]!;
    const arg = m[2] === undefined ? undefined : parseInt(m[2], 10);
    if (SKIP_DESTINATIONS.has(word)) {
      skip = true;
      continue;
    }
    switch (word) {
      case 'par':
      case 'line':
      case 'sect':
      case 'page':
      case 'row':
        emit('\n');
        break;
      case 'tab':
      case 'cell':
        emit('\t');
        break;
      case 'uc':
        uc = arg ?? 1;
        break;
      case 'u':
        if (arg !== undefined) {
          emit(String.fromCharCode(arg < 0 ? arg + 65536 : arg));
          pendingSkipChars = uc;
        }
        break;
      case 'emdash':
        emit('\u2014');
        break;
      case 'endash':
        emit('\u2013');
        break;
      case 'bullet':
        emit('\u2022');
        break;
      case 'lquote':
        emit('\u2018');
        break;
      case 'rquote':
        emit('\u2019');
        break;
      case 'ldblquote':
        emit('\u201c');
        break;
      case 'rdblquote':
        emit('\u201d');
        break;
      default:
        break;
    }
  }
  emit('');
  return out.replace(/[ \t]+\n/g, '\n').replace(/\n+$/, '');
}
