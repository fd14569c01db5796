// Live progress for `assay scan`: a bar with the latest readings on a terminal (cli-progress),
// a plain line every few samples otherwise (logs, CI).
import cliProgress from 'cli-progress';
import type { ISample } from '../../proto/codec.js';
import { summarize } from '../../collector/report/index.js';

export interface Progress {
  update(n: number, total: number, sample: ISample): void;
  stop(): void;
}

function readings(s: ISample): { cpu: string; gpu: string; power: string; procs: string } {
  const f = summarize(0, s);
  return {
    cpu: f.cpuPct.toFixed(1),
    gpu: f.gpuUtilPct === null ? '-' : `${f.gpuUtilPct.toFixed(0)}%`,
    power: f.powerWatts === null ? '-' : `${f.powerWatts.toFixed(0)}W`,
    procs: String(s.processesTotal ?? (s.processes ?? []).length),
  };
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream, format: 'scanning |{bar}| {value}/{total} s | CPU {cpu}% | GPU {gpu} | power {power} | {procs} processes', hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(n, total, sample) {
        if (!started) {
          bar.start(total, 0, readings(sample));
          started = true;
        }
        bar.update(n, readings(sample));
      },
      stop: () => bar.stop(),
    };
  }
  return {
    update(n, total, sample) {
      if (n !== 1 && n !== total && n % 5 !== 0) return;
      const r = readings(sample);
      stream.write(`scan ${n}/${total}: cpu ${r.cpu} % gpu ${r.gpu} power ${r.power} processes ${r.procs}\n`);
    },
    stop() {},
  };
}
