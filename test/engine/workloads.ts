// Realistic process specs for each workload class, shaped after what the agent sees on Linux:
// comm names, mapped libraries, environment names, sockets and per-second rates.
import { noise, rng, spikes, type Conn, type ProcSpec } from './build-window.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** Libraries xmrig maps (it links most things statically): no Python, no ML framework. */
const XMRIG_LIBS = ['libc.so.6', 'libpthread.so.0', 'libdl.so.2', 'librt.so.1', 'libm.so.6', 'libhwloc.so.15', 'libuv.so.1', 'libssl.so.3', 'libcrypto.so.3'];

export function xmrig(opts: { pid?: number; name?: string; cpu?: number; cmdline?: string; pool?: Conn; seed?: number } = {}): ProcSpec {
  const n = noise(opts.seed ?? 11, 1.5);
  const level = opts.cpu ?? 198;
  const pool = opts.pool ?? { remote: '141.94.96.144', remotePort: 443 };
  const name = opts.name ?? 'xmrig';
  return {
    pid: opts.pid ?? 4242,
    name,
    cpu: (i) => level + n(i) * (level / 200),
    rssBytes: 2300 * MiB,
    threads: 3,
    rcharBps: () => 300,
    wcharBps: () => 200,
    conns: () => [pool],
    signature: {
      cmdline: opts.cmdline ?? './xmrig -o pool.supportxmr.com:443 -u 44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A -k --tls --donate-level=1',
      exe: `/tmp/.cache/${name}`,
      libs: XMRIG_LIBS,
      envNames: ['PATH', 'HOME', 'LANG', 'TERM'],
    },
  };
}

/** PyTorch training on CPU: libtorch_cpu/libc10/libgomp mapped, RANK env, step-periodic CPU. */
export function torchTrainingCpu(opts: { pid?: number; cores?: number; seed?: number } = {}): ProcSpec {
  const n = noise(opts.seed ?? 21, 6);
  const busy = (opts.cores ?? 2) * 95;
  // 5-second steps: 4 s of forward/backward, 1 s of data loading and optimizer bookkeeping.
  const step = spikes(5, 4, busy * 0.35, busy);
  // Checkpoint every 30 s: a 250 MiB/s write burst; otherwise a trickle of logs.
  const ckpt = spikes(30, 2, 0.3 * MiB, 250 * MiB, 3);
  return {
    pid: opts.pid ?? 3100,
    name: 'python3',
    cpu: (i) => step(i) + n(i),
    rssBytes: 3 * GiB,
    threads: 12,
    readBps: () => 4 * MiB,
    writeBps: ckpt,
    listen: [29500],
    // TCPStore: rank 0 connects to its own MASTER_PORT over loopback.
    conns: () => [
      { remote: '127.0.0.1', remotePort: 29500, local: '127.0.0.1', localPort: 51000 },
      { remote: '127.0.0.1', remotePort: 51000, local: '127.0.0.1', localPort: 29500 },
    ],
    signature: {
      cmdline: 'python3 train.py --epochs 10 --lr 3e-4 --batch-size 64',
      exe: '/usr/bin/python3.11',
      libs: ['libc.so.6', 'libpython3.11.so.1.0', 'libtorch_cpu.so', 'libc10.so', 'libtorch_python.so', 'libtorch.so', 'libgomp-a34b3233.so.1', 'libshm.so', 'libstdc++.so.6'],
      envNames: ['PATH', 'HOME', 'RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT', 'OMP_NUM_THREADS'],
    },
  };
}

