import type { Command } from 'commander';
import { loadConfig, type Config } from '../../config/config.ts';
import { createLogger, type Logger } from '../../ops/logger.ts';
import { onShutdown } from '../../ops/shutdown.ts';
import { startViewServer, type ViewServer } from '../../view/server.ts';
import { MednerError } from '../../core/errors.ts';

/** Starts the viewer (VIEW_HOST:VIEW_PORT) and stops it on SIGTERM/SIGINT. */
export async function runViewer(
  config: Config = loadConfig(),
  logger: Logger = createLogger(config.logLevel),
  where: { host?: string; port?: number } = {},
): Promise<ViewServer> {
  const server = await startViewServer({ config, logger, ...where });
  onShutdown(logger, () => server.close());
  return server;
}

/** The viewer next to the workers (`npm start`): a port already taken is a warning, not a failed start. */
export async function startViewerBeside(config: Config, logger: Logger, say: (line: string) => void): Promise<ViewServer | undefined> {
  try {
    return await startViewServer({ config, logger });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    say(`viewer not started: ${config.view.host}:${config.view.port} is in use (set VIEW_PORT)`);
    return undefined;
  }
}

export function registerView(program: Command): void {
  program
    .command('view')
    .description('the read-only web viewer: processed documents with their entities highlighted, linked to the resources in the FHIR server (VIEW_HOST:VIEW_PORT, default 127.0.0.1:9465)')
    .option('--host <host>', 'interface to bind (overrides VIEW_HOST)')
    .option('--port <port>', 'port (overrides VIEW_PORT)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new MednerError('USAGE', `--port: expected 0-65535, got ${v}`);
      return n;
    })
    .action(async (o: { host?: string; port?: number }) => {
      const server = await runViewer(undefined, undefined, { ...(o.host ? { host: o.host } : {}), ...(o.port !== undefined ? { port: o.port } : {}) });
      process.stderr.write(`viewer at ${server.url}/documents (reads ${loadConfig().fhir.baseUrl}); Ctrl-C stops\n`);
    });
}
