// AMD GPUs through `rocm-smi --json`. Deliberately modest: utilisation, VRAM, power, temperature.
// rocm-smi not installed → {} without error (re-tried every ABSENT_RETRY_MS). rocm-smi's JSON keys
// changed across ROCm releases, so values are found by key pattern rather than exact name.
import type { assay } from '../../proto/codec.js';
import type { ProbeFactory } from './probe.js';
import { unavailable } from './probe.js';
import { SmiRunner, smiNumber } from './smi.js';
import { guardedProbe } from './util.js';

export const ROCM_ARGS = ['--showuse', '--showmemuse', '--showpower', '--showtemp', '--showmeminfo', 'vram', '--showproductname', '--showuniqueid', '--json'];

type Card = Record<string, unknown>;

/** First value whose key matches one of the patterns, in pattern order. */
function pick(card: Card, ...patterns: RegExp[]): number | undefined {
  for (const re of patterns) {
    for (const [k, v] of Object.entries(card)) {
      if (re.test(k)) {
        const n = smiNumber(typeof v === 'number' ? String(v) : typeof v === 'string' ? v : undefined);
        if (n !== undefined) return n;
      }
    }
  }
  return undefined;
}

function text(card: Card, re: RegExp): string {
  const entry = Object.entries(card).find(([k, v]) => re.test(k) && typeof v === 'string');
  return entry ? String(entry[1]).trim() : '';
}

/** Parses rocm-smi --json; undefined when it is not the expected JSON object. */
export function parseRocmJson(stdout: string): assay.v1.Gpu.$Properties[] | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  const gpus: assay.v1.Gpu.$Properties[] = [];
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    const m = key.match(/^card(\d+)$/);
    if (!m || typeof value !== 'object' || value === null) continue;
    const card = value as Card;
    const gpu: assay.v1.Gpu.$Properties = { index: Number(m[1]), vendor: 'amd', uuid: text(card, /^Unique ID$/i), name: text(card, /^Card (series|model)$/i) };
    const set = (k: 'utilPct' | 'memUtilPct' | 'powerWatts' | 'temperatureCelsius' | 'memTotalBytes' | 'memUsedBytes', v: number | undefined): void => {
      if (v !== undefined) gpu[k] = v;
    };
    set('utilPct', pick(card, /^GPU use \(%\)$/i));
    set('memUtilPct', pick(card, /^GPU Memory Allocated \(VRAM%\)$/i, /^GPU memory use \(%\)$/i));
    set('powerWatts', pick(card, /Graphics Package Power \(W\)$/i, /Power \(W\)$/i));
    set('temperatureCelsius', pick(card, /^Temperature \(Sensor junction\) \(C\)$/i, /^Temperature \(Sensor edge\) \(C\)$/i));
    set('memTotalBytes', pick(card, /^VRAM Total Memory \(B\)$/i));
    set('memUsedBytes', pick(card, /^VRAM Total Used Memory \(B\)$/i));
    gpus.push(gpu);
  }
  return gpus;
}

export const amdGpuProbe: ProbeFactory = (config) => {
  const smi = new SmiRunner(config.rocmSmi);
  return guardedProbe('gpu-amd', async (nowMs) => {
    const res = await smi.run(ROCM_ARGS, nowMs);
    if (res.kind === 'absent') return {};
    if (res.kind === 'failed') return unavailable(res.reason);
    const gpus = parseRocmJson(res.stdout);
    if (!gpus) return unavailable(`unparseable rocm-smi output: ${JSON.stringify(res.stdout.slice(0, 80))}`);
    const power: assay.v1.PowerReading.$Properties[] = gpus
      .filter((g) => g.powerWatts !== undefined)
      .map((g) => ({ domain: `gpu-${g.index}`, source: 'rocm-smi', watts: g.powerWatts! }));
    return { gpus, power };
  });
};
