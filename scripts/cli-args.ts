/** The value after `--name` on this script's command line, if given. */
export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The value after `--name`, or exit 2 with `usage` on stderr. */
export function requiredArg(name: string, usage: string): string {
  const v = arg(name);
  if (v === undefined) {
    process.stderr.write(`${usage}\n`);
    process.exit(2);
  }
  return v;
}
