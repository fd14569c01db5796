// Synthetic GPU traces: GPU behaviour cannot be recorded on this machine (no GPU), so these
// traces are BUILT from the nvidia-smi fields the agent reads (utilization.gpu, utilization.memory,
// memory.used/total, power.draw/limit, clocks.sm/mem, PCIe TX/RX) and per-process GPU memory,
// with shapes taken from public descriptions. They are marked provenance "synthetic" and scored
// apart from the real traces. Deterministic: a seeded PRNG, fixed start time.
//
// Sources for the shapes (no number here was measured by Assay):
// - Field meanings: NVIDIA nvidia-smi manual (--query-gpu fields utilization.gpu, power.draw,
//   clocks.sm, pcie.link) and DCGM field list (knowledge/dcgm_fields.tsv: PoW engine ~100% flat,
//   PCIe ~0 after the DAG upload; training step-periodic with PCIe RX from the data loader).
// - Training: PyTorch DDP design notes (pytorch.org/docs/stable/notes/ddp.html: gradients are
//   all-reduced in buckets at the end of backward, a per-iteration sync point -> a dip every step);
//   knowledge/ai_training_signatures.txt (step-periodic sawtooth 0.1-10 s, power oscillating with
//   steps, periodic checkpoint write bursts, libcudnn/libnccl/libtorch_cuda, RANK/WORLD_SIZE/NCCL_*);
//   Jeon et al., "Analysis of Large-Scale Multi-Tenant GPU Clusters for DNN Training Workloads",
//   USENIX ATC 2019 (per-iteration utilisation pattern, idle gaps at checkpoints/data stalls).
// - Inference: vLLM docs (engine arg gpu_memory_utilization, default 0.9: the KV cache pre-allocates
//   90% of VRAM, so memory is flat while utilisation follows requests); Patel et al., "Splitwise",
//   ISCA 2024 (prefill bursts near peak power, decode lower; idle between requests).
// - GPU mining: Ethash design (ethereum.org/developers/docs/consensus-mechanisms/pow/mining/
//   mining-algorithms/ethash: a multi-GiB DAG read at random, memory-bandwidth bound -> memory
//   utilisation ~100%); t-rex and lolMiner READMEs (power limit options --pl; steady hashrate);
//   knowledge/dcgm_fields.tsv (flat ~100%, PCIe ~0). Power sits at the (often lowered) power limit.
// - Storage proving: Filecoin spec / docs.filecoin.io (WindowPoSt: 48 deadlines of 30 min per 24 h
//   proving period; random challenge reads of sealed sectors, then a short GPU SNARK);
//   lotus-docs post-workers.md (windowPoSt worker ~8.5 GiB VRAM); FIL_PROOFS_* environment
//   (knowledge/storage_proving_signatures.tsv).
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { assay, IProcess, ISample, ISocket } from '../proto/codec.js';
import { TraceWriter, type TraceHeader } from '../proto/trace.js';
import { rng } from '../test/engine/build-window.js'; // seeded: every run writes the same traces

type IGpu = assay.v1.IGpu;
type IGpuProcess = assay.v1.IGpuProcess;

const GiB = 2 ** 30;
const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
const CORES = 32;


interface GpuState {
  util: number;
  memUtil: number;
  memUsed: number;
  power: number;
  pcieRx: number;
  pcieTx: number;
}

interface ProcState {
  pid: number;
  name: string;
  cpu: number;
  rss: number;
  threads: number;
  read?: number;
  write?: number;
  cmdline: string;
  libs: string[];
  env: string[];
  gpu?: { index: number; memBytes: number };
}

interface Frame {
  gpus: GpuState[];
  procs: ProcState[];
  sockets: ISocket[];
  diskRead: number;
  diskWrite: number;
}

export interface Scenario {
  file: string;
  header: Omit<TraceHeader, 'format' | 'version' | 'recordedAtMs' | 'intervalMs' | 'hostname' | 'inventory' | 'provenance'>;
  intervalMs: number;
  samples: number;
  gpuModel: { name: string; memTotal: number; powerLimit: number; idleWatts: number };
  gpuCount: number;
  frame: (i: number, tSec: number, r: () => number) => Frame;
}

