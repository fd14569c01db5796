// Evaluated just before protobufjs (the first import of no-long.ts): protobufjs takes Long from
// globalThis.dcodeIO.Long when there is one, and only otherwise loads the long package, whose
// module compiles a WebAssembly module at load time (64-bit multiply and divide). Assay drops Long
// right away (no-long.ts), so a placeholder stands in while protobufjs loads and is removed
// afterwards: long.js is never loaded, and V8's wasm compiler is never mapped into the process
// (0.7 MB of the agent's RSS, agent cost, issue 10). Where protobufjs was already loaded by
// another import, nothing changes (no-long.ts drops the Long it took).
const g = globalThis as { dcodeIO?: unknown };
const placed = g.dcodeIO === undefined;
if (placed) g.dcodeIO = { Long: function LongNotLoaded() {} };

/** Removes the placeholder (no-long.ts, once protobufjs is loaded). */
export function removeLongPlaceholder(): void {
  if (placed) delete g.dcodeIO;
}