/** vLLM OpenAI server on one H100: request-driven bursts, clients on :8000. */
export function vllmServer(opts: { pid?: number; seed?: number } = {}): { proc: ProcSpec; gpuUtil: (i: number) => number } {
  const n = noise(opts.seed ?? 31, 1);
  // Requests arrive at random in clumps (an on/off Markov chain): busy about a third of the time.
  const r = rng(opts.seed ?? 31);
  const on: boolean[] = [];
  const burst = (i: number): boolean => {
    while (on.length <= i) on.push(on.length > 0 && on[on.length - 1] ? r() < 0.6 : r() < 0.2);
    return on[i] ?? false;
  };
  const clients = (i: number): Conn[] => (burst(i) ? [{ remote: '10.0.3.21', remotePort: 52000 + (i % 50), localPort: 8000 }, { remote: '10.0.3.22', remotePort: 53000 + (i % 40), localPort: 8000 }] : []);
  return {
    gpuUtil: (i) => (burst(i) ? 85 + 5 * n(i) : 0),
    proc: {
      pid: opts.pid ?? 5200,
      name: 'python3',
      cpu: (i) => (burst(i) ? 70 + 10 * n(i) : 3 + n(i)),
      rssBytes: 12 * GiB,
      threads: 64,
      listen: [8000],
      conns: clients,
      gpu: { uuid: 'GPU-7f3c2a10-0000-0000-0000-000000000001', memBytes: 72 * GiB },
      signature: {
        cmdline: 'python3 -m vllm.entrypoints.openai.api_server --model meta-llama/Llama-3.1-8B-Instruct --port 8000 --gpu-memory-utilization 0.9',
        exe: '/usr/bin/python3.11',
        libs: ['libc.so.6', 'libpython3.11.so.1.0', 'libtorch_cpu.so', 'libtorch_cuda.so', 'libc10.so', 'libc10_cuda.so', 'libcudnn.so.9', 'libcublas.so.12', 'libcublasLt.so.12', 'libnccl.so.2', 'libcuda.so.1', 'libnvidia-ml.so.1'],
        envNames: ['PATH', 'HOME', 'CUDA_VISIBLE_DEVICES', 'HF_HOME', 'VLLM_WORKER_MULTIPROC_METHOD'],
      },
    },
  };
}

function peers(count: number, port: number, seed: number, base = '185.'): Conn[] {
  return Array.from({ length: count }, (_, k) => ({ remote: `${base}${(seed * 7 + k * 13) % 250}.${(k * 31) % 250}.${(k * 17 + 3) % 250}`, remotePort: port }));
}

/** geth execution client: 12 s slot-driven CPU bursts, dozens of P2P peers on :30303. */
export function geth(opts: { pid?: number } = {}): ProcSpec {
  const n = noise(41, 4);
  const slot = spikes(12, 2, 18, 140);
  const out = peers(20, 30303, 1);
  const inbound = peers(8, 41000, 2, '91.').map((c) => ({ ...c, localPort: 30303 }));
  return {
    pid: opts.pid ?? 2100,
    name: 'geth',
    cpu: (i) => slot(i) + n(i),
    rssBytes: 14 * GiB,
    threads: 40,
    readBps: (i) => (slot(i) > 50 ? 40 * MiB : 6 * MiB),
    writeBps: (i) => (slot(i) > 50 ? 25 * MiB : 3 * MiB),
    listen: [30303, 8545, 8551],
    udp: [30303],
    conns: () => [...out, ...inbound],
    signature: {
      cmdline: 'geth --mainnet --datadir /data/geth --http --authrpc.jwtsecret /secrets/jwt.hex --syncmode snap',
      exe: '/usr/local/bin/geth',
      libs: ['libc.so.6', 'libpthread.so.0', 'libdl.so.2', 'libm.so.6'],
      envNames: ['PATH', 'HOME'],
    },
  };
}

/** Lodestar consensus client: runs as `node`, recognised by its command line. */
export function lodestar(opts: { pid?: number } = {}): ProcSpec {
  const n = noise(43, 3);
  const slot = spikes(12, 2, 12, 90, 1);
  return {
    pid: opts.pid ?? 2200,
    name: 'node',
    cpu: (i) => slot(i) + n(i),
    rssBytes: 6 * GiB,
    threads: 14,
    readBps: () => 2 * MiB,
    writeBps: () => 3 * MiB,
    listen: [9000, 9596],
    udp: [9000],
    conns: () => [...peers(30, 9000, 3, '65.'), { remote: '127.0.0.1', remotePort: 8551 }],
    signature: {
      cmdline: 'node /usr/app/node_modules/.bin/lodestar beacon --network mainnet --dataDir /data/lodestar --execution.urls http://127.0.0.1:8551 --jwt-secret /secrets/jwt.hex',
      exe: '/usr/local/bin/node',
      libs: ['libc.so.6', 'libstdc++.so.6', 'libnode.so.115', 'classic-level.node', 'bls-eth.node'],
      envNames: ['PATH', 'HOME', 'NODE_OPTIONS'],
    },
  };
}

