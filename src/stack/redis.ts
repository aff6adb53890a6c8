import fs from 'node:fs';
import path from 'node:path';
import { redisServerInfo } from '../queue/redis.ts';
import type { Config } from '../config/config.ts';
import { assertNoOtherInstance, ownedPid, stopOwned, writePidFile } from './pid-file.ts';
import { findExecutable, isLocalHost, isPortOpen, runToCompletion, spawnDetached, waitUntil } from './process.ts';
import { stackDir } from './paths.ts';
import { parseRedisInfo, redisAddress } from './redis-info.ts';
import { StackError, type ManagedService, type ServiceStatus } from './service.ts';

/**
 * Redis for the BullMQ queue: the one answering at REDIS_URL, else (local
 * addresses only) a redis-server this stack starts, without persistence.
 */
export function createRedisService(config: Config): ManagedService {
  const { host, port } = redisAddress(config.redis.url);
  const address = `${host}:${port}`;
  const dir = path.join(stackDir(config), 'redis');
  const pidFile = path.join(dir, 'redis.pid');
  const logFile = path.join(dir, 'redis.log');

  /** INFO server of the Redis at REDIS_URL, or undefined when none answers. */
  async function info(): Promise<Map<string, string> | undefined> {
    const text = await redisServerInfo(config.redis.url);
    return text === undefined ? undefined : parseRedisInfo(text);
  }

  const ours = () => ownedPid(pidFile, address);

  const isUp = async () => (await info()) !== undefined;

  async function status(): Promise<ServiceStatus> {
    const rec = ours();
    const i = await info();
    const s: ServiceStatus = { name: 'redis', up: i !== undefined, address, managed: rec !== undefined };
    const v = i?.get('redis_version');
    if (v) s.version = v;
    if (rec) s.pid = rec.pid;
    return s;
  }

  function redisServer(): string {
    const found = findExecutable('redis-server');
    if (found) return found;
    const apt = findExecutable('apt-get');
    if (!apt || process.getuid?.() !== 0) {
      throw new StackError('redis-server not found on PATH and cannot install it here (needs root and apt-get): install redis-server or set REDIS_URL');
    }
    try {
      runToCompletion(apt, ['-qq', 'update']);
      runToCompletion(apt, ['-qq', '-y', 'install', 'redis-server'], { timeoutMs: 900_000 });
    } catch (err) {
      throw new StackError(`apt-get install redis-server failed: ${(err as Error).message}`);
    }
    const installed = findExecutable('redis-server') ?? (fs.existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined);
    if (!installed) throw new StackError('redis-server is still missing after apt-get install');
    return installed;
  }

  async function up(): Promise<ServiceStatus> {
    if (await isUp()) return status();
    if (!isLocalHost(host)) throw new StackError(`Redis at ${address} does not answer, and it is not a local address this stack can start`);
    assertNoOtherInstance(pidFile, address, 'redis-server', dir);
    if (ours() === undefined) {
      if (await isPortOpen(host, port)) throw new StackError(`port ${port} on ${host} is taken by something that is not Redis`);
      const bin = redisServer();
      fs.mkdirSync(dir, { recursive: true });
      const bind = host === 'localhost' ? '127.0.0.1' : host;
      const args = ['--port', String(port), '--bind', bind, '--daemonize', 'no', '--save', '', '--appendonly', 'no', '--dir', dir];
      const pid = spawnDetached(bin, args, { cwd: dir, logFile });
      // redis-server rewrites its title to "redis-server <bind>:<port>".
      writePidFile(pidFile, { pid, marker: 'redis-server', address });
    }
    const ready = await waitUntil(isUp, 15_000, 200);
    if (!ready) throw new StackError(`redis-server did not answer at ${address} within 15 s; see ${logFile}`);
    return status();
  }

  async function down(): Promise<void> {
    await stopOwned(ours(), pidFile, 10_000);
  }

  return { name: 'redis', address, isUp, status, up, down };
}
