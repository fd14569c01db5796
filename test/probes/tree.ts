// Helpers for probe tests: temporary copies of fixture trees that a test may mutate.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures, tempDir } from '../helpers/env.js';
import { defaultProbeConfig, type ProbeConfig } from '../../agent/probes/probe.js';

/** A private copy of test/fixtures/<name> (symlinks kept as they are). */
export function copyFixture(name: string): { dir: string; cleanup: () => void } {
  const t = tempDir('assay-probes-');
  cpSync(join(fixtures, name), t.dir, { recursive: true, verbatimSymlinks: true });
  return t;
}

export function write(dir: string, rel: string, text: string): void {
  writeFileSync(join(dir, rel), text);
}

export function config(overrides: Partial<ProbeConfig>): ProbeConfig {
  return { ...defaultProbeConfig, ...overrides };
}

/** Indices of /proc/PID/stat fields counted after the ")" that closes comm. */
const STAT_FIELD = { minflt: 7, majflt: 9, utime: 11, stime: 12, nice: 16, starttime: 19, policy: 38 } as const;

/** Adds to (or sets) counters of a fixture /proc/PID/stat file. */
export function editProcStat(path: string, change: Partial<Record<keyof typeof STAT_FIELD, number>>, mode: 'add' | 'set' = 'add'): void {
  const text = readFileSync(path, 'utf8');
  const close = text.lastIndexOf(')');
  const f = text.slice(close + 2).trimEnd().split(' ');
  for (const [k, v] of Object.entries(change) as [keyof typeof STAT_FIELD, number][]) {
    const i = STAT_FIELD[k];
    f[i] = String(mode === 'add' ? Number(f[i]) + v : v);
  }
  writeFileSync(path, `${text.slice(0, close + 2)}${f.join(' ')}\n`);
}

/** Adds to (or sets) `Key:\tN` lines of a fixture /proc/PID/status file (appended when absent). */
export function editStatus(path: string, change: Record<string, number>, mode: 'add' | 'set' = 'add', unit = ''): void {
  let text = readFileSync(path, 'utf8');
  for (const [k, v] of Object.entries(change)) {
    const re = new RegExp(`^${k}:\\s+(\\d+)(.*)$`, 'm');
    const m = text.match(re);
    if (m) text = text.replace(re, `${k}:\t${mode === 'add' ? Number(m[1]) + v : v}${m[2]}`);
    else text += `${k}:\t${v}${unit}\n`;
  }
  writeFileSync(path, text);
}