const TORCH_LIBS = ['libtorch_cuda.so', 'libc10_cuda.so', 'libcudnn.so.9', 'libnccl.so.2', 'libcublas.so.12', 'libtorch_cpu.so', 'libtorch_python.so', 'libc10.so', 'libcuda.so.1', 'libc.so.6'];
const MINER_LIBS = ['libcuda.so.1', 'libnvidia-ml.so.1', 'libnvrtc.so.12', 'libc.so.6', 'libpthread.so.0'];
const BASE_ENV = ['PATH', 'HOME', 'LANG', 'USER'];

/** One decimal: keeps the trace files small and readable. */
function d1(x: number): number {
  return Math.round(x * 10) / 10;
}

function jitter(r: () => number, amp: number): number {
  return (r() * 2 - 1) * amp;
}

function background(r: () => number): ProcState[] {
  return [
    { pid: 812, name: 'sshd', cpu: Math.max(0, 0.1 + jitter(r, 0.1)), rss: 9e6, threads: 1, cmdline: 'sshd: /usr/sbin/sshd -D', libs: ['libc.so.6'], env: [] },
    { pid: 401, name: 'systemd-journal', cpu: Math.max(0, 0.3 + jitter(r, 0.2)), rss: 40e6, threads: 1, cmdline: '/lib/systemd/systemd-journald', libs: ['libc.so.6'], env: [] },
  ];
}

function conn(pid: number, lport: number, remote: string, rport: number): ISocket {
  return { protocol: 'tcp', localAddress: '10.0.0.5', localPort: lport, remoteAddress: remote, remotePort: rport, state: 'ESTABLISHED', pid };
}

function listen(pid: number, port: number, addr = '0.0.0.0'): ISocket {
  return { protocol: 'tcp', localAddress: addr, localPort: port, remoteAddress: '0.0.0.0', remotePort: 0, state: 'LISTEN', pid };
}

/** One training GPU: ~2.2 s compute near 97 %, an all-reduce dip, a checkpoint pause every 5 min. */
function trainingGpu(tSec: number, r: () => number, phase = 0): { gpu: GpuState; ckpt: boolean } {
  const step = 3.1;
  const inStep = (tSec + phase) % step;
  const ckpt = tSec % 300 >= 290;
  const util = ckpt ? 3 + jitter(r, 2) : inStep < 2.2 ? 97 + jitter(r, 2) : 38 + jitter(r, 8);
  return {
    ckpt,
    gpu: { util, memUtil: util * 0.55, memUsed: 71.5 * GiB + jitter(r, 0.2 * GiB), power: 140 + util * 5.3 + jitter(r, 15), pcieRx: ckpt ? 0.05e9 : (3 + jitter(r, 1.5)) * 1e9, pcieTx: ckpt ? 1.2e9 : 0.4e9 },
  };
}

function trainingProcs(r: () => number, ckpt: boolean, gpuIndex: number, pidBase: number): ProcState[] {
  const env = [...BASE_ENV, 'RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT', 'NCCL_DEBUG', 'NCCL_SOCKET_IFNAME', 'CUDA_VISIBLE_DEVICES', 'OMP_NUM_THREADS'];
  const cmd = `/usr/bin/python3 -u train.py --config configs/resnet50.yaml --epochs 90 --lr 0.1 --local-rank ${gpuIndex}`;
  const main: ProcState = { pid: pidBase, name: 'python3', cpu: ckpt ? 100 + jitter(r, 5) : 108 + jitter(r, 12), rss: 18 * GiB, threads: 72, write: ckpt ? 1.4e9 : 2e5, read: 0, cmdline: cmd, libs: TORCH_LIBS, env, gpu: { index: gpuIndex, memBytes: 71 * GiB } };
  const workers: ProcState[] = [1, 2, 3, 4].map((k) => ({ pid: pidBase + 10 + k, name: 'python3', cpu: ckpt ? 2 : 45 + jitter(r, 20), rss: 3 * GiB, threads: 4, read: ckpt ? 0 : 60e6 + jitter(r, 20e6), cmdline: cmd, libs: TORCH_LIBS, env }));
  return [main, ...workers];
}

