/**
 * Server-rendered pages. Everything from the FHIR server goes through `html` (escaped).
 * Colours are CSS classes (the Content-Security-Policy forbids inline styles); every colour
 * comes with a text label.
 */
import type * as fhir4 from 'fhir/r4.js';
import { html, join, layout, type Html } from './html.ts';
import type { DocumentFilters, DocumentList, PatientData, RunView } from './fhir-read.ts';
import { docTypeOf, documentTime } from './fhir-read.ts';
import { summarize, type ConceptGroup } from './patient-summary.ts';
import type { ResourceView, SpanView } from './resources.ts';
import { layoutSpans } from './text-layout.ts';

/** Fixed colours for the types medner writes; other types get one of the spare classes by name. */
const KNOWN_TYPES: Record<string, { cls: number; abbr: string }> = {
  Condition: { cls: 0, abbr: 'COND' },
  Observation: { cls: 1, abbr: 'OBS' },
  MedicationStatement: { cls: 2, abbr: 'MED' },
  Procedure: { cls: 3, abbr: 'PROC' },
  FamilyMemberHistory: { cls: 4, abbr: 'FAM HX' },
  AllergyIntolerance: { cls: 5, abbr: 'ALLERGY' },
};
const SPARE_CLASSES = 4;

export const KNOWN_TYPE_NAMES = Object.keys(KNOWN_TYPES);
export const ASSERTIONS = ['negated', 'uncertain', 'family', 'historical'] as const;

export function typeStyle(type: string): { cls: string; abbr: string } {
  const k = KNOWN_TYPES[type];
  if (k) return { cls: `ty-${k.cls}`, abbr: k.abbr };
  let h = 0;
  for (const c of type) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return { cls: `ty-${6 + (h % SPARE_CLASSES)}`, abbr: type.replace(/[a-z]/g, '').slice(0, 6) || type.slice(0, 6).toUpperCase() };
}

export interface PageContext {
  /** URL of a resource's JSON for the browser: the FHIR server, or the viewer's read-through. */
  resourceUrl: (key: string) => string;
  /** The resource's URL on the FHIR server (for the browser). */
  fhirUrl: (key: string) => string;
}

function filterQuery(f: DocumentFilters, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v) q.set(k, v);
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

function day(d: string | undefined): string {
  return d ? d.slice(0, 10) : '';
}

function badge(a: string): Html {
  return html`<span class="badge b-${/^[a-z-]+$/.test(a) ? a : 'other'}">${a}</span>`;
}

function typeChip(type: string, n?: number): Html {
  const s = typeStyle(type);
  return html`<span class="chip ${s.cls}" title="${type}"><span class="abbr">${s.abbr}</span> ${type}${n !== undefined ? html` <b>${n}</b>` : ''}</span>`;
}

export function encodeCursor(path: string): string {
  return Buffer.from(path, 'utf8').toString('base64url');
}

/** A cursor is a paging path the FHIR server gave us, relative to its base: a query on Provenance or the server's paging endpoint. */
export function decodeCursor(c: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,4000}$/.test(c)) return undefined;
  const s = Buffer.from(c, 'base64url').toString('utf8');
  return /^(Provenance)?\?[^#\s]*$/.test(s) && !s.includes('..') ? s : undefined;
}

