/**
 * Attachment urls are read with the configured FHIR auth, OAuth2 client credentials included: a
 * token endpoint and a FHIR Binary endpoint served on loopback, read through the pipeline's real
 * intake stage (createStages). Before the FHIR client read attachments, only a static bearer
 * token was sent, so with OAuth2 the attachment answered 401 and the document was lost to
 * BINARY_FETCH_FAILED.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { createStages } from '../../src/pipeline/stages.ts';

const NOTE = 'Patient reports chest pain since yesterday.';

interface Seen {
  tokenRequests: number;
  binaryAuth: (string | undefined)[];
  foreignAuth: (string | undefined)[];
}

async function serve(): Promise<{ base: string; foreign: string; seen: Seen; close: () => Promise<void> }> {
  const seen: Seen = { tokenRequests: 0, binaryAuth: [], foreignAuth: [] };
  let issued = 0;
  const fhir = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/oauth/token') {
      seen.tokenRequests++;
      const basic = `Basic ${Buffer.from('medner-client:s3cret').toString('base64')}`;
      if (req.headers.authorization !== basic) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
        return;
      }
      issued++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `tok-${issued}`, token_type: 'Bearer', expires_in: 3600 }));
      return;
    }
    if (req.method === 'GET' && req.url === '/fhir/Binary/note-1') {
      seen.binaryAuth.push(req.headers.authorization);
      if (req.headers.authorization !== `Bearer tok-${issued}` || issued === 0) {
        res.writeHead(401, { 'content-type': 'application/fhir+json' }).end('{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"login"}]}');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(NOTE);
      return;
    }
    res.writeHead(404).end();
  });
  // Another origin: an attachment hosted elsewhere must not receive the FHIR server's credentials.
  const other = http.createServer((req, res) => {
    seen.foreignAuth.push(req.headers.authorization);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(NOTE);
  });
  await new Promise<void>((r) => fhir.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  const port = (fhir.address() as AddressInfo).port;
  const otherPort = (other.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    foreign: `http://127.0.0.1:${otherPort}`,
    seen,
    close: async () => {
      await new Promise((r) => fhir.close(r));
      await new Promise((r) => other.close(r));
    },
  };
}

function documentReference(url: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      resourceType: 'DocumentReference',
      id: 'doc-oauth-1',
      status: 'current',
      subject: { reference: 'Patient/p-1' },
      content: [{ attachment: { contentType: 'text/plain', url } }],
    }),
  );
}

test('attachment urls are read with OAuth2 client credentials, and no credentials go to another origin', { timeout: 30_000 }, async () => {
  const srv = await serve();
  try {
    const config = loadConfig({
      FHIR_BASE_URL: `${srv.base}/fhir`,
      FHIR_OAUTH_TOKEN_URL: `${srv.base}/oauth/token`,
      FHIR_OAUTH_CLIENT_ID: 'medner-client',
      FHIR_OAUTH_CLIENT_SECRET: 's3cret',
      FHIR_WRITE: 'false',
    });
    const stages = await createStages(config, createLogger('silent'));
    try {
      const source = { kind: 'file' as const, path: 'doc.json', index: 0 };
      const [doc] = await stages.parse(documentReference('Binary/note-1'), source, 'fhir');
      assert.equal(doc?.text, NOTE);
      assert.equal(srv.seen.tokenRequests, 1);
      assert.deepEqual(srv.seen.binaryAuth, ['Bearer tok-1']);

      const [again] = await stages.parse(documentReference(`${srv.base}/fhir/Binary/note-1`), source, 'fhir');
      assert.equal(again?.text, NOTE);
      assert.equal(srv.seen.tokenRequests, 1, 'the token is cached');

      const [foreign] = await stages.parse(documentReference(`${srv.foreign}/notes/1.txt`), source, 'fhir');
      assert.equal(foreign?.text, NOTE);
      assert.deepEqual(srv.seen.foreignAuth, [undefined]);
    } finally {
      await stages.close();
    }
  } finally {
    await srv.close();
  }
});