function minerGpu(r: () => number, limit: number): GpuState {
  // Ethash/Etchash: core pinned, memory bus saturated, power held at the configured limit.
  return { util: 100 - r() * 0.6, memUtil: 99 + jitter(r, 0.8), memUsed: 5.4 * GiB, power: limit - 2 + jitter(r, 2), pcieRx: 2e5 + r() * 1e5, pcieTx: 1e5 + r() * 1e5 };
}

const SCENARIOS: Scenario[] = [
  {
    file: 'gpu-training-pytorch-ddp.trace.ndjson',
    header: { label: 'ai-training', description: 'SYNTHETIC: PyTorch DDP rank on one H100: 3.1 s steps with an all-reduce dip, checkpoint pause every 5 min; python3 mapping libtorch_cuda/libcudnn/libnccl with RANK/WORLD_SIZE/NCCL_* (shapes: PyTorch DDP notes, ATC 2019, knowledge/ai_training_signatures.txt)' },
    intervalMs: 1000,
    samples: 600,
    gpuModel: { name: 'NVIDIA H100 80GB HBM3', memTotal: 80 * GiB, powerLimit: 700, idleWatts: 70 },
    gpuCount: 1,
    frame: (_i, t, r) => {
      const { gpu, ckpt } = trainingGpu(t, r);
      return { gpus: [gpu], procs: trainingProcs(r, ckpt, 0, 4100), sockets: [listen(4100, 29500), conn(4100, 29500, '127.0.0.1', 41022)], diskRead: 250e6, diskWrite: ckpt ? 1.4e9 : 1e6 };
    },
  },
  {
    file: 'gpu-inference-vllm.trace.ndjson',
    header: { label: 'ai-inference', description: 'SYNTHETIC: vLLM OpenAI server on one A100: 90% VRAM pre-allocated, utilisation in request bursts (Poisson arrivals), clients on :8000 (shapes: vLLM docs gpu_memory_utilization, Splitwise ISCA 2024)' },
    intervalMs: 1000,
    samples: 600,
    gpuModel: { name: 'NVIDIA A100-SXM4-40GB', memTotal: 40 * GiB, powerLimit: 400, idleWatts: 55 },
    gpuCount: 1,
    frame: (() => {
      let busyUntil = -1;
      return (_i: number, t: number, r: () => number): Frame => {
        if (t > busyUntil && r() < 0.12) busyUntil = t + 1 + Math.floor(r() * 5);
        const busy = t <= busyUntil;
        const util = busy ? 70 + r() * 28 : r() * 2;
        const clients = busy ? 1 + Math.floor(r() * 3) : r() < 0.3 ? 1 : 0;
        const sockets: ISocket[] = [listen(5200, 8000)];
        for (let c = 0; c < clients; c++) sockets.push({ ...conn(5200, 8000, `10.0.3.${20 + c}`, 51000 + c), localPort: 8000 });
        return {
          gpus: [{ util, memUtil: util * 0.7, memUsed: 36.2 * GiB, power: 60 + util * 3.1 + jitter(r, 8), pcieRx: busy ? 2e7 : 1e5, pcieTx: busy ? 1e7 : 1e5 }],
          procs: [
            { pid: 5200, name: 'python3', cpu: busy ? 95 + jitter(r, 10) : 4 + r() * 3, rss: 9 * GiB, threads: 140, cmdline: '/usr/bin/python3 -m vllm.entrypoints.openai.api_server --model meta-llama/Llama-3.1-8B-Instruct --port 8000', libs: [...TORCH_LIBS, 'libcublasLt.so.12'], env: [...BASE_ENV, 'HF_HOME', 'CUDA_VISIBLE_DEVICES'], gpu: { index: 0, memBytes: 36 * GiB } },
            ...background(r),
          ],
          sockets,
          diskRead: 1e5,
          diskWrite: 2e5,
        };
      };
    })(),
  },
  {
    file: 'gpu-mining-trex.trace.ndjson',
    header: { label: 'pow-mining', description: 'SYNTHETIC: t-rex mining Etchash on two RTX 3090s: utilisation and memory bus pinned, power at a 280 W limit, PCIe ~0, one stratum connection (shapes: Ethash design, t-rex README, knowledge/dcgm_fields.tsv)' },
    intervalMs: 1000,
    samples: 600,
    gpuModel: { name: 'NVIDIA GeForce RTX 3090', memTotal: 24 * GiB, powerLimit: 280, idleWatts: 30 },
    gpuCount: 2,
    frame: (_i, _t, r) => ({
      gpus: [minerGpu(r, 280), minerGpu(r, 280)],
      procs: [
        { pid: 6100, name: 't-rex', cpu: 3 + r() * 2, rss: 420e6, threads: 24, cmdline: 't-rex -a etchash -o stratum+tcp://etc.2miners.com:1010 -u 0xabc.rig1 -p x --pl 280', libs: MINER_LIBS, env: BASE_ENV, gpu: { index: 0, memBytes: 5.2 * GiB } },
        { pid: 6100, name: 't-rex', cpu: 0, rss: 0, threads: 0, cmdline: '', libs: [], env: [], gpu: { index: 1, memBytes: 5.2 * GiB } },
        ...background(r),
      ],
      sockets: [conn(6100, 40312, '162.19.139.184', 1010), listen(6100, 4067, '127.0.0.1')],
      diskRead: 0,
      diskWrite: 5e4,
    }),
  },
  {
    file: 'gpu-mining-renamed-python3.trace.ndjson',
    header: { label: 'pow-mining', evasion: 'renamed-python3', description: 'SYNTHETIC: lolMiner copied to python3, options in a config file (no pool or algorithm in argv), pool over TLS :443; one RTX 4090 pinned with power at a 300 W limit (shapes: Ethash design, lolMiner README, knowledge/dcgm_fields.tsv)' },
    intervalMs: 1000,
    samples: 600,
    gpuModel: { name: 'NVIDIA GeForce RTX 4090', memTotal: 24 * GiB, powerLimit: 300, idleWatts: 25 },
    gpuCount: 1,
    frame: (_i, _t, r) => ({
      gpus: [minerGpu(r, 300)],
      procs: [
        { pid: 7300, name: 'python3', cpu: 2 + r() * 2, rss: 380e6, threads: 20, cmdline: 'python3 train.py', libs: MINER_LIBS, env: BASE_ENV, gpu: { index: 0, memBytes: 5.6 * GiB } },
        ...background(r),
      ],
      sockets: [conn(7300, 45510, '51.89.96.41', 443)],
      diskRead: 0,
      diskWrite: 4e4,
    }),
  },
  {
    file: 'gpu-storage-windowpost.trace.ndjson',
    header: { label: 'storage-proving', description: 'SYNTHETIC: lotus-worker windowPoSt worker: every 30 min deadline, random challenge reads of sealed sectors then a ~3 min GPU SNARK at ~9 GiB VRAM; quiet in between (shapes: Filecoin spec deadlines, lotus-docs post-workers.md, knowledge/storage_proving_signatures.tsv)' },
    // 95 min at 5 s (a DCGM-exporter-like cadence): the 60 min horizon needs two deadlines to see the period.
    intervalMs: 5000,
    samples: 1140,
    gpuModel: { name: 'NVIDIA GeForce RTX 3090', memTotal: 24 * GiB, powerLimit: 350, idleWatts: 30 },
    gpuCount: 1,
    frame: (_i, t, r) => {
      const inDeadline = t % 1800;
      const reading = inDeadline >= 60 && inDeadline < 120;
      const snark = inDeadline >= 120 && inDeadline < 300;
      return {
        gpus: [{ util: snark ? 96 + jitter(r, 3) : 0, memUtil: snark ? 60 : 0, memUsed: snark ? 9.1 * GiB : 0.4 * GiB, power: snark ? 330 + jitter(r, 15) : 32 + jitter(r, 3), pcieRx: snark ? 4e8 : 1e4, pcieTx: snark ? 1e8 : 1e4 }],
        procs: [
          { pid: 8800, name: 'lotus-worker', cpu: reading ? 180 + jitter(r, 40) : snark ? 120 + jitter(r, 20) : 1 + r(), rss: snark ? 60 * GiB : 6 * GiB, threads: 90, read: reading ? 400e6 + jitter(r, 100e6) : 0, cmdline: 'lotus-worker run --windowpost --listen 0.0.0.0:3456', libs: ['libcuda.so.1', 'libOpenCL.so.1', 'libc.so.6'], env: [...BASE_ENV, 'LOTUS_WORKER_PATH', 'FIL_PROOFS_PARAMETER_CACHE', 'FIL_PROOFS_USE_GPU_TREE_BUILDER', 'BELLMAN_CUSTOM_GPU'], gpu: snark ? { index: 0, memBytes: 8.7 * GiB } : undefined },
          ...background(r),
        ],
        sockets: [listen(8800, 3456), conn(8800, 3456, '10.0.0.2', 52811)],
        diskRead: reading ? 400e6 : 1e4,
        diskWrite: 1e4,
      };
    },
  },
  {
    file: 'gpu-mixed-training-and-miner.trace.ndjson',
    header: { label: 'mixed', expectParts: ['ai-training', 'pow-mining'], evasion: 'miner-beside-training', description: 'SYNTHETIC: a PyTorch DDP rank on GPU 0 and lolMiner on GPU 1 of the same host (shapes as the training and mining traces)' },
    intervalMs: 1000,
    samples: 600,
    gpuModel: { name: 'NVIDIA A100-SXM4-80GB', memTotal: 80 * GiB, powerLimit: 400, idleWatts: 60 },
    gpuCount: 2,
    frame: (_i, t, r) => {
      const { gpu, ckpt } = trainingGpu(t, r);
      return {
        gpus: [{ ...gpu, power: Math.min(400, gpu.power * 0.57) }, minerGpu(r, 300)],
        procs: [
          ...trainingProcs(r, ckpt, 0, 4100),
          { pid: 9100, name: 'lolMiner', cpu: 3 + r() * 2, rss: 350e6, threads: 18, cmdline: 'lolMiner --algo ETCHASH --pool etc.2miners.com:1010 --user 0xabc.w', libs: MINER_LIBS, env: BASE_ENV, gpu: { index: 1, memBytes: 5.5 * GiB } },
        ],
        sockets: [listen(4100, 29500), conn(9100, 40999, '162.19.139.184', 1010)],
        diskRead: 250e6,
        diskWrite: ckpt ? 1.4e9 : 1e6,
      };
    },
  },
  {
    file: 'gpu-idle.trace.ndjson',
    header: { label: 'idle', description: 'SYNTHETIC: a GPU host with nothing running: GPUs at idle power, no compute processes' },
    intervalMs: 1000,
    samples: 300,
    gpuModel: { name: 'NVIDIA H100 80GB HBM3', memTotal: 80 * GiB, powerLimit: 700, idleWatts: 70 },
    gpuCount: 2,
    frame: (_i, _t, r) => ({
      gpus: [0, 1].map(() => ({ util: 0, memUtil: 0, memUsed: 0.5 * GiB, power: 70 + jitter(r, 3), pcieRx: 1e4, pcieTx: 1e4 })),
      procs: background(r),
      sockets: [listen(812, 22)],
      diskRead: 1e4,
      diskWrite: 3e4,
    }),
  },
];

