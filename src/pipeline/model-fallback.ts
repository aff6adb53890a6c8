import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config.ts';

export const TEST_MODEL_DIR = 'test/fixtures/models/tiny-bert';

function hasModel(dir: string): boolean {
  return existsSync(path.join(dir, 'model.onnx')) && (existsSync(path.join(dir, 'medner-model.json')) || existsSync(path.join(dir, 'config.json')));
}

/**
 * For `start` and `demo` on a fresh checkout: when MODEL_DIR was not set and the
 * default model folder has no model yet, use the tiny random-weight test model
 * (and say so: its entities are meaningless). An explicit MODEL_DIR is never replaced.
 */
export function withUsableModel(config: Config, env: NodeJS.ProcessEnv, warn: (line: string) => void): Config {
  if (env.MODEL_DIR || hasModel(config.model.dir) || !hasModel(TEST_MODEL_DIR)) return config;
  warn(
    `no model in ${config.model.dir} (train it with \`npm run model:train\` or set MODEL_DIR): ` +
      `using the random-weight test model ${TEST_MODEL_DIR}; its entities are arbitrary`,
  );
  return { ...config, model: { ...config.model, dir: TEST_MODEL_DIR } };
}
