import { spawn } from 'node:child_process';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `medner ARGS` (src/cli/main.ts under tsx) as a user would, with ENV added to this process's
 * environment. `untilStderr`: SIGTERM the command once its stderr contains this text (a worker is
 * stopped as an operator stops it). Rejects when it has not exited after `timeoutMs` (killed).
 */
export function runMedner(args: string[], env: Record<string, string>, opts: { untilStderr?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let until = opts.untilStderr;
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`medner ${args[0]} timed out: ${stderr.slice(-400)}`));
    }, opts.timeoutMs ?? 90_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (until !== undefined && stderr.includes(until)) {
        until = undefined;
        child.kill('SIGTERM');
      }
    });
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}
