import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureFhirPackages, FHIR_VALIDATION_PACKAGES, integrityOf, packageDir, writePackageIndex } from '../../src/stack/fhir-packages.ts';

test('the validation packages are pinned: HL7 Terminology 7.0.1 and the extensions pack as npm has it (5.3.0-ballot-tc1)', () => {
  assert.deepEqual(FHIR_VALIDATION_PACKAGES.map((p) => `${p.name}@${p.version}`), ['hl7.terminology.r4@7.0.1', 'hl7.fhir.uv.extensions.r4@5.3.0-ballot-tc1']);
  for (const p of FHIR_VALIDATION_PACKAGES) assert.match(p.integrity, /^sha512-[A-Za-z0-9+/]{86}==$/);
  // npm's integrity format: sha512 of the bytes, base64
  assert.equal(integrityOf(Buffer.from('abc')), 'sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==');
});

test('a package already unpacked is used as it is (no registry), and gets an .index.json of its resources', () => {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'medner-fhir-packages-'));
  try {
    const pkg = { name: 'example.fhir.pkg', version: '1.0.0', integrity: 'sha512-unused' };
    const folder = path.join(packageDir(cache, pkg), 'package');
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, 'package.json'), JSON.stringify({ name: pkg.name, version: pkg.version }));
    fs.writeFileSync(path.join(folder, 'CodeSystem-x.json'), JSON.stringify({ resourceType: 'CodeSystem', id: 'x', url: 'http://example.org/CodeSystem/x', version: '2' }));
    fs.writeFileSync(path.join(folder, 'notes.json'), '{"no": "resourceType"}');
    assert.deepEqual(ensureFhirPackages(cache, [pkg]), [packageDir(cache, pkg)]);
    const index = JSON.parse(fs.readFileSync(path.join(folder, '.index.json'), 'utf8')) as { files: unknown[] };
    assert.deepEqual(index.files, [{ filename: 'CodeSystem-x.json', resourceType: 'CodeSystem', id: 'x', url: 'http://example.org/CodeSystem/x', version: '2' }]);
    assert.equal(writePackageIndex(folder), -1, 'an existing index is kept');
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});
