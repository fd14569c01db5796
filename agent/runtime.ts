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
//   recompiling) them on the V8 worker thread (on the main thread since --single-threaded below):
//   measured 25-35 % of the agent's CPU in its first minutes. Measured on this host (three agents
//   side by side in pid namespaces holding the same ~95 processes, 150 s from 10 s after start,
//   ticks of the main thread + the worker): default 89 + 40, 4 x 92 + 23, 8 x 91 + 21; an earlier
//   run (from 60 s) 117 + 68 against 105 + 18. The per-process loops still run hundreds of times a
//   second and are optimized within seconds. Still, with this budget (perf, an agent in a pid
//   namespace holding ~45 quiet processes, 25 to 115 s after start) TurboFan took ~19 % of the
//   agent's CPU samples, and --trace-opt counted 0.65 optimizing compiles a second 2 to 3 minutes
//   after start; budgets of 16 x and 64 x, --no-turbo-inlining and a smaller cumulative inlining
//   budget measured within the noise of 0.59-0.70 % (side by side, 90 s).
//   What those late compiles follow (--log-deopt --log-code, two agents side by side, 150 s from
//   20 s after start): after the first minute nearly every deopt has the reason "weak objects"
//   (17 of 19; the rest "code dependencies"), i.e. code dropped at a major GC because an object
//   it embeds died, not wrong-map or Smi deopts: protobufjs' writer (write_uint64, writeVarint64,
//   LongBits), proto/columnar.js (varint, parseEntry, sameEntry) and quantize.js. Keeping maps
//   longer (--retain-maps-for-n-gc=64 against the default 2) did not reduce them (39 against 19
//   deopts, 136 against 102 TurboFan compiles after 60 s, same run): not kept.
//   Why: with --optimize-for-size every major GC is a "reduce memory" one, and those skip V8's map
//   retention altogether, so a map held only by transitions dies whenever no instance is alive at
//   that GC (protobufjs' writer lives only while a sample encodes). agent/map-anchors.ts keeps one
//   instance of each such class alive instead: the writer's deopts at major GCs are gone.
// - --single-threaded: V8 posts no work to helper threads; its optimizing compiles and GC marking
//   and sweeping run on the main thread, between samples (a 1 Hz sampler has idle time to spare and
//   no latency to keep). Measured on this host (agents side by side, each in a pid namespace
//   holding the same ~45 processes, 60-90 s from 20 s after start, five pairs): RSS median lower in
//   every pair, by 0.8-3.5 MB (61.3 / 61.5 / 60.9 / 61.8 / 62.4 MB against 62.2 / 62.8 / 61.7 /
//   65.3 / 63.8; the helper thread's compile zones and malloc arena are no longer touched), CPU
//   within the noise (mean 0.673 % against 0.663; pairs 0.567-0.800 against 0.611-0.711). Node
//   still starts its --v8-pool-size thread, which then stays idle.
// Deliberately not set: --max-old-space-size (a hard cap turns a big host's larger socket or
// process tables into a crash), --lite-mode and --no-opt (measured: 2.5-3x the CPU), and
// --maglev --max-opt=2 (Maglev instead of TurboFan: measured side by side, three runs, RSS median
// 3.5-4 MB lower, RssFile 42.5 against 46.4 MB as TurboFan's code pages are never touched, CPU
// within the noise: 0.567 / 0.600 / 0.744 % against 0.589 / 0.622 / 0.700; but Maglev is
// experimental in Node 20's V8 11.3, shipped only from V8 11.7, and a miscompile here would
// silently corrupt every figure the agent sends).

export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--optimize-for-size', '--v8-pool-size=1', '--interrupt-budget=270336', '--single-threaded'];
export const AGENT_ENV: Readonly<Record<string, string>> = { UV_THREADPOOL_SIZE: '1', MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '32768' };

/** The launcher's shebang line: env sets the variables, then runs node with the flags. */
export function agentShebang(): string {
  return `#!/usr/bin/env -S ${Object.entries(AGENT_ENV).map(([k, v]) => `${k}=${v}`).join(' ')} node ${AGENT_NODE_FLAGS.join(' ')}`;
}
