// Worker thread owning one long-lived onnxruntime-node session: session.run blocks the
// thread it runs on, so it never runs on the main thread. Messages in: init, run, close;
// the message shapes are typed in ort-protocol.ts. Plain JavaScript on purpose: Node 20
// worker threads do not get the tsx loader, so this file must load without it.
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

/** Whether onnxruntime-node's folder holds the CUDA provider library (it is not bundled on npm). */
function cudaProviderPresent() {
  try {
    const root = path.join(path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json')), 'bin');
    return fs.readdirSync(root, { recursive: true }).some((f) => String(f).endsWith('libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

/**
 * A programming error (a broken protocol with src/nlp/session-pool.ts, which wraps whatever is posted
 * back as INFERENCE_FAILED). This thread loads no TypeScript, so it cannot use src/core/errors.ts's
 * assert; the error carries the same code, INTERNAL.
 */
function internalError(message) {
  return Object.assign(new Error(message), { code: 'INTERNAL' });
}

if (parentPort === null) throw internalError('ort-worker.mjs must run as a worker thread');
const port = parentPort;

/** @type {import('onnxruntime-node').InferenceSession | undefined} */
let session;
let inputKind = 'int64';
let hasTokenTypes = false;
let outputName = 'logits';

const PROVIDER_NAMES = { cuda: 'CUDA', webgpu: 'WebGPU' };

/**
 * The ORT entry for a GPU provider. WebGPU's deviceId names an ORT WebGPU context, not an
 * adapter, so WebGPU always runs on the default adapter (Dawn: Vulkan on Linux).
 */
function gpuProvider(provider, gpuId) {
  return provider === 'cuda' ? { name: 'cuda', deviceId: gpuId } : { name: 'webgpu' };
}

/** First line of an ORT error without its source-file prefix, short enough for one log line. */
function shortError(err) {
  const first = String(err instanceof Error ? err.message : err).split('\n')[0].replace(/\u001b\[[0-9;]*m/g, '');
  const i = first.indexOf(' was false. ');
  return (i >= 0 ? first.slice(i + ' was false. '.length) : first).slice(0, 200);
}

function sessionOptions(threads, providers) {
  return {
    executionProviders: providers,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // No busy-waiting threads: several sessions and the event loop share the cores.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

function signature(s) {
  const meta = (list) =>
    (list ?? []).map((m) => ({
      name: m.name,
      type: m.isTensor ? String(m.type) : 'non-tensor',
      shape: m.isTensor ? m.shape.map((d) => (typeof d === 'number' ? d : String(d))) : [],
    }));
  return { inputNames: [...s.inputNames], outputNames: [...s.outputNames], inputs: meta(s.inputMetadata), outputs: meta(s.outputMetadata) };
}

/** ids: Int32Array [batch*seq] padded; lengths: real tokens per row. */
function feeds(ids, batch, seq, lengths) {
  const n = batch * seq;
  const mask = new Int32Array(n);
  for (let r = 0; r < batch; r++) mask.fill(1, r * seq, r * seq + lengths[r]);
  const tensor = (src) => {
    if (inputKind === 'int32') return new ort.Tensor('int32', src, [batch, seq]);
    const a = new BigInt64Array(n);
    for (let i = 0; i < n; i++) a[i] = BigInt(src[i]);
    return new ort.Tensor('int64', a, [batch, seq]);
  };
  const f = { input_ids: tensor(ids), attention_mask: tensor(mask) };
  if (hasTokenTypes) f.token_type_ids = tensor(new Int32Array(n));
  return f;
}

async function handle(msg) {
  switch (msg.kind) {
    case 'init': {
      let warning;
      let provider = msg.provider;
      if (provider === 'cuda' && !cudaProviderPresent()) {
        warning = 'CUDA execution provider libraries not found next to onnxruntime-node (libonnxruntime_providers_cuda.so); falling back to CPU';
        provider = 'cpu';
      }
      if (provider !== 'cpu') {
        try {
          // ORT would also print its own error when the provider cannot start; we warn once instead.
          ort.env.logLevel = 'fatal';
          session = await ort.InferenceSession.create(msg.modelPath, { ...sessionOptions(msg.intraOpThreads, [gpuProvider(provider, msg.gpuId)]), logSeverityLevel: 4 });
        } catch (err) {
          warning = `${PROVIDER_NAMES[provider]} execution provider unavailable (${shortError(err)}); falling back to CPU`;
          provider = 'cpu';
        } finally {
          ort.env.logLevel = 'warning';
        }
      }
      if (session === undefined) session = await ort.InferenceSession.create(msg.modelPath, sessionOptions(msg.intraOpThreads, ['cpu']));
      const sig = signature(session);
      const idsMeta = sig.inputs.find((m) => m.name === 'input_ids');
      inputKind = idsMeta?.type === 'int32' ? 'int32' : 'int64';
      hasTokenTypes = sig.inputNames.includes('token_type_ids');
      outputName = sig.outputNames.includes('logits') ? 'logits' : (sig.outputNames[0] ?? 'logits');
      let probeDims = [];
      let probeError;
      if (sig.inputNames.includes('input_ids') && sig.inputNames.includes('attention_mask')) {
        try {
          const len = msg.probeIds.length;
          const out = await session.run(feeds(Int32Array.from(msg.probeIds), 1, len, Int32Array.of(len)));
          probeDims = [...out[outputName].dims];
        } catch (err) {
          probeError = String(err instanceof Error ? err.message : err).split('\n')[0];
        }
      }
      return { kind: 'ready', id: msg.id, provider, warning, signature: sig, probeDims, probeError };
    }
    case 'run': {
      if (session === undefined) throw internalError('session not initialised');
      const out = await session.run(feeds(msg.ids, msg.batch, msg.seq, msg.lengths));
      const t = out[outputName];
      // Copy out of ORT-owned memory so the buffer can be transferred.
      const logits = new Float32Array(t.data.length);
      logits.set(t.data);
      for (const v of Object.values(out)) v.dispose?.();
      return { kind: 'result', id: msg.id, logits, dims: [...t.dims] };
    }
    case 'close': {
      await session?.release();
      session = undefined;
      return { kind: 'closed', id: msg.id };
    }
    default:
      throw internalError(`unknown message ${msg.kind}`);
  }
}

port.on('message', (msg) => {
  handle(msg).then(
    (reply) => port.postMessage(reply, reply.kind === 'result' ? [reply.logits.buffer] : []),
    (err) => port.postMessage({ kind: 'error', id: msg.id ?? -1, message: err instanceof Error ? err.message : String(err) }),
  );
});
