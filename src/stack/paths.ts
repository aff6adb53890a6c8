import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/config.ts';

/** The repository root (deploy/ lives here), independent of the working directory. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Absolute stack directory: STACK_DIR, relative to the working directory when not absolute. */
export function stackDir(config: Config): string {
  return path.resolve(config.stackDir);
}
