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
  const tagRe = /<!--[\s\S]*?-->|<!\[CDATA\[([\s\S]*?)\]\]>|<[!?][^>]*>|<\/?([A-Za-z][A-Za-z0-9:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  const text = (raw: string): void => {
    if (dropUntil || raw === '') return;
    let t = pre > 0 ? raw : raw.replace(/[ \t\r\n\f]+/g, ' ');
    const prev = parts.length === 0 ? '\n' : parts[parts.length - 1]!;
    if (pre === 0 && (prev.endsWith('\n') || prev.endsWith(' ') || prev.endsWith('\t'))) t = t.replace(/^ +/, '');
    if (t !== '') parts.push(decodeEntities(t));
  };
  while ((m = tagRe.exec(html)) !== null) {
    text(html.slice(last, m.index));
    last = tagRe.lastIndex;
    if (m[1] !== undefined) {
      text(m[1]);
      continue;
    }
    const nameRaw = m[2];
    if (nameRaw === undefined) continue; // comment, doctype, processing instruction
    const name = nameRaw.toLowerCase().replace(/^.*:/, '');
    const closing = m[0][1] === '/';
    const selfClosing = /\/\s*>$/.test(m[0]);
    if (dropUntil) {
      if (closing && name === dropUntil) dropUntil = undefined;
      continue;
    }
    if (DROP.has(name) && !closing && !selfClosing) {
      dropUntil = name;
      continue;
    }
    if (name === 'br') parts.push('\n');
    else if (name === 'td' || name === 'th') {
      const prev = parts[parts.length - 1];
      if (!closing && prev !== undefined && !prev.endsWith('\n')) parts.push('\t');
    } else if (BLOCK.has(name)) {
      const prev = parts[parts.length - 1];
      if (prev !== undefined && !prev.endsWith('\n')) parts.push('\n');
      if (name === 'pre') pre = Math.max(0, pre + (closing ? -1 : selfClosing ? 0 : 1));
    }
  }
  text(html.slice(last));
  // Tidy: white space before line breaks, at most one blank line, no trailing white space.
  return parts
    .join('')
    .replace(/[ \t]*\n[ \t]*(?=\n)/g, '\n')
    .replace(/ +\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+|\s+$/g, '');
}
