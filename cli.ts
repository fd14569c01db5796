#!/usr/bin/env node
// `assay`: one CLI. Each part owns its commands, flags, errors and help (agent/cli.ts,
// agent/scan/cli.ts, collector/cli.ts, collector/report/cli.ts); this file only dispatches.
// Precedence everywhere: flag > ASSAY_* environment variable > --config file > default.
import { Command } from 'commander';
import { registerAgentCommands } from './agent/cli.js';
import { registerScanCommands } from './agent/scan/cli.js';
import { registerCollectorCommands } from './collector/cli.js';
import { registerReportCommands } from './collector/report/cli.js';
import { sayErr } from './proto/cli-kit.js';
import { packageVersion } from './proto/package-info.js';

const program = new Command('assay')
  .description('Workload fingerprinting: tells AI training, inference, chain validation, storage proving and PoW mining apart by behaviour.')
  .version(packageVersion())
  // Errors read like every other Assay error ("assay: …") and end with a pointer to the help,
  // not the whole usage text (subcommands inherit both settings).
  .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'assay: ')) })
  .showHelpAfterError("(see 'assay <command> --help')")
  .enablePositionalOptions();

// Help lists the commands in this order.
registerCollectorCommands(program);
registerReportCommands(program);
registerScanCommands(program);
registerAgentCommands(program);

program.parseAsync(process.argv).catch((err: Error) => {
  sayErr(`assay: ${err.message}\n`);
  process.exit(1);
});