export function documentsPage(list: DocumentList, f: DocumentFilters, problems: string[], extraTypes: string[]): string {
  const types = [...new Set([...KNOWN_TYPE_NAMES, ...extraTypes, ...(f.type ? [f.type] : [])])].sort();
  const form = html`<form class="filters" method="get" action="/documents" role="search" aria-label="Filter documents">
<label>Patient <input name="patient" value="${f.patient ?? ''}" placeholder="Patient/id or identifier" autocomplete="off"></label>
<label>From <input type="date" name="from" value="${f.from ?? ''}"></label>
<label>To <input type="date" name="to" value="${f.to ?? ''}"></label>
<label>Resource type <select name="type"><option value="">any</option>${types.map((t) => html`<option value="${t}"${t === f.type ? html` selected` : ''}>${t}</option>`)}</select></label>
<label>Assertion <select name="assertion"><option value="">any</option>${ASSERTIONS.map((a) => html`<option value="${a}"${a === f.assertion ? html` selected` : ''}>${a}</option>`)}</select></label>
<button type="submit">Filter</button> <a href="/documents">clear</a>
</form>`;
  const rows = list.rows.map(
    (r) => html`<tr>
<td><a href="/documents/${r.provenanceId}">${day(r.documentDate ?? r.recorded) || '(no date)'}</a></td>
<td><a href="/documents/${r.provenanceId}">${r.documentType ?? r.source?.split('/')[0] ?? 'document'}</a>${r.documentStatus === 'entered-in-error' ? html` ${badge('entered-in-error')}` : ''}</td>
<td>${r.patient && /^Patient\/[A-Za-z0-9\-.]+$/.test(r.patient) ? html`<a href="/patients/${r.patient.slice(8)}">${r.patientLabel ?? r.patient}</a>` : (r.patientLabel ?? '')}</td>
<td class="counts">${join(r.counts.map(([t, n]) => typeChip(t, n)), ' ')}</td>
<td>${r.model}</td>
</tr>`,
  );
  const nav = html`<nav class="pager" aria-label="Pages">${list.previous ? html`<a rel="prev" href="/documents${filterQuery(f, { cursor: encodeCursor(list.previous) })}">← newer</a>` : ''} ${list.next ? html`<a rel="next" href="/documents${filterQuery(f, { cursor: encodeCursor(list.next) })}">older →</a>` : ''}</nav>`;
  const body = html`<h1>Processed documents</h1>
${form}
${problems.length > 0 ? html`<p class="problem" role="alert">${problems.join('; ')}</p>` : ''}
${list.notes.map((n) => html`<p class="note-line">${n}</p>`)}
<table class="docs">
<caption>Newest document first</caption>
<thead><tr><th scope="col">Date</th><th scope="col">Document</th><th scope="col">Patient</th><th scope="col">Resources</th><th scope="col">Model</th></tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="5">No documents.</td></tr>`}</tbody>
</table>
${nav}`;
  return layout('Documents', body);
}

function codesOf(v: ResourceView): Html {
  if (v.codes.length === 0) return html`<span class="muted">no code</span>`;
  return join(
    v.codes.map((c) => html`<span class="code"><code>${shortSystem(c.system)}${c.code ? `|${c.code}` : ''}</code>${c.display ? ` ${c.display}` : ''}</span>`),
    html`<br>`,
  );
}

function shortSystem(s: string | undefined): string {
  if (!s) return '';
  const known: Record<string, string> = {
    'http://snomed.info/sct': 'SNOMED',
    'http://loinc.org': 'LOINC',
    'http://www.nlm.nih.gov/research/umls/rxnorm': 'RxNorm',
    'http://hl7.org/fhir/sid/icd-10-cm': 'ICD-10-CM',
    'http://hl7.org/fhir/sid/icd-10': 'ICD-10',
  };
  return known[s] ?? s;
}

function tooltip(v: ResourceView, i: number): Html {
  return html`<div class="tip" role="tooltip" id="tip-${i}" hidden>
