#!/usr/bin/env -S UV_THREADPOOL_SIZE=1 MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=32768 node --max-semi-space-size=4 --optimize-for-size --v8-pool-size=1 --interrupt-budget=270336 --single-threaded
// `dist/agent/main.js …` is `assay agent …` started with the agent's Node settings (agent/runtime.ts;
// the line above is agentShebang(), a test keeps the two the same). Use it wherever the agent
// runs as a daemon (systemd ExecStart, containers).
// Only the agent's commands are registered (the same program, flags, errors and help as
// `assay agent`): the daemon does not load the collector's, report's or scan's modules.
import { assayProgram, runProgram } from '../proto/cli-kit.js';
import { registerAgentCommands } from './cli.js';

const program = assayProgram();
registerAgentCommands(program);
process.argv.splice(2, 0, 'agent');
runProgram(program);