function buildSample(sc: Scenario, i: number, r: () => number, seen: Set<number>): ISample {
  const tSec = (i * sc.intervalMs) / 1000;
  const f = sc.frame(i, tSec, r);
  const uuid = (k: number): string => `GPU-5${String(k).padStart(7, '0')}-synt-0000-0000-${sc.file.length.toString(16).padStart(12, '0')}`;
  const gpus: IGpu[] = f.gpus.map((g, k) => ({
    index: k,
    uuid: uuid(k),
    name: sc.gpuModel.name,
    vendor: 'nvidia',
    utilPct: d1(Math.max(0, Math.min(100, g.util))),
    memUtilPct: d1(Math.max(0, Math.min(100, g.memUtil))),
    memUsedBytes: Math.round(g.memUsed),
    memTotalBytes: sc.gpuModel.memTotal,
    powerWatts: d1(Math.max(sc.gpuModel.idleWatts * 0.8, Math.min(sc.gpuModel.powerLimit, g.power))),
    powerLimitWatts: sc.gpuModel.powerLimit,
    smClockMhz: g.util > 5 ? 1755 + Math.round(r() * 200) : 210,
    memClockMhz: g.util > 5 ? 9501 : 405,
    temperatureCelsius: Math.round(35 + g.util * 0.4),
    pcieRxBytesPerSec: Math.round(Math.max(0, g.pcieRx)),
    pcieTxBytesPerSec: Math.round(Math.max(0, g.pcieTx)),
  }));
  const byPid = new Map<number, ProcState>();
  const gpuProcesses: IGpuProcess[] = [];
  for (const p of f.procs) {
    if (p.gpu) gpuProcesses.push({ pid: p.pid, gpuUuid: uuid(p.gpu.index), usedMemoryBytes: Math.round(p.gpu.memBytes), name: p.name });
    if (!byPid.has(p.pid)) byPid.set(p.pid, p);
  }
  const processes: IProcess[] = [...byPid.values()].map((p) => {
    const first = !seen.has(p.pid);
    seen.add(p.pid);
    return {
      pid: p.pid,
      ppid: 1,
      name: p.name,
      startTimeTicks: 100_000 + p.pid,
      cpuPct: d1(Math.max(0, p.cpu)),
      rssBytes: Math.round(p.rss),
      threads: p.threads,
      readBytesPerSec: Math.round(Math.max(0, p.read ?? 0)),
      writeBytesPerSec: Math.round(Math.max(0, p.write ?? 0)),
      rcharPerSec: Math.round(Math.max(0, p.read ?? 0)) + 4096,
      wcharPerSec: Math.round(Math.max(0, p.write ?? 0)) + 4096,
      uid: 1000,
      state: p.cpu > 5 ? 'R' : 'S',
      ...(first ? { signature: { cmdline: p.cmdline, exe: `/usr/bin/${p.name}`, libs: p.libs, envNames: p.env, cgroup: '0::/user.slice/user-1000.slice/session-3.scope' } } : {}),
    };
  });
  const busy = processes.reduce((s, p) => s + (p.cpuPct ?? 0), 0);
  const hostPct = d1(Math.min(100, busy / CORES + 0.5));
  return {
    tsMs: T0 + i * sc.intervalMs,
    cpu: { totalPct: hostPct, userPct: d1(hostPct * 0.9), systemPct: d1(hostPct * 0.1), perCorePct: Array.from({ length: CORES }, () => d1(Math.max(0, Math.min(100, hostPct + (r() * 2 - 1) * 5)))) },
    memory: { totalBytes: 512 * GiB, usedBytes: 40 * GiB + processes.reduce((s, p) => s + (p.rssBytes ?? 0), 0), availableBytes: 400 * GiB, hugepagesTotal: 0, hugepagesFree: 0 },
    disks: [{ device: 'nvme0n1', readBytesPerSec: Math.round(f.diskRead), writeBytesPerSec: Math.round(f.diskWrite) }],
    net: [{ iface: 'eth0', rxBytesPerSec: 2e4, txBytesPerSec: 1e4 }],
    gpus,
    power: [{ domain: 'package-0', source: 'rapl', watts: d1(90 + hostPct * 2.5) }],
    processes,
    sockets: f.sockets,
    gpuProcesses,
    processesTotal: processes.length + 180,
  };
}

