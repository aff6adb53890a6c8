/**
 * HTML built only through the `html` tagged template: every interpolated value is escaped
 * unless it is itself an `Html` (built by `html` or `raw`). Note text, codes and ids from the
 * FHIR server therefore can never become markup.
 */

export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Text and attribute escaping (both quote kinds, so it is safe in either attribute style). */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

type Value = Html | string | number | boolean | null | undefined | readonly Value[];

function render(v: Value): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}

/** Markup we built ourselves from constants (never from data). */
export function raw(s: string): Html {
  return new Html(s);
}

export function join(parts: readonly Html[], sep: Html | string = ''): Html {
  return new Html(parts.map((p) => p.value).join(sep instanceof Html ? sep.value : escapeHtml(sep)));
}

/** The page frame: our stylesheet and script only (Content-Security-Policy allows nothing else). */
export function layout(title: string, body: Html, opts: { nav?: Html } = {}): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · medner view</title>
<link rel="stylesheet" href="/static/view.css">
<script src="/static/view.js" defer></script>
</head>
<body>
<header class="top"><a class="brand" href="/documents">medner view</a>${opts.nav ?? ''}</header>
<main id="main">
${body}
</main>
</body>
</html>
`.value;
}