/** Filecoin lotus-worker sealing (PC1): SHA-256-heavy flat CPU, big sequential writes, periodic challenge reads. */
export function lotusWorker(opts: { pid?: number; identity?: boolean } = {}): ProcSpec {
  const n = noise(51, 2);
  const identity = opts.identity ?? true;
  return {
    pid: opts.pid ?? 6100,
    name: identity ? 'lotus-worker' : 'worker',
    cpu: (i) => 192 + n(i),
    rssBytes: 64 * GiB,
    threads: 34,
    writeBps: (i) => 180 * MiB + n(i) * MiB,
    readBps: spikes(10, 2, 2 * MiB, 90 * MiB),
    listen: [3456],
    conns: () => [{ remote: '10.0.0.2', remotePort: 2345 }, { remote: '10.0.0.2', remotePort: 39211, localPort: 3456 }],
    signature: {
      cmdline: identity ? 'lotus-worker run --listen 0.0.0.0:3456 --precommit1 --precommit2=false' : '/opt/w/worker',
      exe: identity ? '/usr/local/bin/lotus-worker' : '/opt/w/worker',
      libs: ['libc.so.6', 'libgcc_s.so.1', 'libm.so.6', 'libOpenCL.so.1', 'libhwloc.so.15'],
      envNames: identity
        ? ['PATH', 'HOME', 'LOTUS_WORKER_PATH', 'FIL_PROOFS_PARAMETER_CACHE', 'FIL_PROOFS_PARENT_CACHE', 'FIL_PROOFS_USE_MULTICORE_SDR']
        : ['PATH', 'HOME'],
    },
  };
}

/** `make -j2` of a C project: many short-lived cc1 processes reading headers, writing objects. */
export function gccBuild(samples: number): ProcSpec[] {
  const n = noise(61, 8);
  const procs: ProcSpec[] = [
    { pid: 7000, name: 'make', cpu: (i) => 2 + n(i) * 0.2, signature: { cmdline: 'make -j2', exe: '/usr/bin/make', libs: ['libc.so.6'] } },
  ];
  let pid = 7001;
  for (let start = 0; start < samples; start += 3) {
    for (let lane = 0; lane < 2; lane++) {
      const len = 2 + ((start + lane) % 3);
      procs.push({
        pid: pid++,
        name: 'cc1',
        from: start + lane,
        to: Math.min(samples, start + lane + len),
        cpu: (i) => 85 + n(i + lane),
        rcharBps: () => 30 * MiB,
        writeBps: () => 2 * MiB,
        signature: { cmdline: `/usr/lib/gcc/x86_64-linux-gnu/12/cc1 -quiet src/file${pid}.c -O2 -o /tmp/cc${pid}.s`, exe: '/usr/lib/gcc/x86_64-linux-gnu/12/cc1', libs: ['libc.so.6', 'libzstd.so.1', 'libgmp.so.10', 'libmpfr.so.6'] },
      });
    }
  }
  return procs;
}

export function ffmpeg(): ProcSpec {
  const n = noise(71, 9);
  return {
    pid: 7500,
    name: 'ffmpeg',
    cpu: (i) => 182 + n(i),
    rssBytes: 900 * MiB,
    threads: 18,
    readBps: () => 3 * MiB,
    writeBps: () => 1.5 * MiB,
    signature: {
      cmdline: 'ffmpeg -i input.mkv -c:v libx264 -preset slow -crf 20 -c:a copy output.mp4',
      exe: '/usr/bin/ffmpeg',
      libs: ['libc.so.6', 'libavcodec.so.60', 'libavformat.so.60', 'libx264.so.164', 'libswscale.so.7'],
      envNames: ['PATH', 'HOME'],
    },
  };
}

