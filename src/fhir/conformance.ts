import type * as fhir4 from 'fhir/r4.js';
import { DEFAULT_TARGETS } from './targets/registry.ts';
import { MEDNER_FHIR_BASE } from './uris.ts';

/**
 * The conformance resources for what medner mints under its canonical base
 * (FHIR_CANONICAL_BASE, default https://medner.example.org/fhir): the three
 * extensions (nlp-score, nlp-assertion on derived resources, link-score on a
 * linker's Coding) as StructureDefinitions, the
 * nlp-assertion codes as CodeSystem + ValueSet, and the meta.tag code systems
 * (content not-present: their codes are hashes). `medner conformance --out DIR`
 * writes them; our FHIR server loads them for validation
 * (deploy/fhir-server, FHIR_SERVER_CONFORMANCE_DIRS).
 */

export const ASSERTION_CODES: { code: string; display: string; definition: string }[] = [
  { code: 'negated', display: 'Negated', definition: 'The note states the finding is absent (e.g. "denies chest pain").' },
  { code: 'uncertain', display: 'Uncertain', definition: 'The note states the finding as possible, suspected or to be ruled out.' },
  { code: 'historical', display: 'Historical', definition: 'The note places the finding in the past (e.g. "history of", a past-history section).' },
  { code: 'family', display: 'Family member', definition: 'The finding is about a relative, not the patient.' },
];

/** Why a part of the source was not read (ClinicalDocument.omitted reasons that are warnings; ALTERNATIVE is not one). */
export const SKIPPED_PART_REASONS: { code: string; display: string; definition: string }[] = [
  { code: 'BAD_ENCODING', display: 'Bad encoding', definition: 'The part\'s data could not be decoded (invalid base64, bytes invalid for the declared character set).' },
  { code: 'UNSUPPORTED_CONTENT_TYPE', display: 'Unsupported content type', definition: 'The part is of a media type medner does not read as text (e.g. application/pdf).' },
  { code: 'NO_TEXT', display: 'No text', definition: 'The part is of a text type but holds no text.' },
  { code: 'UNREACHABLE', display: 'Unreachable', definition: 'The part\'s url could not be fetched (not found, refused, or not allowed).' },
];

const FHIR_VERSION = '4.0.1';
const PUBLISHER = 'medner';

/** What every extension definition of ours shares: identity, publisher, kind and base. */
function extensionHeader(
  id: string,
  url: string,
  name: string,
  title: string,
  description: string,
  context: fhir4.StructureDefinitionContext[],
): Omit<fhir4.StructureDefinition, 'differential'> {
  return {
    resourceType: 'StructureDefinition',
    id,
    url,
    version: '1.0.0',
    name,
    title,
    status: 'active',
    publisher: PUBLISHER,
    description,
    fhirVersion: FHIR_VERSION,
    kind: 'complex-type',
    abstract: false,
    context,
    type: 'Extension',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Extension',
    derivation: 'constraint',
  };
}

function extension(
  base: string,
  id: string,
  title: string,
  description: string,
  value: fhir4.ElementDefinition,
  context: fhir4.StructureDefinitionContext[] = DEFAULT_TARGETS.types.map((t) => ({ type: 'element', expression: t })),
): fhir4.StructureDefinition {
  const url = `${base}/StructureDefinition/${id}`;
  return {
    ...extensionHeader(id, url, title.replace(/[^A-Za-z0-9]/g, ''), title, description, context),
    differential: {
      element: [
        { id: 'Extension', path: 'Extension', short: title, definition: description, max: id === 'nlp-assertion' ? '*' : '1' },
        { id: 'Extension.extension', path: 'Extension.extension', max: '0' },
        { id: 'Extension.url', path: 'Extension.url', fixedUri: url },
        value,
      ],
    },
  };
}

/** The complex extension naming one part of the source a run skipped: origin, reason, media type. */
function skippedPartExtension(base: string): fhir4.StructureDefinition {
  const url = `${base}/StructureDefinition/skipped-part`;
  const sub = (name: string, short: string, min: 0 | 1, value: fhir4.ElementDefinition['type'], binding?: fhir4.ElementDefinitionBinding): fhir4.ElementDefinition[] => [
    { id: `Extension.extension:${name}`, path: 'Extension.extension', sliceName: name, short, min, max: '1' },
    { id: `Extension.extension:${name}.extension`, path: 'Extension.extension.extension', max: '0' },
    { id: `Extension.extension:${name}.url`, path: 'Extension.extension.url', fixedUri: name },
    { id: `Extension.extension:${name}.value[x]`, path: 'Extension.extension.value[x]', min: 1, type: value, ...(binding ? { binding } : {}) },
  ];
  const description =
    'A part of the source document that this run did not read (an attachment or HL7 v2 ED that could not be decoded, is not text, or could not be fetched), on the Provenance entity of the source. Origins, reasons and media types only: never patient text.';
  return {
    ...extensionHeader('skipped-part', url, 'SkippedPart', 'Skipped part', description, [{ type: 'element', expression: 'Provenance.entity' }]),
    differential: {
      element: [
        { id: 'Extension', path: 'Extension', short: 'Skipped part', definition: description, max: '*' },
        { id: 'Extension.extension', path: 'Extension.extension', slicing: { discriminator: [{ type: 'value', path: 'url' }], rules: 'closed' }, min: 2 },
        ...sub('origin', 'Where the part was: OBX[4], content[1], presentedForm[0]', 1, [{ code: 'string' }]),
        ...sub('reason', 'Why it was skipped', 1, [{ code: 'code' }], { strength: 'required', valueSet: `${base}/ValueSet/skipped-part-reason` }),
        ...sub('contentType', 'The part\'s media type, when known', 0, [{ code: 'code' }]),
        { id: 'Extension.url', path: 'Extension.url', fixedUri: url },
        { id: 'Extension.value[x]', path: 'Extension.value[x]', max: '0' },
      ],
    },
  };
}

