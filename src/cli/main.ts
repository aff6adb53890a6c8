import { Command } from 'commander';
import { MednerError } from '../core/errors.ts';
import { ConfigError } from '../config/config.ts';
import { registerStack } from './commands/stack.ts';
import { registerTopics } from './commands/topics.ts';
import { registerParse } from './commands/parse.ts';
import { registerExtract } from './commands/extract.ts';
import { registerEval } from './commands/eval.ts';
import { registerWorker } from './commands/worker.ts';
import { registerReplay } from './commands/replay.ts';
import { registerSend } from './commands/send.ts';
import { registerDemo } from './commands/demo.ts';
import { registerConfig } from './commands/config.ts';
import { registerStart } from './commands/start.ts';
import { registerMllp } from './commands/mllp.ts';
import { registerView } from './commands/view.ts';
import { registerVerify } from './commands/verify.ts';
import { registerConformance } from './commands/conformance.ts';

const program = new Command('medner')
  .description('Streaming clinical-NLP worker: clinical documents from Kafka to coded FHIR R4')
  .showHelpAfterError();

for (const register of [
  registerStack,
  registerTopics,
  registerParse,
  registerExtract,
  registerEval,
  registerWorker,
  registerReplay,
  registerSend,
  registerDemo,
  registerConfig,
  registerStart,
  registerMllp,
  registerView,
  registerVerify,
  registerConformance,
]) {
  register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  // A MednerError names its code (KAFKA_AUTH_FAILED, REDIS_AUTH_FAILED, ...), so scripts and logs can match on it.
  const code = err instanceof MednerError ? `${err.code}: ` : '';
  process.stderr.write(`medner: ${code}${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
