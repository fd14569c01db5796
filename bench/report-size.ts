// What one report costs: bytes per host-hour of the report and the peak RSS of `assay report`
// and `assay verify`, over periods of a store filled with the recorded trace at 1 Hz
// (bench/storage-bytes.ts --keep: the agent's own sealing, batches of 5, chained). Sets the
// default of --report-max-bytes (collector/report/budget.ts).
//
//   node dist/bench/report-size.js [--fill-hours 8] [--periods 1,2,4,6,8] [--db FILE (skip the fill)]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const flag = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : dflt;
};
const T0 = Date.UTC(2026, 11, 1); // storage-bytes.ts's first sample
const fillHours = Number(flag('--fill-hours', '8'));
const periods = flag('--periods', '1,2,4,6,8').split(',').map(Number);

function timed(cmd: string[]): { rssMb: number; s: number; code: number | null; stderr: string } {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIMED %M %e', ...cmd], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const m = /TIMED (\d+) ([\d.]+)/.exec(r.stderr);
  return { rssMb: m ? Number(m[1]) / 1024 : NaN, s: m ? Number(m[2]) : NaN, code: r.status, stderr: r.stderr.replace(/TIMED.*\n?/, '').replace(/^Command exited with non-zero status \d+\n?/m, '') };
}

let db = flag('--db', '');
let fillDir = '';
if (!db) {
  const fill = spawnSync(process.execPath, ['dist/bench/storage-bytes.js', '--hours', String(fillHours), '--keep'], { encoding: 'utf8' });
  const kept = /kept (\S+)/.exec(fill.stdout);
  if (!kept) throw new Error(`storage-bytes.js --keep printed no file:\n${fill.stdout}${fill.stderr}`);
  db = kept[1]!;
  fillDir = join(db, '..');
  console.log(fill.stdout.split('\n').find((l) => l.startsWith('storage per')));
}
const out = mkdtempSync(join(tmpdir(), 'assay-report-size-'));
console.log(`report size and memory: ${db}; loadavg ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const h of periods) {
  for (const format of ['json', 'html']) {
    const file = join(out, `r${h}.${format}`);
    const r = timed([process.execPath, 'dist/cli.js', 'report', '--db', db, '--data-dir', out, '--host', 'server-host', '--from', String(T0), '--to', String(T0 + h * 3600_000), '--out', file, '--report-max-bytes', String(1_000_000_000)]);
    if (r.code !== 0) {
      console.log(`  ${h} h ${format}: exit ${r.code}: ${r.stderr.trim().split('\n').at(-1)}`);
      continue;
    }
    const bytes = statSync(file).size;
    const line = `  ${String(h).padStart(2)} h ${format.padEnd(4)}: ${(bytes / 1e6).toFixed(2)} MB (${(bytes / h / 1e6).toFixed(2)} MB/host-hour), report ${r.s.toFixed(1)} s, peak RSS ${r.rssMb.toFixed(0)} MB`;
    if (format === 'json') {
      // The signed bytes it embeds (what --report-max-bytes counts): header, signature and payload of every batch.
      const report = JSON.parse(readFileSync(file, 'utf8')) as { hosts: Array<{ input: { batches?: Array<Record<string, unknown>> } }> };
      let signed = 0;
      for (const b of report.hosts[0]!.input.batches ?? []) for (const k of ['header', 'signature', 'payload']) if (typeof b[k] === 'string') signed += Buffer.from(b[k] as string, 'base64').length;
      console.log(`  ${String(h).padStart(2)} h signed bytes embedded: ${(signed / 1e6).toFixed(2)} MB (${(signed / h / 1e6).toFixed(2)} MB/host-hour; report/signed ${(bytes / signed).toFixed(2)})`);
      const v = timed([process.execPath, 'dist/cli.js', 'verify', file]);
      console.log(`${line}; verify ${v.code === 0 ? 'PASS' : `exit ${v.code}`} ${v.s.toFixed(1)} s, peak RSS ${v.rssMb.toFixed(0)} MB`);
    } else console.log(line);
    rmSync(file);
  }
  // The default limit: refused before anything is read, or built.
  const d = timed([process.execPath, 'dist/cli.js', 'report', '--db', db, '--data-dir', out, '--host', 'server-host', '--from', String(T0), '--to', String(T0 + h * 3600_000), '--out', join(out, 'd.json')]);
  console.log(`     default --report-max-bytes: ${d.code === 0 ? 'built' : `refused: ${d.stderr.trim().split('\n').at(-1)}`} (${d.s.toFixed(1)} s, peak RSS ${d.rssMb.toFixed(0)} MB)`);
  rmSync(join(out, 'd.json'), { force: true });
}
rmSync(out, { recursive: true, force: true });
if (fillDir) rmSync(fillDir, { recursive: true, force: true });
