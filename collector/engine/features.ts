// features(window): host and per-process features of one window. Pure and total: missing fields
// read as "not measured" (listed in `unavailable`), never as an exception.
import type { ISample } from '../../proto/codec.js';
import type { GpuFeatures, HostFeatures } from './feature-types.js';
import { hostHistory } from './features-history.js';
import { processFeatures } from './features-process.js';
import { DEFAULT_FEATURE_OPTIONS, seriesFeatures, type FeatureOptions } from './features-series.js';
import { indexSockets, isListening, isLoopback, isEstablished } from './sockets.js';
import { clamp, cv, max, mean, median, num } from './stats.js';
import type { EngineWindow } from './types.js';

function intervalOf(samples: readonly ISample[], fallbackMs: number): { intervalMs: number; known: boolean } {
  const diffs: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const d = num(samples[i]?.tsMs) - num(samples[i - 1]?.tsMs);
    if (d > 0) diffs.push(d);
  }
  return diffs.length > 0 ? { intervalMs: median(diffs), known: true } : { intervalMs: fallbackMs, known: samples.length < 2 };
}

function gpuFeatures(samples: readonly ISample[], opts: FeatureOptions, intervalMs: number): GpuFeatures[] {
  const ids: string[] = [];
  const byId = new Map<string, { name: string; util: number[]; memUtil: number[]; memShare: number[]; total: number; rx: number[]; tx: number[]; power: number[] }>();
  samples.forEach((sample, i) => {
    for (const g of sample.gpus ?? []) {
      if (!g) continue;
      const id = g.uuid || `index:${num(g.index)}`;
      let acc = byId.get(id);
      if (!acc) {
        // Series are sample-aligned: a GPU missing from early samples reads 0 there.
        acc = { name: g.name ?? '', util: new Array<number>(i).fill(0), memUtil: [], memShare: [], total: 0, rx: [], tx: [], power: [] };
        byId.set(id, acc);
        ids.push(id);
      }
      while (acc.util.length < i) acc.util.push(0);
      acc.util.push(clamp(num(g.utilPct), 0, 100));
      acc.memUtil.push(num(g.memUtilPct));
      const total = num(g.memTotalBytes);
      acc.total = Math.max(acc.total, total);
      acc.memShare.push(total > 0 ? num(g.memUsedBytes) / total : 0);
      acc.rx.push(num(g.pcieRxBytesPerSec));
      acc.tx.push(num(g.pcieTxBytesPerSec));
      if (num(g.powerWatts) > 0) acc.power.push(num(g.powerWatts));
    }
  });
  return ids.sort().map((id) => {
    const a = byId.get(id);
    if (!a) throw new Error('unreachable');
    while (a.util.length < samples.length) a.util.push(0);
    return {
      id,
      name: a.name,
      util: seriesFeatures(a.util, opts, intervalMs),
      memUtilPctMean: mean(a.memUtil),
      memUsedShare: mean(a.memShare),
      memTotalBytes: a.total,
      pcieRxBytesPerSec: mean(a.rx),
      pcieTxBytesPerSec: mean(a.tx),
      powerWattsMean: a.power.length > 0 ? mean(a.power) : null,
    };
  });
}

/** RAPL package + dram watts per sample (the agent reports source "rapl"). */
function raplWatts(samples: readonly ISample[]): number | null {
  const perSample: number[] = [];
  for (const s of samples) {
    const readings = (s.power ?? []).filter((p) => p && (p.source ?? '').toLowerCase() === 'rapl');
    if (readings.length > 0) perSample.push(readings.reduce((sum, p) => sum + num(p.watts), 0));
  }
  return perSample.length > 0 ? mean(perSample) : null;
}

/**
 * Mean over samples of 1 - CV(per-core %), over samples with at least one busy core (an idle
 * host has no meaningful evenness: null then, but per-core data is still "available").
 */
function evenness(samples: readonly ISample[]): { value: number | null; seen: boolean } {
  const values: number[] = [];
  let seen = false;
  for (const s of samples) {
    const cores = (s.cpu?.perCorePct ?? []).map((c) => num(c));
    if (cores.length >= 2) seen = true;
    if (cores.length < 2 || max(cores) < 1) continue;
    values.push(clamp(1 - cv(cores)));
  }
  return { value: values.length > 0 ? mean(values) : null, seen };
}

/** complete: every sample mapped all sockets; partial: some sample or process was read; unknown: neither (old agents). */
function attribution(samples: readonly ISample[], complete: readonly boolean[]): HostFeatures['sockets']['attribution'] {
  if (samples.length > 0 && complete.every(Boolean)) return 'complete';
  const some = complete.some(Boolean) || samples.some((s) => !!s.socketAttribution || (s.processes ?? []).some((p) => num(p?.socketView) === 1));
  return some ? 'partial' : 'unknown';
}

