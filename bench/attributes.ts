/**
 * Attachment accuracy of the attribute rules on MACCROBAT given gold entities:
 *   npm run bench:attributes -- [--data DIR] [--json]
 * DIR defaults to ../shared/data/clinical/maccrobat/dev. Prints a table; writes
 * bench-results/attributes-<split>.json.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateAttachment, formatAttachmentReport, readBratRelations } from '../src/nlp/attributes-eval.ts';

const { values } = parseArgs({ options: { data: { type: 'string' }, json: { type: 'boolean' } } });
const here = path.dirname(new URL(import.meta.url).pathname);
const data = values.data ?? path.resolve(here, '../../shared/data/clinical/maccrobat/dev');
if (!existsSync(data)) {
  process.stderr.write(`bench:attributes: ${data} not found (give --data DIR with brat .txt/.ann pairs)\n`);
  process.exit(2);
}
const report = evaluateAttachment(await readBratRelations(data), data);
const outDir = path.resolve(here, '../bench-results');
mkdirSync(outDir, { recursive: true });
const out = path.join(outDir, `attributes-${path.basename(data)}.json`);
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), ...report }, null, 2)}\n`);
process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatAttachmentReport(report)}\nwrote ${out}\n`);
