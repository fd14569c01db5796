// Generates the static protobuf module and its typings from proto/assay.proto.
// Output lives in proto/gen/ (git-ignored); never edit it by hand.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const gen = join(here, 'gen');
const bin = join(here, '..', 'node_modules', '.bin');
// Start from an empty dist/ so files of deleted sources (old tests above all) never linger.
rmSync(join(here, '..', 'dist'), { recursive: true, force: true });
mkdirSync(gen, { recursive: true });
const js = join(gen, 'assay.js');
execFileSync(join(bin, 'pbjs'), ['-t', 'static-module', '-w', 'es6', '--force-number', '--no-beautify', '--no-delimited', '--no-service', '--no-verify-exceptions', '-o', js, join(here, 'assay.proto')], { stdio: 'inherit' });
// Node's ESM resolver needs the file extension on the protobufjs subpath import.
writeFileSync(js, readFileSync(js, 'utf8').replace(/from "protobufjs\/minimal"/g, 'from "protobufjs/minimal.js"'));
execFileSync(join(bin, 'pbts'), ['-o', join(gen, 'assay.d.ts'), js], { stdio: 'inherit' });
