// NVIDIA GPUs through nvidia-smi's CSV query interface (two async calls per sample).
// nvidia-smi not installed → {} without error, and it is not spawned again for ABSENT_RETRY_MS.
// Values nvidia-smi cannot give ("[N/A]", "[Not Supported]") are left out (0 on the wire).
// PCIe throughput is not offered by --query-gpu, so pcieTx/RxBytesPerSec stay unset.
import type { assay } from '../../proto/codec.js';
import type { ProbeFactory } from './probe.js';
import { unavailable } from './probe.js';
import { SmiRunner, smiNumber } from './smi.js';
import { guardedProbe } from './util.js';

export const GPU_QUERY_FIELDS = [
  'index', 'uuid', 'name', 'utilization.gpu', 'utilization.memory', 'memory.used', 'memory.total',
  'power.draw', 'power.limit', 'clocks.sm', 'clocks.mem', 'temperature.gpu',
] as const;
export const GPU_QUERY_ARGS = [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];
export const APPS_QUERY_ARGS = ['--query-compute-apps=pid,process_name,gpu_uuid,used_memory', '--format=csv,noheader,nounits'];

const MIB = 1024 * 1024;

type NumericGpuField = 'utilPct' | 'memUtilPct' | 'memUsedBytes' | 'memTotalBytes' | 'powerWatts' | 'powerLimitWatts' | 'smClockMhz' | 'memClockMhz' | 'temperatureCelsius';

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

/** Parses --query-gpu output; undefined when no line has the expected shape. */
export function parseGpuCsv(text: string): assay.v1.Gpu.$Properties[] | undefined {
  const gpus: assay.v1.Gpu.$Properties[] = [];
  for (const line of lines(text)) {
    const f = line.split(',').map((s) => s.trim());
    if (f.length !== GPU_QUERY_FIELDS.length) continue;
    const index = smiNumber(f[0]);
    if (index === undefined || !f[1]!.startsWith('GPU-')) continue;
    const gpu: assay.v1.Gpu.$Properties = { index, uuid: f[1]!, name: f[2]!, vendor: 'nvidia' };
    // Unknown values are left out entirely rather than set to undefined.
    const set = (key: NumericGpuField, value: number | undefined, scale = 1): void => {
      if (value !== undefined) gpu[key] = Math.round(value * scale * 100) / 100;
    };
    set('utilPct', smiNumber(f[3]));
    set('memUtilPct', smiNumber(f[4]));
    set('memUsedBytes', smiNumber(f[5]), MIB);
    set('memTotalBytes', smiNumber(f[6]), MIB);
    set('powerWatts', smiNumber(f[7]));
    set('powerLimitWatts', smiNumber(f[8]));
    set('smClockMhz', smiNumber(f[9]));
    set('memClockMhz', smiNumber(f[10]));
    set('temperatureCelsius', smiNumber(f[11]));
    gpus.push(gpu);
  }
  return gpus.length > 0 || lines(text).length === 0 ? gpus : undefined;
}

/** Parses --query-compute-apps output; process names may contain commas, so fields are taken from both ends. */
export function parseAppsCsv(text: string): assay.v1.GpuProcess.$Properties[] {
  const out: assay.v1.GpuProcess.$Properties[] = [];
  for (const line of lines(text)) {
    if (line.startsWith('No running')) continue; // older versions print this instead of nothing
    const f = line.split(',').map((s) => s.trim());
    if (f.length < 4) continue;
    const pid = smiNumber(f[0]);
    const gpuUuid = f[f.length - 2]!;
    if (pid === undefined || !gpuUuid.startsWith('GPU-')) continue;
    const mem = smiNumber(f[f.length - 1]);
    out.push({ pid, name: f.slice(1, -2).join(', '), gpuUuid, usedMemoryBytes: mem === undefined ? 0 : mem * MIB });
  }
  return out;
}

export const nvidiaGpuProbe: ProbeFactory = (config) => {
  const smi = new SmiRunner(config.nvidiaSmi);
  return guardedProbe('gpu-nvidia', async (nowMs) => {
    const [gpuRes, appsRes] = await Promise.all([smi.run(GPU_QUERY_ARGS, nowMs), smi.run(APPS_QUERY_ARGS, nowMs)]);
    if (gpuRes.kind === 'absent') return {};
    if (gpuRes.kind === 'failed') return unavailable(gpuRes.reason);
    const gpus = parseGpuCsv(gpuRes.stdout);
    if (!gpus) return unavailable(`unparseable nvidia-smi output: ${JSON.stringify(gpuRes.stdout.slice(0, 80))}`);
    const power: assay.v1.PowerReading.$Properties[] = gpus
      .filter((g) => g.powerWatts !== undefined)
      .map((g) => ({ domain: `gpu-${g.index}`, source: 'nvidia-smi', watts: g.powerWatts! }));
    // The per-process list is a bonus: when only that call fails the GPUs are still reported.
    const gpuProcesses = appsRes.kind === 'ok' ? parseAppsCsv(appsRes.stdout) : [];
    return { gpus, gpuProcesses, power };
  });
};
