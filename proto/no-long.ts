// 64-bit fields (timestamps, sequence numbers, byte counts) decode to plain numbers: every value
// Assay puts there stays below 2^53. This must run before the generated module is evaluated,
// because that module bakes Long defaults into its prototypes; hence a module of its own,
// imported first by codec.ts (ES imports run in order, before the importing module's body).
// no-long-guard.ts, imported before protobufjs, keeps protobufjs from loading long.js at all.
import { removeLongPlaceholder } from './no-long-guard.js';
import protobuf from 'protobufjs/minimal.js';

protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();
removeLongPlaceholder();
