// Name-blind transform for the ablation of `npm run eval` (issue 8): every identity field a
// process can set or choose freely is replaced by one neutral value, so that whatever verdict
// remains was carried by behaviour. Pure: returns new objects, never changes its input, and the
// same input always gives the same output.
//
// Neutralised (every place a name can appear in a sample):
// - Process.name (comm, settable with prctl(PR_SET_NAME) or by renaming the binary);
// - ProcessSignature.cmdline (argv: program name, options, pool URLs, script paths) and its
//   cmdline_truncated flag (a property of the real argv's length);
// - ProcessSignature.exe (the path of the binary, chosen by whoever copies it);
// - ProcessSignature.exe_sha256 (identifies a known build; a rebuilt or patched binary changes it);
// - GpuProcess.name (NVML's process name).
// The agent sends a process's signature only with the first sample that shows it (and again after
// an agent restart) and the collector caches it (collector/window.ts): the transform works on every
// sample, so whichever sample carries a signature carries the neutral one.
//
// Kept on purpose (not free to change by renaming, or behaviour): mapped libraries, environment
// variable NAMES, cgroup and container id, sockets, network namespace, every counter, and
// exe_markers — markers are found in the binary's CONTENT (agent/probes/exe-markers.yaml), which
// survives renaming the file; they are identity evidence the engine must cap like names, but a
// rename does not remove them. (A cgroup path may contain a unit name chosen by an operator;
// it is kept here because the ablation is about the process's own names.) Hardware names
// (Gpu.name, the inventory's CPU and GPU models) describe the machine, not the workload: kept.
//
// An empty field stays empty (kernel threads have no exe or cmdline, an unreadable process no exe):
// emptiness says what kind of process it is, not what it is called. Processes stay distinct: the
// engine keys them by (pid, start time), never by name.
import { createHash } from 'node:crypto';
import type { IProcess, IProcessSignature, ISample } from '../proto/codec.js';

export const NEUTRAL_COMM = 'app';
export const NEUTRAL_EXE = '/opt/app/bin/app';
export const NEUTRAL_CMDLINE = 'app';
/** The "hash" of the neutral binary: a fixed value derived from its path, the same for every process. */
export const NEUTRAL_EXE_SHA256 = createHash('sha256').update(NEUTRAL_EXE).digest('hex');

/** A copy of a decoded protobuf message (keeps its prototype, where the defaults of unset fields live) with some fields replaced. */
function withFields<T extends object>(o: T, patch: Partial<T>): T {
  return Object.assign(Object.create(Object.getPrototypeOf(o) as object) as T, o, patch);
}

const neutral = (value: string | null | undefined, replacement: string): string => (value ? replacement : (value ?? ''));

export function nameBlindSignature(sig: IProcessSignature): IProcessSignature {
  return withFields(sig, {
    cmdline: neutral(sig.cmdline, NEUTRAL_CMDLINE),
    cmdlineTruncated: false,
    exe: neutral(sig.exe, NEUTRAL_EXE),
    exeSha256: neutral(sig.exeSha256, NEUTRAL_EXE_SHA256),
  });
}

export function nameBlindProcess(p: IProcess): IProcess {
  const patch: Partial<IProcess> = { name: neutral(p.name, NEUTRAL_COMM) };
  if (p.signature) patch.signature = nameBlindSignature(p.signature);
  return withFields(p, patch);
}

/** The sample with every identity field neutralised; everything else is shared with the input, unchanged. */
export function nameBlindSample(s: ISample): ISample {
  const patch: Partial<ISample> = {};
  if (s.processes) patch.processes = s.processes.map(nameBlindProcess);
  if (s.gpuProcesses) patch.gpuProcesses = s.gpuProcesses.map((g) => withFields(g, { name: neutral(g.name, NEUTRAL_COMM) }));
  return withFields(s, patch);
}

export function nameBlindSamples(samples: readonly ISample[]): ISample[] {
  return samples.map(nameBlindSample);
}
