// How the agent's Node process is started: V8 and libc settings that keep a 1 Hz sampler small.
// the daemon launcher (agent/main.ts, its shebang line) and `assay start` apply them; the agent-cost
// bench starts the agent the same way. Measured on this 2-core host, several agents on one
// collector over the same 75 s (RSS median, CPU share of a core; the host had ~1400 TCP sockets,
// so every sample carried 1280): Node defaults 111 MB / 2.06 %; these settings 74 MB / 2.23 %;
// the same with 1 MB semi-spaces 75 MB / 2.43 % (more scavenges and early promotion with large
// samples); without --optimize-for-size 87 MB.
// - --max-semi-space-size=4: the young generation grows to 2 x 16 MB under a steady allocation
//   rate; the agent's per-sample garbage fits in 4 MB semi-spaces.
// - --optimize-for-size: V8 grows the old generation more slowly and compacts sooner.
// - --v8-pool-size=1, UV_THREADPOOL_SIZE=1: one V8 helper thread and one libuv worker instead of
//   four each; the agent's background work is one exe read at a time (exe-hash.ts queues them).
// - MALLOC_ARENA_MAX=2: glibc otherwise gives every thread that allocates its own arena.
// - MALLOC_MMAP_THRESHOLD_=32768: buffers from 32 KiB up (encoded samples, batch payloads, SQLite
//   rows, zlib state) get their own mapping, returned to the system when freed, instead of
//   fragmenting the brk heap (glibc's threshold otherwise climbs to the largest buffer freed, up
//   to 32 MiB). Measured (three agents side by side on this host, 70 s): [heap] 11.5 -> 6.5 MB,
//   RssAnon 41 -> 32 MB, CPU within the noise; malloc_trim on an agent without it released ~4 MB.
// - --interrupt-budget=270336 (4 x V8's default): how much bytecode a function runs before V8
//   considers optimizing it. The agent's code runs once a second, so with the default budget its
//   many once-per-sample functions become "hot" one after another for minutes and TurboFan keeps
//   compiling (and, after a deopt or a major GC dropped what compiled code relied on,
//   recompiling) them on the V8 worker thread: measured 25-35 % of the agent's CPU in its first
//   minutes. Measured on this host (three agents side by side in pid namespaces holding the same
//   ~95 processes, 150 s from 10 s after start, ticks of the main thread + the worker): default
//   89 + 40, 4 x 92 + 23, 8 x 91 + 21; an earlier run (from 60 s) 117 + 68 against 105 + 18. The
//   per-process loops still run hundreds of times a second and are optimized within seconds.
// - --single-threaded: V8 posts no work to helper threads; its optimizing compiles and GC marking
//   and sweeping run on the main thread, between samples (a 1 Hz sampler has idle time to spare and
//   no latency to keep). Measured on this host (agents side by side, each in a pid namespace
//   holding the same ~45 processes, 60-90 s from 20 s after start, four pairs): RSS median 0.8-1.3 MB
//   lower (61.3 / 61.5 / 60.9 / 61.3 MB against 62.2 / 62.8 / 61.7 / 62.2; the helper thread's
//   compile zones and malloc arena are no longer touched), CPU within the noise (0.567 / 0.600 /
//   0.633 / 0.617 % against 0.683 / 0.611 / 0.611 / 0.683). Node still starts its --v8-pool-size
//   thread, which then stays idle.
// Deliberately not set: --max-old-space-size (a hard cap turns a big host's larger socket or
// process tables into a crash), --lite-mode and --no-opt (measured: 2.5-3x the CPU).

export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--optimize-for-size', '--v8-pool-size=1', '--interrupt-budget=270336', '--single-threaded'];
export const AGENT_ENV: Readonly<Record<string, string>> = { UV_THREADPOOL_SIZE: '1', MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '32768' };

/** The launcher's shebang line: env sets the variables, then runs node with the flags. */
export function agentShebang(): string {
  return `#!/usr/bin/env -S ${Object.entries(AGENT_ENV).map(([k, v]) => `${k}=${v}`).join(' ')} node ${AGENT_NODE_FLAGS.join(' ')}`;
}