/** stress-ng --cpu 2: two workers pegged flat at 100%, no network, no I/O, no huge pages. */
export function stressNg(opts: { renamed?: boolean } = {}): ProcSpec[] {
  const n = noise(81, 0.5);
  const sig = { cmdline: 'stress-ng --cpu 2 --timeout 120s', exe: '/usr/bin/stress-ng', libs: ['libc.so.6', 'libm.so.6', 'libz.so.1', 'libcrypt.so.1'], envNames: ['PATH', 'HOME'] };
  const renamedSig = { cmdline: '/opt/bin/python3', exe: '/opt/bin/python3', libs: sig.libs, envNames: sig.envNames };
  const worker = opts.renamed ? 'python3' : 'stress-ng-cpu';
  return [
    { pid: 8000, name: opts.renamed ? 'python3' : 'stress-ng', cpu: () => 0, signature: opts.renamed ? renamedSig : sig },
    { pid: 8001, name: worker, cpu: (i) => 99.5 + n(i), signature: opts.renamed ? renamedSig : sig },
    { pid: 8002, name: worker, cpu: (i) => 99.5 + n(i + 3), signature: opts.renamed ? renamedSig : sig },
  ];
}

export const GPU_UUID = 'GPU-5d1e8a7c-0000-0000-0000-000000000002';

/** A GPU miner (lolMiner-like): GPU pinned flat, little PCIe traffic, CPU nearly idle, one pool. */
export function gpuMiner(opts: { name?: string } = {}): { proc: ProcSpec; gpu: { util: (i: number) => number; pcieRxBps: (i: number) => number; memUtil: (i: number) => number } } {
  const n = noise(91, 0.6);
  const name = opts.name ?? 'lolMiner';
  return {
    gpu: { util: (i) => 99.3 + n(i), pcieRxBps: () => 150 * 1024, memUtil: (i) => 92 + n(i) },
    proc: {
      pid: 9100,
      name,
      cpu: (i) => 4 + n(i),
      rssBytes: 700 * MiB,
      threads: 12,
      rcharBps: () => 500,
      conns: () => [{ remote: '162.19.139.184', remotePort: 10300 }],
      gpu: { uuid: GPU_UUID, memBytes: 5 * GiB },
      signature: {
        cmdline: opts.name ? `/opt/${name}` : '/opt/lolMiner --algo ETCHASH --pool etc.2miners.com:1010 --user 0xabc',
        exe: `/opt/${name}`,
        libs: ['libc.so.6', 'libpthread.so.0', 'libdl.so.2', 'libcuda.so.1', 'libnvrtc.so.12', 'libnvidia-ml.so.1'],
        envNames: ['PATH', 'HOME', 'CUDA_VISIBLE_DEVICES'],
      },
    },
  };
}

/** PyTorch training on one GPU: 3 s steps (eval/logging dip), dataloader PCIe traffic, checkpoints. */
export function torchTrainingGpu(): { proc: ProcSpec; gpu: { util: (i: number) => number; pcieRxBps: (i: number) => number } } {
  const n = noise(93, 3);
  const step = spikes(6, 5, 35, 96);
  return {
    gpu: { util: (i) => Math.min(100, step(i) + n(i)), pcieRxBps: () => 900 * MiB },
    proc: {
      pid: 9300,
      name: 'python',
      cpu: (i) => 110 + 10 * n(i),
      rssBytes: 24 * GiB,
      threads: 40,
      readBps: () => 60 * MiB,
      writeBps: spikes(40, 3, 0.2 * MiB, 400 * MiB, 5),
      gpu: { uuid: GPU_UUID, memBytes: 74 * GiB },
      signature: {
        cmdline: '/opt/conda/bin/python -m torch.distributed.run --nproc_per_node=1 pretrain.py --config configs/llama-1b.yaml',
        exe: '/opt/conda/bin/python3.11',
        libs: ['libc.so.6', 'libtorch_cpu.so', 'libtorch_cuda.so', 'libc10.so', 'libc10_cuda.so', 'libcudnn.so.9', 'libnccl.so.2', 'libcublas.so.12', 'libcuda.so.1'],
        envNames: ['PATH', 'RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT', 'TORCHELASTIC_RUN_ID', 'NCCL_DEBUG', 'CUDA_VISIBLE_DEVICES'],
      },
    },
  };
}
