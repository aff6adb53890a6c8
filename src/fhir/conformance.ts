import type * as fhir4 from 'fhir/r4.js';
import { DEFAULT_TARGETS } from './targets/registry.ts';
import { MEDNER_FHIR_BASE } from './uris.ts';

/**
 * The conformance resources for what medner mints under its canonical base
 * (FHIR_CANONICAL_BASE, default https://medner.example.org/fhir): the two
 * extensions (nlp-score, nlp-assertion) as StructureDefinitions, the
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

const FHIR_VERSION = '4.0.1';
const PUBLISHER = 'medner';

function extension(base: string, id: string, title: string, description: string, value: fhir4.ElementDefinition): fhir4.StructureDefinition {
  const url = `${base}/StructureDefinition/${id}`;
  return {
    resourceType: 'StructureDefinition',
    id,
    url,
    version: '1.0.0',
    name: title.replace(/[^A-Za-z0-9]/g, ''),
    title,
    status: 'active',
    publisher: PUBLISHER,
    description,
    fhirVersion: FHIR_VERSION,
    kind: 'complex-type',
    abstract: false,
    context: DEFAULT_TARGETS.types.map((t) => ({ type: 'element', expression: t })),
    type: 'Extension',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Extension',
    derivation: 'constraint',
    differential: {
      element: [
        { id: 'Extension', path: 'Extension', short: title, definition: description, max: id === 'nlp-score' ? '1' : '*' },
        { id: 'Extension.extension', path: 'Extension.extension', max: '0' },
        { id: 'Extension.url', path: 'Extension.url', fixedUri: url },
        value,
      ],
    },
  };
}

export function conformanceResources(base: string = MEDNER_FHIR_BASE): (fhir4.StructureDefinition | fhir4.CodeSystem | fhir4.ValueSet)[] {
  const assertionCs = `${base}/CodeSystem/nlp-assertion`;
  const assertionVs = `${base}/ValueSet/nlp-assertion`;
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
    tagSystem('nlp-model', 'NLP model', 'meta.tag code: the model name and version joined by @ (name@version) of the model that derived the resource.'),
    tagSystem('source-document', 'Source document', 'meta.tag code: sha256 hex of the source document key (id system | id).'),
    tagSystem('provenance-run', 'Provenance run', 'meta.tag code: sha256 hex of the document key and model that name one Provenance.'),
  ];
}
