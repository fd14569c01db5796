// ai-training workload for the Assay held-out traces, in an AI framework that maps NO native ML
// library: TensorFlow.js (@tensorflow/tfjs, pure JavaScript "cpu" backend — no tfjs-node, no
// libtensorflow, no WebAssembly) training a small convolutional network on generated
// MNIST-shaped data, epoch after epoch, with a checkpoint (model.json + weights.bin) written to
// disk after every epoch and a validation pass. Stops itself after --seconds.
//
// How it mirrors the real thing: a training loop (forward, backward, Adam update per batch of
// 64), a steady working set (the dataset tensors and the model), periodic checkpoint writes
// and per-epoch evaluation, in a `node` process — as a JavaScript/edge ML team trains models.
// The data are synthetic (class-dependent strokes plus noise) so nothing is downloaded.
// Sources: https://js.tensorflow.org/api/latest/ (tf.sequential, model.fit, tf.io.withSaveHandler)
// Install: npm install --prefix bench/workloads/tfjs (its own package.json; not the root one).
//
// Usage: node tfjs-train.mjs [--seconds 300] [--ckpt-dir DIR] [--samples 600]
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, 'tfjs', 'package.json'));
const tf = require('@tensorflow/tfjs');

const arg = (n, d) => { const i = process.argv.indexOf(`--${n}`); return i > 0 ? process.argv[i + 1] : d; };
const SECONDS = Number(arg('seconds', 300));
const CKPT = arg('ckpt-dir', '/tmp/tfjs-ckpt');
const N = Number(arg('samples', 600));
const t0 = Date.now();
const log = (m) => console.log(`[train ${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`);

await tf.setBackend('cpu');
log(`tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}`);

// Synthetic 28x28 images: class c draws a bar at an angle c*18 degrees through the centre, plus noise.
function makeData(n, seed) {
  let s = seed >>> 0;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296);
  const xs = new Float32Array(n * 28 * 28);
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rnd() * 10);
    ys[i] = c;
    const a = (c * Math.PI) / 10 + (rnd() - 0.5) * 0.2;
    const ox = (rnd() - 0.5) * 6, oy = (rnd() - 0.5) * 6;
    for (let t = -12; t <= 12; t += 0.5) {
      const x = Math.round(14 + ox + t * Math.cos(a)), y = Math.round(14 + oy + t * Math.sin(a));
      if (x >= 0 && x < 28 && y >= 0 && y < 28) xs[i * 784 + y * 28 + x] = 1;
    }
    for (let p = 0; p < 784; p++) xs[i * 784 + p] += rnd() * 0.3;
  }
  return { xs: tf.tensor4d(xs, [n, 28, 28, 1]), ys: tf.oneHot(tf.tensor1d(ys, 'int32'), 10) };
}
const train = makeData(N, 1);
const val = makeData(Math.floor(N / 6), 2);

const model = tf.sequential();
model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu' }));
model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
model.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu' }));
model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
model.add(tf.layers.flatten());
model.add(tf.layers.dense({ units: 64, activation: 'relu' }));
model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
log(`model: ${model.countParams()} parameters, ${N} training samples`);

rmSync(CKPT, { recursive: true, force: true });
mkdirSync(CKPT, { recursive: true });
async function checkpoint(epoch) {
  await model.save(tf.io.withSaveHandler(async (art) => {
    const dir = join(CKPT, `epoch-${String(epoch).padStart(4, '0')}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'weights.bin'), Buffer.from(art.weightData));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ modelTopology: art.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: art.weightSpecs }] }));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  // keep the last 3 checkpoints, as a trainer with a retention policy does
  if (epoch > 3) rmSync(join(CKPT, `epoch-${String(epoch - 3).padStart(4, '0')}`), { recursive: true, force: true });
}

let stop = false;
process.on('SIGTERM', () => { stop = true; model.stopTraining = true; });
process.on('SIGINT', () => { stop = true; model.stopTraining = true; });
const deadline = t0 + SECONDS * 1000;
await model.fit(train.xs, train.ys, {
  epochs: 100000, // bounded by time: see onBatchEnd / onEpochEnd
  batchSize: 64,
  shuffle: true,
  validationData: [val.xs, val.ys],
  callbacks: {
    onBatchEnd: async () => { if (stop || Date.now() > deadline) model.stopTraining = true; },
    onEpochEnd: async (epoch, logs) => {
      const f = (v) => (typeof v === 'number' ? v.toFixed(3) : '-');
      log(`epoch ${epoch + 1}: loss ${f(logs?.loss)} acc ${f(logs?.acc)} val_acc ${f(logs?.val_acc)}`);
      await checkpoint(epoch + 1);
      log(`checkpoint epoch ${epoch + 1} written`);
    },
  },
});
log('done');
rmSync(CKPT, { recursive: true, force: true });
