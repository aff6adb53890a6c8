import { StackError } from './service.ts';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Pid files for processes `medner stack up` started. A pid file holds the pid
 * and a marker (a string the process's command line contains), so `down`
 * never signals a recycled pid that now belongs to someone else.
 */
export interface PidRecord {
  pid: number;
  marker: string;
  /** The address it serves, so one stack directory never claims another port's service. */
  address?: string;
}

export function formatPidFile(rec: PidRecord): string {
  return `${rec.pid}\n${rec.marker}\n${rec.address !== undefined ? `${rec.address}\n` : ''}`;
}

/** Whether `rec` was started to serve `address`. */
export function servesAddress(rec: PidRecord, address: string): boolean {
  return rec.address === address;
}

/** Parses a pid file's text; undefined when it is not one we wrote. */
export function parsePidFile(text: string): PidRecord | undefined {
  const [pidLine, marker, address] = text.split('\n');
  if (pidLine === undefined || !/^\d+$/.test(pidLine.trim())) return undefined;
  const pid = Number(pidLine.trim());
  if (!Number.isSafeInteger(pid) || pid <= 1) return undefined;
  const rec: PidRecord = { pid, marker: (marker ?? '').trim() };
  if (address !== undefined && address.trim() !== '') rec.address = address.trim();
  return rec;
}

export function writePidFile(file: string, rec: PidRecord): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, formatPidFile(rec));
}

export function readPidFile(file: string): PidRecord | undefined {
  try {
    return parsePidFile(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export function removePidFile(file: string): void {
  fs.rmSync(file, { force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user, so it is not ours either way.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's command line (Linux /proc); undefined where unavailable. */
export function commandLineOf(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/** Whether `rec` still names a live process of ours (marker in its command line). */
export function isOurs(rec: PidRecord, cmdline: (pid: number) => string | undefined = commandLineOf): boolean {
  if (!isAlive(rec.pid)) return false;
  const cl = cmdline(rec.pid);
  // Without /proc we trust the pid file; a zombie (empty cmdline) is not ours.
  if (cl === undefined) return true;
  return rec.marker === '' || cl.includes(rec.marker);
}

/** The live process recorded in `file`, or undefined (a stale file is removed). */
export function livePid(file: string): PidRecord | undefined {
  const rec = readPidFile(file);
  if (rec === undefined) return undefined;
  if (isOurs(rec)) return rec;
  removePidFile(file);
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

/**
 * SIGTERM, wait up to `graceMs`, then SIGKILL. Signals the process group
 * first (we start services as group leaders), then the pid itself.
 */
export async function stopProcess(pid: number, graceMs = 30_000): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!isAlive(pid)) return 'not-running';
  signal(pid, 'SIGTERM');
  if (await waitForExit(pid, graceMs)) return 'stopped';
  signal(pid, 'SIGKILL');
  await waitForExit(pid, 5_000);
  return 'killed';
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/** Stops the process a stack started (if `rec` is one) and forgets its pid file. */
export async function stopOwned(rec: PidRecord | undefined, pidFile: string, graceMs: number): Promise<void> {
  if (!rec) return;
  await stopProcess(rec.pid, graceMs);
  removePidFile(pidFile);
}

/** The live process a stack directory started for this address, if any. */
export function ownedPid(pidFile: string, address: string): PidRecord | undefined {
  const rec = livePid(pidFile);
  return rec && servesAddress(rec, address) ? rec : undefined;
}

/** Refuses to start a second `what` from one stack directory for another address. */
export function assertNoOtherInstance(pidFile: string, address: string, what: string, dir: string): void {
  const rec = livePid(pidFile);
  if (rec && !servesAddress(rec, address)) {
    throw new StackError(`${dir} already runs a ${what} for ${rec.address ?? 'another address'} (pid ${rec.pid}); use another STACK_DIR for ${address}`);
  }
}
