/** Child of test/unit/ort-thread-stack.test.ts: loads a model folder in the engine and runs one sentence. */
import { createNerEngine } from '../../src/nlp/engine.ts';

const e = await createNerEngine({ modelDir: process.env.ENGINE_START_MODEL ?? 'models/medner-clinical-bge-small', sessions: 1 });
const [found] = await e.extract(['Admitted with pneumonia.']);
await e.close();
console.log('loaded', process.argv.length, Array.isArray(found));
