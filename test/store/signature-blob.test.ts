// Signature blobs kept deflated when that is smaller (signature-blob.ts): every read gives back
// exactly the canonical bytes the digest covers, and rows stored as they are still read.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeSignatureBlob, encodeSignatureBlob } from '../../collector/store/signature-blob.js';
import { assay } from '../../proto/codec.js';
import { fullSample } from '../helpers/messages.js';

const signature = (cmd: string): Buffer =>
  Buffer.from(assay.v1.ProcessSignature.encode({ ...fullSample(1).processes![0]!.signature!, cmdline: cmd, envNames: ['PATH', 'HOME', 'LANG', 'CUDA_VISIBLE_DEVICES', 'PYTHONPATH'], libs: ['/usr/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/x86_64-linux-gnu/libm.so.6', '/usr/lib/x86_64-linux-gnu/libstdc++.so.6'] }).finish());

test('a signature is stored deflated when smaller, as it is otherwise, and always reads back exactly', () => {
  const big = signature('python3 -m torch.distributed.run --nproc_per_node 8 train.py --config /etc/train/config.yaml');
  const stored = encodeSignatureBlob(big);
  assert.equal(stored[0], 0);
  assert.ok(stored.length < big.length, `${stored.length} B stored for ${big.length} B`);
  assert.deepEqual(decodeSignatureBlob(stored), big);
  const tiny = Buffer.from(assay.v1.ProcessSignature.encode({ cmdline: 'sh' }).finish());
  assert.notEqual(tiny[0], 0, 'no encoded signature starts with 0');
  assert.deepEqual(encodeSignatureBlob(tiny), tiny);
  assert.deepEqual(decodeSignatureBlob(tiny), tiny);
  assert.deepEqual(decodeSignatureBlob(big), big, 'a row stored as it is reads unchanged');
  assert.throws(() => decodeSignatureBlob(Buffer.concat([stored.subarray(0, 8), Buffer.alloc(4, 0xff)])));
});
