import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.ts';
import { errorCode, MednerError } from '../../core/errors.ts';
import { FhirClient } from '../../fhir/fhir-client.ts';
import type { FetchBinary } from '../../formats/fhir/to-documents.ts';
import { parseDocuments } from '../../formats/intake.ts';
import { DEFAULT_FORMATS } from '../../formats/registry.ts';

async function readInput(file: string): Promise<Buffer> {
  if (file !== '-') return readFile(file);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Binary fetcher built on first use, so config is only read when an attachment needs it. */
function lazyFetcher(): FetchBinary {
  let fetcher: FetchBinary | undefined;
  return (url) => {
    if (!fetcher) {
      const { fhir } = loadConfig();
      const client = new FhirClient({ baseUrl: fhir.baseUrl, timeoutMs: fhir.timeoutMs, auth: fhir.auth });
      fetcher = (url) => client.readAttachment(url);
    }
    return fetcher(url);
  };
}

export function registerParse(program: Command): void {
  program
    .command('parse')
    .description('parse HL7 v2 / FHIR R4 files ("-" for stdin) into ClinicalDocument JSON lines; bad inputs: "<file>: <CODE>: <message>" on stderr, exit 2')
    .argument('<files...>', 'files to parse, or - for stdin')
    .option('--format <format>', `an input format: ${DEFAULT_FORMATS.names.join(' or ')} (default: recognized from the content)`)
    .action(async (files: string[], opts: { format?: string }) => {
      if (opts.format !== undefined && DEFAULT_FORMATS.get(opts.format) === undefined) throw new MednerError('USAGE', `--format must be ${DEFAULT_FORMATS.names.join(' or ')}`);
      const format = opts.format;
      const fetchBinary = lazyFetcher();
      let failed = 0;
      for (const file of files) {
        try {
          const raw = await readInput(file);
          const docs = await parseDocuments(raw, { source: { kind: 'file', path: file, index: 0 }, fetchBinary, ...(format ? { format } : {}) });
          for (const doc of docs) process.stdout.write(`${JSON.stringify(doc)}\n`);
        } catch (e) {
          failed++;
          process.stderr.write(`${file}: ${errorCode(e)}: ${e instanceof Error ? e.message : String(e)}\n`);
        }
      }
      if (failed > 0) process.exitCode = 2;
    });
}
