import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { findExecutable, runToCompletion } from './process.ts';
import { StackError } from './service.ts';

/**
 * The FHIR packages our local FHIR server validates with (besides R4 core, which HAPI bundles),
 * fetched from the npm registry with `npm pack` (no dependency resolution: the extensions pack
 * names hl7.fhir.r4.core, which is not on npm), checked against the pinned integrity, and
 * unpacked once under `<STACK_DIR>/fhir-packages/<name>#<version>/package`.
 *
 * hl7.fhir.uv.extensions.r4 is on npm only as 5.3.0-ballot-tc1 (the ballot build of the
 * extensions pack); it is the version we use.
 */
export interface FhirPackage {
  name: string;
  version: string;
  /** npm's dist.integrity of the tarball (sha512, base64). */
  integrity: string;
}

export const FHIR_VALIDATION_PACKAGES: readonly FhirPackage[] = [
  {
    name: 'hl7.terminology.r4',
    version: '7.0.1',
    integrity: 'sha512-UamZUcARk/TEaJb7X0hDyANmC7bCv0Jof0u0uGIOB2O9VQX0uV45Vf4EyONHM6Sejv6q7sXEAzKAQsgw1Cld3A==',
  },
  {
    name: 'hl7.fhir.uv.extensions.r4',
    version: '5.3.0-ballot-tc1',
    integrity: 'sha512-mhPmWj0dZvIC7JQLkqxT42/UpoIyYwFtSiIZbhX/ArfX96hR5oTqNvAUvMD+dMH45m4mGMQ19WyCZFpP1OLEbQ==',
  },
];

/** npm's integrity string of a file's bytes. */
export function integrityOf(bytes: Buffer): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

/**
 * Writes the package's `.index.json` (the FHIR npm package index: filename, resourceType, id, url,
 * version per resource) when the package has none, so the server reads one small file at start
 * instead of scanning every resource (HL7's packages on npm ship without it).
 */
export function writePackageIndex(packageFolder: string): number {
  const target = path.join(packageFolder, '.index.json');
  if (fs.existsSync(target)) return -1;
  const files: { filename: string; resourceType: string; id?: string; url?: string; version?: string }[] = [];
  for (const filename of fs.readdirSync(packageFolder).sort()) {
    if (!filename.endsWith('.json') || filename === 'package.json' || filename.startsWith('.')) continue;
    let r: { resourceType?: unknown; id?: unknown; url?: unknown; version?: unknown };
    try {
      r = JSON.parse(fs.readFileSync(path.join(packageFolder, filename), 'utf8')) as typeof r;
    } catch {
      continue;
    }
    if (typeof r.resourceType !== 'string') continue;
    files.push({
      filename,
      resourceType: r.resourceType,
      ...(typeof r.id === 'string' ? { id: r.id } : {}),
      ...(typeof r.url === 'string' ? { url: r.url } : {}),
      ...(typeof r.version === 'string' ? { version: r.version } : {}),
    });
  }
  fs.writeFileSync(target, `${JSON.stringify({ 'index-version': 1, files })}\n`);
  return files.length;
}

/** Where a package is unpacked under `cacheDir` (the folder holding package/package.json). */
export function packageDir(cacheDir: string, pkg: FhirPackage): string {
  return path.join(cacheDir, `${pkg.name}#${pkg.version}`);
}

/**
 * Unpacked folders of `packages`, fetching and unpacking those not yet under `cacheDir`.
 * Throws StackError when npm or tar is missing, the registry cannot be reached, or a tarball's
 * integrity differs from the pinned one.
 */
export function ensureFhirPackages(cacheDir: string, packages: readonly FhirPackage[] = FHIR_VALIDATION_PACKAGES): string[] {
  return packages.map((pkg) => {
    const dir = packageDir(cacheDir, pkg);
    if (fs.existsSync(path.join(dir, 'package', 'package.json'))) {
      writePackageIndex(path.join(dir, 'package')); // a cache unpacked before the index was written
      return dir;
    }
    const npm = findExecutable('npm');
    const tar = findExecutable('tar');
    if (!npm || !tar) throw new StackError('npm and tar are needed to fetch the FHIR validation packages');
    fs.mkdirSync(path.dirname(cacheDir), { recursive: true });
    const tmp = fs.mkdtempSync(path.join(cacheDir.replace(/\/+$/, '') + '-tmp-'));
    try {
      try {
        // From an empty folder: the repository's .npmrc settings mean nothing to `npm pack`.
        runToCompletion(npm, ['pack', `${pkg.name}@${pkg.version}`, '--silent', '--pack-destination', tmp], { cwd: tmp, timeoutMs: 300_000 });
      } catch (err) {
        throw new StackError(`fetching ${pkg.name}@${pkg.version} from the npm registry failed: ${(err as Error).message.split('\n')[0]}`);
      }
      const tgz = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'));
      if (!tgz) throw new StackError(`npm pack ${pkg.name}@${pkg.version} wrote no tarball`);
      const got = integrityOf(fs.readFileSync(path.join(tmp, tgz)));
      if (got !== pkg.integrity) throw new StackError(`${pkg.name}@${pkg.version}: integrity ${got} is not the pinned ${pkg.integrity}`);
      const staging = path.join(tmp, 'unpacked');
      fs.mkdirSync(staging);
      runToCompletion(tar, ['-xzf', path.join(tmp, tgz), '-C', staging]);
      if (!fs.existsSync(path.join(staging, 'package', 'package.json'))) throw new StackError(`${tgz} has no package/package.json`);
      writePackageIndex(path.join(staging, 'package'));
      fs.mkdirSync(cacheDir, { recursive: true });
      fs.rmSync(dir, { recursive: true, force: true });
      fs.renameSync(staging, dir);
      return dir;
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
}
