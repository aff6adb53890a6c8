import { StackError } from './service.ts';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** The full path of an executable on PATH, or undefined. */
export function findExecutable(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/**
 * Starts a long-running service detached from this process (its own process
 * group, stdout+stderr appended to `logFile`) and returns its pid.
 */
export function spawnDetached(cmd: string, args: string[], opts: { cwd: string; logFile: string; env?: NodeJS.ProcessEnv }): number {
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const fd = fs.openSync(opts.logFile, 'a');
  try {
    const child = spawn(cmd, args, { cwd: opts.cwd, detached: true, stdio: ['ignore', fd, fd], env: opts.env ?? process.env });
    if (child.pid === undefined) throw new StackError(`could not start ${cmd}`);
    child.unref();
    return child.pid;
  } finally {
    fs.closeSync(fd);
  }
}

/** Runs a short command to completion; throws with the tail of its output on failure. */
export function runToCompletion(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) {
    const tail = out.trim().split('\n').slice(-15).join('\n');
    throw new StackError(`${path.basename(cmd)} ${args[0] ?? ''} exited with ${r.status ?? r.signal}: ${tail}`);
  }
  return out;
}

/** Whether something accepts TCP connections at host:port. */
export function isPortOpen(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function parseHostPort(address: string): { host: string; port: number } {
  const m = /^\[?([^\]\s]+?)\]?:(\d+)$/.exec(address.trim());
  if (!m || m[1] === undefined || m[2] === undefined) throw new StackError(`expected host:port, got ${JSON.stringify(address)}`);
  return { host: m[1], port: Number(m[2]) };
}

/** Addresses this machine can start a service on. */
export function isLocalHost(host: string): boolean {
  return ['127.0.0.1', 'localhost', '::1', '0.0.0.0', '[::1]'].includes(host.toLowerCase());
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Waits for a service we just started to answer, failing at once when its process
 * dies instead of waiting out the timeout.
 */
export async function waitForStartup(opts: {
  name: string;
  address: string;
  isUp: () => Promise<boolean>;
  alive: () => boolean;
  timeoutMs: number;
  everyMs: number;
  logFile: string;
}): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (!opts.alive()) throw new StackError(`${opts.name} exited during startup; see ${opts.logFile}`);
    if (await opts.isUp().catch(() => false)) return;
    if (Date.now() >= deadline) {
      throw new StackError(`${opts.name} did not answer at ${opts.address} within ${Math.round(opts.timeoutMs / 1000)} s; see ${opts.logFile}`);
    }
    await sleep(opts.everyMs);
  }
}

/** Polls `probe` until it resolves true or `timeoutMs` passes. */
export async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, everyMs = 500): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}