<div class="tip-head">${typeChip(v.resourceType)} ${v.assertions.map(badge)}</div>
<div class="tip-text">${v.text}</div>
<div>${codesOf(v)}</div>
<div class="muted">${v.score !== undefined ? `score ${v.score.toFixed(2)}` : 'no score'}${v.status ? ` · status ${v.status}` : ''}${v.assertions.length === 0 ? ' · affirmed' : ` · ${v.assertions.join(', ')}`}</div>
${v.value ? html`<div>value: ${v.value}</div>` : ''}
${v.relationship ? html`<div>relative: ${v.relationship}</div>` : ''}
${v.spans.length > 1 ? html`<div class="muted">${v.spans.length} spans: ${v.spans.map((s) => s.role).join(', ')}</div>` : ''}
<div class="muted">Enter or click: the resource's JSON on the FHIR server</div>
</div>`;
}

export function documentPage(run: RunView, ctx: PageContext): string {
  const { resources } = run;
  const doc = run.source as { date?: string; effectiveDateTime?: string; subject?: fhir4.Reference; status?: string } | undefined;
  const title = docTypeOf(run.source) ?? 'Document';
  const date = doc?.date ?? doc?.effectiveDateTime ?? documentTime(run.provenance);
  const subject = doc?.subject;
  const patientLink =
    subject?.reference && /^Patient\/[A-Za-z0-9\-.]+$/.test(subject.reference)
      ? html`<a href="/patients/${subject.reference.slice(8)}">${subject.display ?? subject.reference}</a>`
      : html`${subject?.display ?? subject?.identifier?.value ?? 'unknown'}${subject?.identifier ? html` <span class="muted">(by identifier, not a reference on the server)</span>` : ''}`;

  const byId = new Map<string, { span: SpanView; view: ResourceView; ri: number }>();
  resources.forEach((view, ri) => view.spans.forEach((span) => byId.set(span.id, { span, view, ri })));
  const text = run.text;
  const layoutResult = text !== undefined ? layoutSpans(text, [...byId.values()].map(({ span }) => ({ id: span.id, start: span.start, end: span.end }))) : undefined;

  let note: Html;
  if (layoutResult && text !== undefined) {
    const parts: Html[] = [];
    for (const t of layoutResult.tokens) {
      if (t.kind === 'text') parts.push(html`${t.text}`);
      else if (t.kind === 'close') parts.push(html`</mark>`);
      else {
        const { span, view, ri } = byId.get(t.span)!;
        const st = typeStyle(view.resourceType);
        const label = [st.abbr, ...(span.role !== 'mention' ? [span.role] : []), ...view.assertions].join(' · ');
        const first = t.piece === 0;
        parts.push(
          html`<mark class="hl ${st.cls}${view.assertions.map((a) => ` a-${/^[a-z-]+$/.test(a) ? a : 'other'}`).join('')}${span.role !== 'mention' ? ' attr' : ''}" data-span="${span.id}" data-res="${ri}" data-key="${view.key}" data-type="${view.resourceType}" data-role="${span.role}" data-assertions="${view.assertions.join(' ')}" data-href="${ctx.resourceUrl(view.key)}" aria-describedby="tip-${ri}"${first ? html` id="s-${span.id}" tabindex="0" role="link"` : ''}${t.last ? html` data-label="${label}"` : ''}>`,
        );
      }
    }
    note = html`<div class="note" id="note" aria-label="Note text with highlighted entities">${parts}</div>`;
  } else {
    note = html`<p class="problem" role="alert">${run.problem ?? 'No text.'} The entities are listed below.</p>`;
  }

  const typesPresent = [...new Set(resources.map((r) => r.resourceType))].sort();
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(r.resourceType, (counts.get(r.resourceType) ?? 0) + 1);
  const legend = html`<section class="legend" aria-label="Legend">
<h2>Legend</h2>
<ul class="legend-types">${typesPresent.map((t) => html`<li data-type="${t}">${typeChip(t, counts.get(t))}</li>`)}</ul>
<ul class="legend-badges">${ASSERTIONS.map((a) => html`<li>${badge(a)} ${ASSERTION_HELP[a]}</li>`)}</ul>
<p class="muted">Tab moves through the highlights; hover or focus shows the resource, Enter opens its JSON. Underlined pieces belong to the same entity; a dashed outline marks an attribute span (a value, a dose) linked to its entity.</p>
</section>`;

  const linked = resources.filter((r) => r.spans.length > 1);
  const relations = linked.length
    ? html`<section aria-label="Linked spans"><h2>Linked spans</h2><ul class="relations">${linked.map(
        (r) =>
          html`<li>${typeChip(r.resourceType)} ${join(
            r.spans.map((s) => html`<a href="#s-${s.id}" data-span-link="${s.id}">${s.role}: “${text !== undefined ? text.slice(s.start, s.end) : `${s.start}-${s.end}`}”</a>`),
            ' → ',
          )}</li>`,
      )}</ul></section>`
    : '';

  const outside = new Set(layoutResult?.outside ?? []);
  const table = html`<section aria-label="Entities"><h2>Entities (${resources.length})</h2>
