import type { Delimiters } from './message.ts';
import { unescapeText } from './escape.ts';

/** Decoder for one message: splits structured (non-text) fields and unescapes their parts. */
export class FieldReader {
  constructor(
    readonly d: Delimiters,
    readonly hexBytes: (bytes: Uint8Array) => string,
  ) {}

  text(value: string): string {
    return unescapeText(value, this.d, this.hexBytes);
  }

  repetitions(value: string): string[] {
    return value === '' ? [] : value.split(this.d.repetition);
  }

  /** Component n (1-based) of a value, unescaped; subcomponents kept joined. */
  component(value: string, n: number): string {
    const parts = value.split(this.d.component);
    return this.text(parts[n - 1] ?? '');
  }

  /** Subcomponents of component n, unescaped. */
  subcomponents(value: string, n: number): string[] {
    const parts = value.split(this.d.component);
    return (parts[n - 1] ?? '').split(this.d.subcomponent).map((s) => this.text(s));
  }

  /** First component, first subcomponent: a coded or simple value. */
  first(value: string): string {
    let end = value.length;
    for (const sep of [this.d.repetition, this.d.component, this.d.subcomponent]) {
      const i = value.indexOf(sep);
      if (i !== -1 && i < end) end = i;
    }
    return this.text(end === value.length ? value : value.slice(0, end));
  }
}

/** HD (namespace&universal id&type) to a URI system; see README "Identifier systems". */
export function systemFromAuthority(namespace: string, universalId: string, universalIdType: string): string | undefined {
  const uid = universalId.trim();
  if (uid !== '') {
    if (/^urn:|^https?:\/\//i.test(uid)) return uid;
    if (universalIdType.toUpperCase() === 'ISO' || /^[0-2](\.(0|[1-9]\d*))+$/.test(uid)) return `urn:oid:${uid}`;
    if (universalIdType.toUpperCase() === 'UUID' || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uid)) return `urn:uuid:${uid.toLowerCase()}`;
  }
  const ns = namespace.trim() || uid;
  return ns === '' ? undefined : namespaceSystem(ns);
}

/** Our documented system for an assigning authority known only by namespace id. */
export function namespaceSystem(namespace: string): string {
  return `urn:medner:hl7v2:authority:${encodeURIComponent(namespace)}`;
}

/** HL7 v2 DTM/TS (YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ]) to ISO 8601; undefined when malformed. */
export function hl7DateToIso(value: string): string | undefined {
  const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2}(?:\.\d{1,4})?)?\s*([+-]\d{4})?$/.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, z] = m;
  if (mo !== undefined && (+mo < 1 || +mo > 12)) return undefined;
  if (d !== undefined && (+d < 1 || +d > 31)) return undefined;
  if (h !== undefined && +h > 23) return undefined;
  let iso = y!;
  if (mo) iso += `-${mo}`;
  if (d) iso += `-${d}`;
  if (h) {
    iso += `T${h}:${mi ?? '00'}:${s ?? '00'}`;
    if (z) iso += `${z.slice(0, 3)}:${z.slice(3)}`;
  }
  return iso;
}

const CODING_SYSTEMS: Record<string, string> = {
  LN: 'http://loinc.org',
  LOINC: 'http://loinc.org',
  SCT: 'http://snomed.info/sct',
  SNM: 'http://snomed.info/sct',
  SNOMED: 'http://snomed.info/sct',
};

/** CWE/CE code^text^system to our type; system names of table 0396 mapped to URIs where known. */
export function codedType(r: FieldReader, value: string): { system?: string; code?: string; display?: string } | undefined {
  const rep = value.split(r.d.repetition)[0] ?? '';
  const code = r.component(rep, 1);
  const display = r.component(rep, 2);
  const sys = r.component(rep, 3);
  if (code === '' && display === '') return undefined;
  const out: { system?: string; code?: string; display?: string } = {};
  if (sys !== '') out.system = CODING_SYSTEMS[sys.toUpperCase()] ?? sys;
  if (code !== '') out.code = code;
  if (display !== '') out.display = display;
  return out;
}
