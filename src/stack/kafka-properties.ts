import { StackError } from './service.ts';
/**
 * Renders deploy/kafka/server.properties.template: each {{name}} is replaced
 * by its value; a placeholder without a value is an error, not a silent blank.
 */
export interface KafkaPropertiesVars {
  host: string;
  brokerPort: number;
  controllerPort: number;
  /** Absolute path of the broker's log.dirs. */
  dataDir: string;
}

export function renderServerProperties(template: string, vars: KafkaPropertiesVars): string {
  const values: Record<string, string> = {
    host: vars.host,
    brokerPort: String(vars.brokerPort),
    controllerPort: String(vars.controllerPort),
    // Java properties treat backslashes as escapes.
    dataDir: vars.dataDir.replaceAll('\\', '/'),
  };
  const missing = new Set<string>();
  const out = template.replace(/\{\{\s*([A-Za-z]+)\s*\}\}/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) {
      missing.add(name);
      return '';
    }
    return v;
  });
  if (missing.size > 0) throw new StackError(`server.properties template: no value for ${[...missing].join(', ')}`);
  return out;
}

/** Reads `key=value` lines (comments and blanks skipped); enough for checking a rendered file. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const i = line.indexOf('=');
    if (i <= 0) continue;
    out.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return out;
}

/** The Kafka version from the resolved jar names (kafka_2.13-4.1.1.jar), or undefined. */
export function kafkaVersionFromJars(jarNames: string[]): string | undefined {
  for (const n of jarNames) {
    const m = /^kafka_2\.1\d-(\d+\.\d+\.\d+(?:[-.][\w.]+)?)\.jar$/.exec(n);
    if (m) return m[1];
  }
  return undefined;
}
