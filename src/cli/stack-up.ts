import type { Config } from '../config/config.ts';
import { ensureTopics } from '../ingest/topics.ts';
import { stackServices } from '../stack/stack.ts';
import { StackError } from '../stack/service.ts';

/** `medner stack up` as a function: start what does not answer, then create the topics. */
export async function stackUp(config: Config, say: (line: string) => void): Promise<void> {
  const failures: string[] = [];
  for (const svc of stackServices(config)) {
    const t0 = Date.now();
    try {
      if (!(await svc.isUp())) say(`starting ${svc.name} at ${svc.address} ...`);
      await svc.up();
      say(`${svc.name} ready at ${svc.address} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (err) {
      failures.push(`${svc.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (failures.length > 0) throw new StackError(failures.join('; '));
  const r = await ensureTopics(config);
  say(`topics: ${r.created.length} created, ${r.existing.length} already there`);
}