export function conformanceResources(base: string = MEDNER_FHIR_BASE): (fhir4.StructureDefinition | fhir4.CodeSystem | fhir4.ValueSet)[] {
  const assertionCs = `${base}/CodeSystem/nlp-assertion`;
  const assertionVs = `${base}/ValueSet/nlp-assertion`;
  const skippedCs = `${base}/CodeSystem/skipped-part-reason`;
  const tagSystem = (id: string, title: string, description: string): fhir4.CodeSystem => ({
    resourceType: 'CodeSystem',
    id,
    url: `${base}/CodeSystem/${id}`,
    version: '1.0.0',
    name: title.replace(/[^A-Za-z0-9]/g, ''),
    title,
    status: 'active',
    publisher: PUBLISHER,
    description,
    caseSensitive: true,
    content: 'not-present',
  });
  return [
    extension(base, 'nlp-score', 'NLP score', 'The NER model\'s confidence for the mention(s) the resource was derived from (0-1, two decimals).', {
      id: 'Extension.value[x]',
      path: 'Extension.value[x]',
      min: 1,
      type: [{ code: 'decimal' }],
    }),
    extension(base, 'nlp-assertion', 'NLP assertion', 'An assertion the rules found in the text about the mention (negated, uncertain, historical, family); one per flag.', {
      id: 'Extension.value[x]',
      path: 'Extension.value[x]',
      min: 1,
      type: [{ code: 'code' }],
      binding: { strength: 'required', valueSet: assertionVs },
    }),
    extension(
      base,
      'link-score',
      'Link score',
      'The terminology linker\'s score for this code (0-1, two decimals), on a Coding the linker added.',
      { id: 'Extension.value[x]', path: 'Extension.value[x]', min: 1, type: [{ code: 'decimal' }] },
      [{ type: 'element', expression: 'Coding' }],
    ),
    {
      resourceType: 'CodeSystem',
      id: 'nlp-assertion',
      url: assertionCs,
      version: '1.0.0',
      name: 'NlpAssertion',
      title: 'NLP assertion',
      status: 'active',
      publisher: PUBLISHER,
      description: 'What the text asserts about a mention, as found by medner\'s assertion rules.',
      caseSensitive: true,
      content: 'complete',
      concept: ASSERTION_CODES,
    },
    {
      resourceType: 'ValueSet',
      id: 'nlp-assertion',
      url: assertionVs,
      version: '1.0.0',
      name: 'NlpAssertion',
      title: 'NLP assertion',
      status: 'active',
      publisher: PUBLISHER,
      description: 'All codes of the nlp-assertion code system.',
      compose: { include: [{ system: assertionCs }] },
    },
    skippedPartExtension(base),
    {
      resourceType: 'CodeSystem',
      id: 'skipped-part-reason',
      url: skippedCs,
      version: '1.0.0',
      name: 'SkippedPartReason',
      title: 'Skipped part reason',
      status: 'active',
      publisher: PUBLISHER,
      description: 'Why medner did not read a part of a source document.',
      caseSensitive: true,
      content: 'complete',
      concept: SKIPPED_PART_REASONS,
    },
    {
      resourceType: 'ValueSet',
      id: 'skipped-part-reason',
      url: `${base}/ValueSet/skipped-part-reason`,
      version: '1.0.0',
      name: 'SkippedPartReason',
      title: 'Skipped part reason',
      status: 'active',
      publisher: PUBLISHER,
      description: 'All codes of the skipped-part-reason code system.',
      compose: { include: [{ system: skippedCs }] },
    },
    tagSystem('nlp-model', 'NLP model', 'meta.tag code: the model name and version joined by @ (name@version) of the model that derived the resource.'),
    tagSystem('source-document', 'Source document', 'meta.tag code: sha256 hex of the source document key (id system | id).'),
    tagSystem('provenance-run', 'Provenance run', 'meta.tag code: sha256 hex of the document key and model that name one Provenance.'),
  ];
}
