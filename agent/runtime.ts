// How the agent's Node process is started: V8 and libc settings that keep a 1 Hz sampler small.
// `assay-agent` (agent/main.ts, its shebang line) and `assay start` apply them; the agent-cost
// bench starts the agent the same way. Measured on a 2-core host (bench/agent-cost.ts, same
// window, RSS median): 95 MB with Node's defaults, 73 MB with these, CPU unchanged.
// - --max-semi-space-size=1: the young generation grows to 2 x 16 MB under a steady allocation
//   rate; the agent's per-sample garbage fits in 1 MB semi-spaces (scavenges stay sub-millisecond).
// - --optimize-for-size: V8 grows the old generation more slowly and compacts sooner.
// - --v8-pool-size=1, UV_THREADPOOL_SIZE=1: one V8 helper thread and one libuv worker instead of
//   four each; the agent's background work is one exe read at a time (exe-hash.ts queues them).
// - MALLOC_ARENA_MAX=2: glibc otherwise gives every thread that allocates its own arena.
// Deliberately not set: --max-old-space-size (a hard cap turns a big host's larger socket or
// process tables into a crash), --lite-mode and --no-opt (measured: 2.5-3x the CPU).

export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--optimize-for-size', '--v8-pool-size=1'];
export const AGENT_ENV: Readonly<Record<string, string>> = { UV_THREADPOOL_SIZE: '1', MALLOC_ARENA_MAX: '2' };

/** The launcher's shebang line: env sets the variables, then runs node with the flags. */
export function agentShebang(): string {
  return `#!/usr/bin/env -S ${Object.entries(AGENT_ENV).map(([k, v]) => `${k}=${v}`).join(' ')} node ${AGENT_NODE_FLAGS.join(' ')}`;
}
