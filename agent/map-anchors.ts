// Objects the agent keeps alive only so that their hidden classes (maps) outlive every garbage
// collection: optimized code that was compiled for a map is thrown away when that map dies.
//
// Why maps die here: a constructor's instances get their final map through property-addition
// transitions (`this.pos = …; this.buf = …`), and V8 holds those transitions weakly; only a live
// instance keeps such a map. The agent runs with --optimize-for-size, which makes every major GC a
// "reduce memory" one, and those skip V8's map retention (--retain-maps-for-n-gc: measured no
// help). protobufjs' BufferWriter lives only while a message is encoded, so a major GC in the idle
// time between samples finds none: its map died at each one, and with it the TurboFan code of
// write_uint32, write_uint64 and fork ("marking dependent code … reason: weak objects" under
// --trace-deopt), which was then recompiled within seconds, at every major GC, for the life of
// the agent. One writer kept here holds that map (and, forked once, its `states` field already in
// its array form, so no later field generalization deopts the code either); one LongBits holds
// write_uint64's other map.
import protobuf from 'protobufjs/minimal.js';

const anchors: unknown[] = [];

/** Keeps one instance of each short-lived class the 1 Hz path allocates; idempotent. */
export function anchorMaps(): void {
  if (anchors.length > 0) return;
  // The same Writer the generated encoders use (proto/gen/assay.js imports protobufjs/minimal.js).
  const writer = protobuf.Writer.create();
  writer.fork().uint32(300).uint64(2 ** 40).double(0.5).string('anchor').bool(true).ldelim();
  writer.fork();
  anchors.push(writer);
  // write_uint64's LongBits (lo, hi): its only long-lived instance, LongBits.zero, carries extra
  // methods and so another map; every other instance lives for one field.
  anchors.push(protobuf.util.LongBits.fromNumber(2 ** 40 + 1));
}

