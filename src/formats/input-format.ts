/**
 * An input format: how medner recognizes, reads and routes one kind of message. The shipped ones are
 * HL7 v2 (hl7v2/format.ts) and FHIR R4 JSON (fhir/format.ts); registry.ts lists them. Adding a
 * format is a module exporting an InputFormat and one line in SHIPPED_FORMATS (src/formats/README.md,
 * "Adding an input format").
 */
import type { ClinicalDocument, SourceCoordinates } from '../core/clinical-document.ts';
import type { FetchBinary } from './fhir/to-documents.ts';

/** What a format's reader may use besides the bytes. */
export interface ReadContext {
  source: SourceCoordinates;
  /** Resolves an attachment url (usually a Binary on the FHIR server); absent when none is configured. */
  fetchBinary?: FetchBinary;
}

/** One Kafka record `medner send` makes of a file. */
export interface FileRecord {
  /** Document id when it can be read cheaply, else "<file name>#<index>". */
  key: string;
  value: Buffer;
}

export interface InputFormat {
  /** ClinicalDocument.format, `medner parse --format`, metrics labels. Lower case, e.g. "hl7v2". */
  readonly name: string;
  /**
   * The input topic's setting: TOPIC_<topicKey upper case>_IN (e.g. "hl7" reads TOPIC_HL7_IN),
   * defaultTopic when unset.
   */
  readonly topicKey: string;
  readonly defaultTopic: string;
  /**
   * Whether these bytes are this format's (a byte order mark, white space or framing bytes may come
   * first). Formats are asked in registry order; the first that says yes reads the record. A format
   * may claim bytes it will then refuse with a precise reason (FHIR claims XML to say that only JSON
   * is accepted).
   */
  recognizes(raw: Uint8Array): boolean;
  /** The bytes of one record (or file) to documents. Throws IntakeError only. */
  read(raw: Uint8Array, ctx: ReadContext): ClinicalDocument[] | Promise<ClinicalDocument[]>;
  /**
   * `medner send`: a file's content (its byte order mark already removed) to the records to put on
   * the input topic, keyed by document id. Throws MednerError (e.g. NO_MESSAGES, BAD_ENCODING) for a
   * file it cannot send.
   */
  recordsOfFile(fileName: string, content: Buffer): FileRecord[];
}