<table class="entities">
<thead><tr><th scope="col">Text</th><th scope="col">Resource</th><th scope="col">Codes</th><th scope="col">Assertion</th><th scope="col">Status / value</th><th scope="col">Score</th><th scope="col">Span</th></tr></thead>
<tbody>${resources.map(
    (v) => html`<tr id="r-${v.resourceType}-${v.id}" data-key="${v.key}">
<td>${v.spans.length > 0 && !outside.has(v.spans[0]!.id) && text !== undefined ? html`<a href="#s-${v.spans[0]!.id}">${v.text}</a>` : v.text}</td>
<td>${typeChip(v.resourceType)}<br><a class="json" href="${ctx.resourceUrl(v.key)}">${v.key}</a> <a class="fhir" href="${ctx.fhirUrl(v.key)}">on the FHIR server</a></td>
<td>${codesOf(v)}</td>
<td>${v.assertions.length ? v.assertions.map(badge) : html`<span class="muted">affirmed</span>`}</td>
<td>${v.status ?? ''}${v.value ? html`<br>${v.value}` : ''}${v.relationship ? html`<br>${v.relationship}` : ''}</td>
<td>${v.score !== undefined ? v.score.toFixed(2) : ''}</td>
<td>${v.spans.map((s) => html`<span class="${outside.has(s.id) ? 'problem' : ''}">${s.start}–${s.end}${outside.has(s.id) ? ' (outside the text)' : ''}</span> `)}</td>
</tr>`,
  )}</tbody></table>
${run.missingTargets > 0 ? html`<p class="problem">${run.missingTargets} resource(s) named by the Provenance were not returned by the FHIR server.</p>` : ''}
</section>`;

  const provKey = `Provenance/${run.provenance.id}`;
  const body = html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/documents">Documents</a> › ${title}</nav>
<h1>${title} <span class="muted">${day(date)}</span>${doc?.status === 'entered-in-error' ? html` ${badge('entered-in-error')}` : ''}</h1>
<dl class="facts">
<dt>Patient</dt><dd>${patientLink}</dd>
<dt>Model</dt><dd>${run.model}</dd>
<dt>Source</dt><dd>${run.sourceRef ? html`<a class="json" href="${ctx.resourceUrl(run.sourceRef)}" id="source-link">${run.sourceRef}</a> <a class="fhir" href="${ctx.fhirUrl(run.sourceRef)}">on the FHIR server</a>` : 'none'}</dd>
<dt>Provenance</dt><dd><a class="json" href="${ctx.resourceUrl(provKey)}" id="provenance-link">${provKey}</a> <a class="fhir" href="${ctx.fhirUrl(provKey)}">on the FHIR server</a></dd>
${run.otherRuns.length ? html`<dt>Other runs</dt><dd>${join(run.otherRuns.map((o) => html`<a href="/documents/${o.id}">${o.model}</a>`), ', ')}</dd>` : ''}
</dl>
${legend}
<section aria-label="Note"><h2>Note</h2>${note}</section>
${relations}
${table}
<div class="tips">${resources.map((v, i) => tooltip(v, i))}</div>`;
  return layout(`${title} ${day(date)}`, body);
}

const ASSERTION_HELP: Record<(typeof ASSERTIONS)[number], string> = {
  negated: 'the note says it is absent (struck through)',
  uncertain: 'possible, not confirmed (dotted underline)',
  family: "about a relative, not the patient (FamilyMemberHistory)",
  historical: 'in the past',
};

