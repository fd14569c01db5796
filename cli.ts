#!/usr/bin/env node
// `assay`: one CLI. Each part owns its commands, flags, errors and help (agent/cli.ts,
// agent/scan/cli.ts, collector/cli.ts, collector/report/cli.ts); this file only dispatches.
// Precedence everywhere: flag > ASSAY_* environment variable > --config file > default.
import { registerAgentCommands } from './agent/cli.js';
import { registerScanCommands } from './agent/scan/cli.js';
import { registerCollectorCommands } from './collector/cli.js';
import { registerReportCommands } from './collector/report/cli.js';
import { assayProgram, runProgram } from './proto/cli-kit.js';

const program = assayProgram();

// Help lists the commands in this order.
registerCollectorCommands(program);
registerReportCommands(program);
registerScanCommands(program);
registerAgentCommands(program);

runProgram(program);
