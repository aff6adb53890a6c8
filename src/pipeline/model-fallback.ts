import type { Config } from '../config/config.ts';
import { loadModelFolder } from '../nlp/model-folder.ts';

export const TEST_MODEL_DIR = 'test/fixtures/models/tiny-bert';

async function loadProblem(dir: string): Promise<string | undefined> {
  try {
    await loadModelFolder(dir);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message.split('\n')[0] : String(err);
  }
}

/**
 * For `start`, `demo` and the benchmark on a fresh checkout: when MODEL_DIR was not
 * set and the default model folder does not load (not trained or exported yet), use
 * the tiny random-weight test model and say so (its entities are meaningless).
 * An explicit MODEL_DIR is never replaced.
 */
export async function withUsableModel(config: Config, env: NodeJS.ProcessEnv, warn: (line: string) => void): Promise<Config> {
  if (env.MODEL_DIR) return config;
  const problem = await loadProblem(config.model.dir);
  if (problem === undefined || (await loadProblem(TEST_MODEL_DIR)) !== undefined) return config;
  warn(
    `the model in ${config.model.dir} does not load (${problem}); set MODEL_DIR or run \`npm run model:train\`. ` +
      `Using the random-weight test model ${TEST_MODEL_DIR}: its entities are arbitrary`,
  );
  return { ...config, model: { ...config.model, dir: TEST_MODEL_DIR } };
}