function unavailableSignals(window: EngineWindow, h: Omit<HostFeatures, 'unavailable'>, timestampsKnown: boolean, perCoreSeen: boolean): string[] {
  const s = window.samples;
  const out = new Set<string>();
  if (s.length === 0) return ['samples'];
  if (!s.some((x) => x.cpu)) out.add('cpu');
  if (!perCoreSeen) out.add('cpu.per_core');
  if (!s.some((x) => x.memory)) out.add('memory');
  if (!s.some((x) => (x.disks ?? []).length > 0)) out.add('disk');
  if (!s.some((x) => (x.net ?? []).length > 0)) out.add('net');
  if (h.gpus.length === 0) out.add('gpu');
  else {
    if (!s.some((x) => (x.gpuProcesses ?? []).length > 0)) out.add('gpu.processes');
    if (h.power.gpuWattsMean === null) out.add('power.gpu');
  }
  if (h.power.raplWattsMean === null) out.add('power.rapl');
  if (h.processes.length === 0) out.add('processes');
  else if (!h.processes.some((p) => p.signature)) out.add('signatures');
  // A host always has some socket (the agent's own link, sshd), so none at all means "not read".
  if (!h.sockets.available) out.add('sockets');
  else if (!h.sockets.ownerAvailable && h.sockets.attribution !== 'complete') out.add('sockets.owner');
  // Which sockets belong to which process is not known completely: "no network" cannot be told.
  if (h.sockets.attribution !== 'complete') out.add('sockets.attribution');
  if (!timestampsKnown) out.add('timestamps');
  for (const x of s) for (const u of x.unavailable ?? []) if (u?.probe) out.add(u.probe);
  return [...out].sort();
}

export function features(window: EngineWindow, options: FeatureOptions = DEFAULT_FEATURE_OPTIONS): HostFeatures {
  const samples = window.samples ?? [];
  const { intervalMs, known } = intervalOf(samples, options.defaultIntervalMs);
  const gpus = gpuFeatures(samples, options, intervalMs);
  const sockets = indexSockets(samples);
  const perSample = <T>(f: (s: ISample) => T): T[] => samples.map(f);

  const listenPorts = new Set<number>();
  const remote = new Set<string>();
  for (const s of samples)
    for (const k of s.sockets ?? []) {
      if (!k) continue;
      if (isListening(k)) listenPorts.add(num(k.localPort));
      else if (isEstablished(k) && !isLoopback(k.remoteAddress ?? '')) remote.add(k.remoteAddress ?? '');
    }

  const even = evenness(samples);
  const gpuUtilSeries = samples.map((_, i) => mean(gpus.map((g) => g.util.series[i] ?? 0)));
  const gpuWatts = gpus.map((g) => g.powerWattsMean).filter((w): w is number => w !== null);
  const cores = Math.max(
    num(window.inventory?.cpuLogicalCores),
    ...samples.map((s) => (s.cpu?.perCorePct ?? []).length),
    0,
  );

  const host: Omit<HostFeatures, 'unavailable'> = {
    window: {
      fromMs: num(samples[0]?.tsMs),
      toMs: num(samples[samples.length - 1]?.tsMs),
      samples: samples.length,
      intervalMs,
    },
    cores,
    cpu: { ...seriesFeatures(perSample((s) => clamp(num(s.cpu?.totalPct), 0, 100)), options, intervalMs), evenness: even.value },
    gpus,
    gpuUtil: gpus.length > 0 ? seriesFeatures(gpuUtilSeries, options, intervalMs) : null,
    power: { raplWattsMean: raplWatts(samples), gpuWattsMean: gpuWatts.length > 0 ? gpuWatts.reduce((a, b) => a + b, 0) : null },
    memory: {
      totalBytes: max(perSample((s) => num(s.memory?.totalBytes))),
      usedBytesMean: mean(perSample((s) => num(s.memory?.usedBytes))),
      hugepagesTotal: max(perSample((s) => num(s.memory?.hugepagesTotal))),
      hugepagesInUseMax: max(perSample((s) => Math.max(0, num(s.memory?.hugepagesTotal) - num(s.memory?.hugepagesFree)))),
    },
    disk: {
      readBytesPerSec: mean(perSample((s) => (s.disks ?? []).reduce((a, d) => a + num(d?.readBytesPerSec), 0))),
      writeBytesPerSec: mean(perSample((s) => (s.disks ?? []).reduce((a, d) => a + num(d?.writeBytesPerSec), 0))),
    },
    net: {
      // Loopback traffic is local chatter, not the host talking to the world.
      rxBytesPerSec: mean(perSample((s) => (s.net ?? []).filter((n) => n && n.iface !== 'lo').reduce((a, n) => a + num(n.rxBytesPerSec), 0))),
      txBytesPerSec: mean(perSample((s) => (s.net ?? []).filter((n) => n && n.iface !== 'lo').reduce((a, n) => a + num(n.txBytesPerSec), 0))),
    },
    sockets: {
      available: sockets.available || sockets.complete.some(Boolean),
      ownerAvailable: sockets.ownerAvailable,
      attribution: attribution(samples, sockets.complete),
      listenPorts: [...listenPorts].sort((a, b) => a - b), remoteAddresses: remote.size },
    processes: processFeatures(samples, window.signatures ?? new Map(), gpus, sockets, options, intervalMs, window.history ?? null),
    history: hostHistory(window.history, options),
  };
  return { ...host, unavailable: unavailableSignals(window, host, known, even.seen) };
}
