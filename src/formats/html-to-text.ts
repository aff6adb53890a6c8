/**
 * A small HTML/XHTML-to-text converter for narrative: block elements start new lines, <br>
 * breaks a line, table cells are separated by tabs, <script>/<style>/<head> are dropped,
 * entities (named subset, decimal, hex) are decoded, and runs of white space collapse
 * outside <pre>. Not a browser: enough for clinical notes and FHIR Narrative divs.
 */

const BLOCK = new Set([
  'p', 'div', 'li', 'ul', 'ol', 'tr', 'table', 'thead', 'tbody', 'tfoot', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'pre',
  'blockquote', 'section', 'article', 'header', 'footer', 'hr', 'dl', 'dt', 'dd', 'caption', 'address', 'aside',
  'nav', 'main', 'figure', 'figcaption', 'body', 'html', 'title', 'center',
  // CDA narrative block elements
  'paragraph', 'list', 'item', 'component', 'text', 'caption',
]);
const DROP = new Set(['script', 'style', 'head', 'template', 'noscript']);

const ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '\u00a9', reg: '\u00ae', deg: '\u00b0',
  plusmn: '\u00b1', micro: '\u00b5', middot: '\u00b7', ndash: '\u2013', mdash: '\u2014', lsquo: '\u2018', rsquo: '\u2019',
  ldquo: '\u201c', rdquo: '\u201d', hellip: '\u2026', times: '\u00d7', divide: '\u00f7', frac12: '\u00bd', frac14: '\u00bc',
  frac34: '\u00be', sup1: '\u00b9', sup2: '\u00b2', sup3: '\u00b3', le: '\u2264', ge: '\u2265', ne: '\u2260', bull: '\u2022',
  larr: '\u2190', rarr: '\u2192', uarr: '\u2191', darr: '\u2193', alpha: '\u03b1', beta: '\u03b2', gamma: '\u03b3',
  delta: '\u03b4', mu: '\u03bc', para: '\u00b6', sect: '\u00a7', laquo: '\u00ab', raquo: '\u00bb', shy: '\u00ad',
  eacute: '\u00e9', egrave: '\u00e8', aacute: '\u00e1', agrave: '\u00e0', ouml: '\u00f6', uuml: '\u00fc', auml: '\u00e4',
  Ouml: '\u00d6', Uuml: '\u00dc', Auml: '\u00c4', szlig: '\u00df', ccedil: '\u00e7', ntilde: '\u00f1', euro: '\u20ac',
  trade: '\u2122', ensp: '\u2002', emsp: '\u2003', thinsp: '\u2009',
};

export function decodeEntities(s: string): string {
  if (s.indexOf('&') === -1) return s;
  return s.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});/g, (all, body: string) => {
    if (body[0] === '#') {
      const cp = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : all;
    }
    return ENTITIES[body] ?? all;
  });
}

export function isHtml(text: string): boolean {
  return /^\s*(<!doctype html|<html|<div|<p[\s>]|<body|<\?xml)/i.test(text);
}

export function htmlToText(html: string): string {
  const parts: string[] = [];
  let pre = 0;
  let dropUntil: string | undefined;
  const text = (raw: string): void => {
    if (dropUntil || raw === '') return;
    let t = pre > 0 ? raw : raw.replace(/[ \t\r\n\f]+/g, ' ');
    const prev = parts.length === 0 ? '\n' : parts[parts.length - 1]!;
    if (pre === 0 && (prev.endsWith('\n') || prev.endsWith(' ') || prev.endsWith('\t'))) t = t.replace(/^ +/, '');
    if (t !== '') parts.push(decodeEntities(t));
  };
  const tag = (nameRaw: string, closing: boolean, selfClosing: boolean): void => {
    const name = nameRaw.toLowerCase().replace(/^.*:/, '');
    if (dropUntil) {
      if (closing && name === dropUntil) dropUntil = undefined;
      return;
    }
    if (DROP.has(name) && !closing && !selfClosing) {
      dropUntil = name;
      return;
    }
    const prev = parts[parts.length - 1];
    if (name === 'br') parts.push('\n');
    else if (name === 'td' || name === 'th') {
      if (!closing && prev !== undefined && !prev.endsWith('\n')) parts.push('\t');
    } else if (BLOCK.has(name)) {
      if (prev !== undefined && !prev.endsWith('\n')) parts.push('\n');
      if (name === 'pre') pre = Math.max(0, pre + (closing ? -1 : selfClosing ? 0 : 1));
    }
  };
  // A linear scanner (no backtracking regex): unclosed comments, tags or quotes cannot blow up.
  const n = html.length;
  let i = 0;
  while (i < n) {
    const lt = html.indexOf('<', i);
    if (lt === -1) {
      text(html.slice(i));
      break;
    }
    text(html.slice(i, lt));
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      i = end === -1 ? n : end + 3;
      continue;
    }
    if (html.startsWith('<![CDATA[', lt)) {
      const end = html.indexOf(']]>', lt + 9);
      text(html.slice(lt + 9, end === -1 ? n : end));
      i = end === -1 ? n : end + 3;
      continue;
    }
    const next = html[lt + 1];
    if (next === '!' || next === '?') {
      const end = html.indexOf('>', lt);
      i = end === -1 ? n : end + 1;
      continue;
    }
    const m = /^<(\/?)([A-Za-z][A-Za-z0-9:-]{0,64})/.exec(html.slice(lt, lt + 70));
    if (!m) {
      text('<');
      i = lt + 1;
      continue;
    }
    let j = lt + m[0].length;
    let quote = '';
    while (j < n) {
      const ch = html[j];
      if (quote) {
        if (ch === quote) quote = '';
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '>') break;
      j++;
    }
    if (j >= n) {
      text(html.slice(lt)); // an unclosed tag: keep it as text rather than lose what follows
      break;
    }
    tag(m[2]!, m[1] === '/', html[j - 1] === '/');
    i = j + 1;
  }
  // Tidy: white space before line breaks, at most one blank line, no trailing white space.
  return parts
    .join('')
    .replace(/[ \t]*\n[ \t]*(?=\n)/g, '\n')
    .replace(/ +\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+|\s+$/g, '');
}
