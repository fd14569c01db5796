// ai-inference workload for the Assay held-out traces, on a different stack than the corpus's
// PyTorch server: ONNX Runtime 1.20 through its Node binding (onnxruntime-node: the native
// libonnxruntime.so, CPU execution provider, 2 intra-op threads) serving an image classifier
// over HTTP on 127.0.0.1, driven by a keep-alive client with bursty Poisson arrivals.
//
//   node onnx-serve.mjs export --out DIR     writes DIR/model.onnx: a small CNN (2 conv + 2 dense,
//                                            3x64x64 input, 10 classes, ~1 M parameters) exported
//                                            by Debian python3-torch's torch.onnx.export (opset 13)
//   node onnx-serve.mjs serve --model F --port P [--seconds N]
//                                            POST /v1/predict {batch, seed} -> top-1 class per image
//   node onnx-serve.mjs client --port P [--seconds N] [--conns 4]
//                                            `--conns` keep-alive connections; arrivals alternate
//                                            busy (~30 req/s) and quiet (~3 req/s) phases of 5-15 s,
//                                            batch 1-16
// How it mirrors the real thing: a model server (load an ONNX graph once, run sessions per
// request, request-driven CPU bursts, many requests over long-lived HTTP connections), as
// ONNX Runtime is deployed behind Node/Express-style services. The weights are untrained
// (random init): inference cost does not depend on their values.
// Sources: https://onnxruntime.ai/docs/get-started/with-javascript/node.html ;
//   https://pytorch.org/docs/1.13/onnx.html
// Install: npm install --ignore-scripts --prefix bench/workloads/onnx (its own package.json; the
// CPU binaries ship in the npm package, --ignore-scripts skips the GPU download).
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import http from 'node:http';

const here = dirname(fileURLToPath(import.meta.url));
const mode = process.argv[2];
const arg = (n, d) => { const i = process.argv.indexOf(`--${n}`); return i > 0 ? process.argv[i + 1] : d; };
const SECONDS = Number(arg('seconds', 300));
const PORT = Number(arg('port', 28480));
const t0 = Date.now();
const log = (m) => console.log(`[${mode} ${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`);
const stopAt = t0 + SECONDS * 1000;

if (mode === 'export') {
  const out = join(arg('out', '/tmp'), 'model.onnx');
  execFileSync('/usr/bin/python3', ['-c', `
import torch, torch.nn as nn
torch.manual_seed(0)
m = nn.Sequential(nn.Conv2d(3,16,3,padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16,32,3,padding=1), nn.ReLU(),
                  nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32*16*16,128), nn.ReLU(), nn.Linear(128,10)).eval()
torch.onnx.export(m, torch.randn(1,3,64,64), ${JSON.stringify(out)}, input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input":{0:"batch"},"logits":{0:"batch"}}, opset_version=13)
`], { stdio: 'inherit' });
  log(`exported ${out}`);
} else if (mode === 'serve') {
  const require = createRequire(join(here, 'onnx', 'package.json'));
  const ort = require('onnxruntime-node');
  const session = await ort.InferenceSession.create(arg('model', '/tmp/model.onnx'), { intraOpNumThreads: 2, executionProviders: ['cpu'] });
  let served = 0;
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/predict') { res.writeHead(404).end(); return; }
    let body = '';
    req.on('data', (d) => { body += d; if (body.length > 4096) req.destroy(); });
    req.on('end', async () => {
      try {
        const { batch = 1, seed = 1 } = JSON.parse(body || '{}');
        const n = Math.min(32, Math.max(1, batch | 0));
        const data = new Float32Array(n * 3 * 64 * 64);
        let s = seed >>> 0;
        for (let i = 0; i < data.length; i++) { s = (s * 1664525 + 1013904223) >>> 0; data[i] = s / 4294967296 - 0.5; }
        const out = await session.run({ input: new ort.Tensor('float32', data, [n, 3, 64, 64]) });
        const logits = out.logits.data;
        const top = [];
        for (let b = 0; b < n; b++) {
          let best = 0;
          for (let c = 1; c < 10; c++) if (logits[b * 10 + c] > logits[b * 10 + best]) best = c;
          top.push(best);
        }
        served++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ top }));
      } catch (e) {
        res.writeHead(400).end(String(e.message));
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(PORT, '127.0.0.1', () => log(`serving on 127.0.0.1:${PORT} (onnxruntime ${ort.env.versions?.common ?? ''})`));
  const stat = setInterval(() => log(`requests served: ${served}`), 20_000);
  const stop = () => { clearInterval(stat); server.close(); server.closeAllConnections?.(); process.exit(0); };
  setTimeout(stop, SECONDS * 1000);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else if (mode === 'client') {
  const CONNS = Number(arg('conns', 4));
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNS });
  let s = 12345;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296);
  let busy = true, phaseEnd = Date.now() + 8000, sent = 0, failed = 0, inflight = 0;
  const post = () => new Promise((resolve) => {
    inflight++;
    const body = JSON.stringify({ batch: 1 + Math.floor(rnd() * 16), seed: Math.floor(rnd() * 1e9) });
    const req = http.request({ host: '127.0.0.1', port: PORT, path: '/v1/predict', method: 'POST', agent, headers: { 'content-type': 'application/json' }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => { inflight--; sent++; resolve(); });
    });
    req.on('error', () => { inflight--; failed++; resolve(); });
    req.on('timeout', () => req.destroy());
    req.end(body);
  });
  let stopping = false;
  process.on('SIGTERM', () => { stopping = true; });
  process.on('SIGINT', () => { stopping = true; });
  const stat = setInterval(() => log(`sent ${sent}, failed ${failed}, ${busy ? 'busy' : 'quiet'}`), 20_000);
  while (!stopping && Date.now() < stopAt) {
    if (Date.now() > phaseEnd) { busy = !busy; phaseEnd = Date.now() + 5000 + rnd() * 10_000; }
    const rate = busy ? 30 : 3; // requests per second, Poisson
    await new Promise((r) => setTimeout(r, -Math.log(1 - rnd()) * 1000 / rate));
    if (inflight < CONNS * 4) post(); // bounded outstanding requests
  }
  clearInterval(stat);
  agent.destroy();
  log(`done: sent ${sent}, failed ${failed}`);
  process.exit(0);
} else {
  console.error('usage: onnx-serve.mjs export|serve|client [options]');
  process.exit(2);
}