function sparkline(series: NonNullable<ConceptGroup['series']>): Html {
  if (series.length < 2) return html``;
  const w = 160;
  const h = 36;
  const vals = series.map((s) => s.value);
  const min = Math.min(...vals);
  const max = Math.max(...vals);
  const span = max - min || 1;
  const pts = series.map((s, i) => `${((i / (series.length - 1)) * (w - 8) + 4).toFixed(1)},${(h - 4 - ((s.value - min) / span) * (h - 8)).toFixed(1)}`).join(' ');
  return html`<svg class="spark" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="trend from ${series[0]!.value} to ${series.at(-1)!.value}"><polyline fill="none" stroke="currentColor" stroke-width="1.5" points="${pts}"/></svg>`;
}

export function patientPage(data: PatientData, ctx: PageContext): string {
  const p = data.patient;
  const name = p.name?.[0] ? [p.name[0].given?.join(' '), p.name[0].family].filter(Boolean).join(' ') || p.name[0].text : undefined;
  const idents = (p.identifier ?? []).map((i) => i.value).filter(Boolean).join(', ');
  const groups = summarize(data.resources.map((r) => ({ view: r.view, provenanceId: r.provenanceId, ...(r.recorded ? { recorded: r.recorded } : {}) })));
  const sections = groups.map(
    (g) => html`<section class="ptype" aria-label="${g.resourceType}" data-type="${g.resourceType}">
<h2>${typeChip(g.resourceType, g.concepts.length)}</h2>
<ul class="concepts">${g.concepts.map(
      (c) => html`<li class="concept" data-concept="${c.key}">
<div class="concept-head"><strong>${c.title}</strong> ${c.codes.length ? codesOf({ codes: c.codes } as ResourceView) : ''} <span class="muted">${c.mentions.length} mention${c.mentions.length === 1 ? '' : 's'}:</span> ${join(
        c.states.map(([s, n]) => (s === 'affirmed' ? html`<span class="state">affirmed ×${n}</span>` : html`<span class="state">${s.split(', ').map(badge)} ×${n}</span>`)),
        ' ',
      )}</div>
${c.series ? html`<div class="series">${sparkline(c.series)} <table class="values"><thead><tr><th scope="col">Date</th><th scope="col">Value</th></tr></thead><tbody>${c.series.map((s) => html`<tr><td>${day(s.date)}</td><td>${s.value}${s.unit ? ` ${s.unit}` : ''}</td></tr>`)}</tbody></table></div>` : ''}
<ul class="mentions">${c.mentions.map(
        (m) =>
          html`<li><a class="span-link" href="/documents/${m.provenanceId}#${m.view.spans[0] ? `s-${m.view.spans[0].id}` : `r-${m.view.resourceType}-${m.view.id}`}" data-resource="${m.view.key}">${day(m.recorded) || 'undated'}: “${m.view.text}”</a> ${m.view.assertions.map(badge)}${m.view.value ? html` <span>${m.view.value}</span>` : ''}${m.view.relationship ? html` <span class="muted">${m.view.relationship}</span>` : ''} <a class="json muted" href="${ctx.resourceUrl(m.view.key)}">JSON</a></li>`,
      )}</ul>
</li>`,
    )}</ul>
</section>`,
  );
  const body = html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/documents">Documents</a> › Patient</nav>
<h1>${name ?? 'Patient'} <span class="muted">${idents}</span></h1>
<p>${data.runs.length} processed document${data.runs.length === 1 ? '' : 's'}; <a href="/documents?patient=${encodeURIComponent(`Patient/${p.id}`)}">list them</a>. <a class="json" href="${ctx.resourceUrl(`Patient/${p.id}`)}">Patient JSON</a></p>
${data.truncated ? html`<p class="problem">Only the newest ${data.runs.length} documents are summarized.</p>` : ''}
${sections.length ? sections : html`<p>Nothing derived for this patient.</p>`}`;
  return layout('Patient', body);
}

export function errorPage(status: number, message: string): string {
  return layout(`${status}`, html`<h1>${status}</h1><p>${message}</p><p><a href="/documents">Documents</a></p>`);
}