/** Writes every synthetic trace into `dir`; returns the files written. */
export async function writeSyntheticTraces(dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  for (const [k, sc] of SCENARIOS.entries()) {
    const r = rng(0x5eed + k * 7919);
    const file = join(dir, sc.file);
    const w = new TraceWriter(file, {
      ...sc.header,
      provenance: 'synthetic',
      recordedAtMs: T0,
      intervalMs: sc.intervalMs,
      hostname: 'synthetic-gpu-host',
      inventory: { cpuLogicalCores: CORES, cpuPhysicalCores: CORES / 2, memoryTotalBytes: 512 * GiB, gpus: Array.from({ length: sc.gpuCount }, () => ({ vendor: 'nvidia', model: sc.gpuModel.name, vramBytes: sc.gpuModel.memTotal })) },
    });
    const seen = new Set<number>();
    for (let i = 0; i < sc.samples; i++) w.write(buildSample(sc, i, r, seen));
    await w.close();
    out.push(file);
  }
  return out;
}

if (process.argv[1] && basename(process.argv[1]) === 'synth-gpu.js') {
  const dir = process.argv[2] ?? join(process.cwd(), 'test', 'corpus', 'synthetic');
  writeSyntheticTraces(dir)
    .then((files) => process.stdout.write(`wrote ${files.length} synthetic traces to ${dir}\n`))
    .catch((err: Error) => {
      process.stderr.write(`synth-gpu: ${err.message}\n`);
      process.exit(1);
    });
}
