// Fully populated wire messages: every field of every message set to a non-default value, so a
// round trip that drops or mangles any field fails.
import protobuf from 'protobufjs/minimal.js';
import type { IHello, ISample } from '../../proto/codec.js';

export function fullHello(agentId = 'agent-test-1'): IHello {
  return {
    agentId,
    hostname: 'gpu-node-07',
    agentVersion: '0.1.0',
    intervalMs: 1000,
    bootTimeMs: 1_790_000_000_000,
    startedMs: 1_795_000_000_000,
    publicKey: new Uint8Array(32).fill(4),
    nonceSignature: new Uint8Array(64).fill(5),
    enrollProof: new Uint8Array(32).fill(6),
    timeMs: 1_795_000_000_500,
    inventory: {
      cpuModel: 'AMD EPYC 7763 64-Core Processor',
      cpuPhysicalCores: 64,
      cpuLogicalCores: 128,
      memoryTotalBytes: 1_081_000_000_000,
      osPlatform: 'linux',
      osDistro: 'Debian GNU/Linux',
      osRelease: '12',
      kernel: '6.1.0-18-amd64',
      arch: 'x64',
      gpus: [{ vendor: 'NVIDIA', model: 'NVIDIA H100 80GB HBM3', vramBytes: 85_520_809_984, bus: '00000000:18:00.0', uuid: 'GPU-5f1c8f7e-1111-2222-3333-444455556666' }],
      disks: [{ device: '/dev/nvme0n1', type: 'NVMe', name: 'SAMSUNG MZQL23T8HCLS', sizeBytes: 3_840_755_982_336, interfaceType: 'PCIe' }],
      cpuVendor: 'AuthenticAMD',
      cpuFlags: ['sha_ni', 'aes', 'avx2'],
      virtual: true,
    },
  };
}

export function fullSample(tsMs = 1_795_000_001_000, pid = 4242): ISample {
  return {
    tsMs,
    cpu: { totalPct: 87.5, userPct: 80.25, systemPct: 5.5, iowaitPct: 1.25, stealPct: 0.5, irqPct: 0.25, perCorePct: [90, 85, 100, 75], nicePct: 0.75 },
    memory: {
      totalBytes: 1_081_000_000_000,
      availableBytes: 500_000_000_000,
      usedBytes: 581_000_000_000,
      swapTotalBytes: 8_000_000_000,
      swapUsedBytes: 1_000_000,
      cachedBytes: 200_000_000_000,
      hugepagesTotal: 1280,
      hugepagesFree: 12,
      hugepageSizeBytes: 2_097_152,
    },
    load: { load1: 62.5, load5: 60.25, load15: 58.5, procsRunning: 64, procsBlocked: 2 },
    disks: [{ device: 'nvme0n1', readBytesPerSec: 1_500_000_000, writeBytesPerSec: 20_000_000, readsPerSec: 12_000, writesPerSec: 300, busyPct: 45.5 }],
    net: [{ iface: 'eth0', rxBytesPerSec: 12_500_000, txBytesPerSec: 800_000, rxPacketsPerSec: 9000, txPacketsPerSec: 4000 }],
    gpus: [
      {
        index: 1,
        uuid: 'GPU-5f1c8f7e-1111-2222-3333-444455556666',
        name: 'NVIDIA H100 80GB HBM3',
        utilPct: 97,
        memUtilPct: 41,
        memUsedBytes: 71_000_000_000,
        memTotalBytes: 85_520_809_984,
        powerWatts: 612.5,
        powerLimitWatts: 700,
        smClockMhz: 1980,
        memClockMhz: 2619,
        temperatureCelsius: 64,
        pcieTxBytesPerSec: 1_000_000,
        pcieRxBytesPerSec: 4_000_000,
        vendor: 'nvidia',
      },
    ],
    power: [
      { domain: 'package-0', source: 'rapl', watts: 210.5 },
      { domain: 'gpu-0', source: 'nvidia-smi', watts: 612.5 },
    ],
    processes: [
      {
        pid,
        ppid: 1,
        name: 'python3',
        startTimeTicks: 123_456_789,
        cpuPct: 350.5,
        rssBytes: 12_000_000_000,
        threads: 48,
        readBytesPerSec: 100_000_000,
        writeBytesPerSec: 5_000_000,
        rcharPerSec: 150_000_000,
        wcharPerSec: 6_000_000,
        uid: 1000,
        state: 'R',
        signature: {
          cmdline: 'python3 -m torch.distributed.run --nproc_per_node=8 train.py',
          exe: '/usr/bin/python3.11',
          exeSha256: 'a'.repeat(64),
          libs: ['libc10_cuda.so', 'libcudnn.so.9', 'libnccl.so.2', 'libtorch_cuda.so'],
          envNames: ['LOCAL_RANK', 'MASTER_ADDR', 'RANK', 'WORLD_SIZE'],
          cgroup: '/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope',
          containerId: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
          cmdlineTruncated: true,
          netNs: 4_026_531_840,
        },
      },
    ],
    sockets: [{ protocol: 'tcp6', localAddress: '::', localPort: 29500, remoteAddress: '2001:db8::7', remotePort: 51234, state: 'ESTABLISHED', pid, inode: 987_654, netNs: 4_026_531_840 }],
    gpuProcesses: [{ pid, gpuUuid: 'GPU-5f1c8f7e-1111-2222-3333-444455556666', usedMemoryBytes: 70_000_000_000, name: 'python3' }],
    unavailable: [{ probe: 'power-rapl', reason: 'permission denied reading energy_uj' }],
    processesTotal: 312,
  };
}

/** `n` as a protobuf varint (for hand-built wire bytes), written by protobufjs's own writer. */
export function varint(n: number): Buffer {
  return Buffer.from(protobuf.Writer.create().uint32(n).finish());
}
