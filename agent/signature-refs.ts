// Process signatures sent by reference (proto ProcessSignature.same_as). On a busy server most new
// processes are byte-identical to one seen before (`sleep 1` in a loop, cron jobs, health checks):
// on the recorded server trace 922 of 1,350 signatures were (bench/payload-sizes.ts). A new
// process whose signature this agent sent in full recently is sent as the SHA-256 of that
// signature's canonical bytes (its ProcessSignature message as encoded in the sample, the digest
// the collector keys signature_blobs by) and the collector resolves it.
//
// A signature that does go in full sends its env_names and libs lists by reference too when an
// earlier signature (still remembered) carried the same list (env_names_as, libs_as): after the
// whole repeats, the environment names and mapped libraries are most of what is left of
// signatures, and a handful of distinct lists recur (37 distinct env_names lists among 1,350).
//
// A reference is only as good as the collector's copy of the full signature, so the digests kept
// here are only those sent since the agent started (the map lives in memory), since its link to
// the collector was last down or closed (the next collector may be another one, on a database
// that never saw them: agent.ts clears the map), and since its spool last lost samples (the lost
// ones may have carried full signatures). An entry expires SIGNATURE_RESEND_MS after its full
// send (a day, inside the collector's raw window: retention keeps a signature used by a batch it
// keeps), and the map holds at most `max` digests (the oldest full send goes first). A process's
// own daily resend is always in full, which renews the entry.
//
// Only the agent streaming to a collector uses this: `assay scan` and `assay record` send every
// signature in full, so traces and scans decode on their own.
import { createHash } from 'node:crypto';
import { assay, type IProcessSignature, type ISample } from '../proto/codec.js';
import { SIGNATURE_RESEND_MS } from './probes/processes.js';

/** Most digests remembered (about 100 B each; as many lists again, about 150 B each). */
export const MAX_SENT_SIGNATURES = 4096;

/** SHA-256 of a signature's canonical bytes (its encoded ProcessSignature message). */
export function signatureDigest(sig: IProcessSignature): Buffer {
  return createHash('sha256').update(assay.v1.ProcessSignature.encode(sig).finish()).digest();
}

/** The lists a signature may send by reference (ProcessSignature.env_names_as, libs_as). */
const LISTS = [
  ['envNames', 'envNamesAs'],
  ['libs', 'libsAs'],
] as const;

export class SentSignatures {
  /** Digest (base64) -> sample time of its full send, oldest first. */
  private readonly sent = new Map<string, number>();
  /** Per list (SHA-256 of field and list) -> digest (base64) of the newest signature sent with it. */
  private readonly lists = new Map<string, string>();
  /** References handed out and full signatures recorded, for tests and status. */
  references = 0;
  full = 0;
  /** env_names / libs lists sent by reference inside signatures otherwise sent in full. */
  listReferences = 0;

  constructor(
    readonly expireMs = SIGNATURE_RESEND_MS,
    readonly max = MAX_SENT_SIGNATURES,
    /** Whether env_names / libs lists go by reference too (benches compare without). */
    readonly listRefs = true,
  ) {}

  get size(): number {
    return this.sent.size;
  }

  /**
   * What a sample taken at `nowMs` carries for this signature: a reference when `mayRefer` (the
   * process's first report) and an identical signature was sent in full within expireMs, else
   * the signature itself, recorded as sent in full now.
   */
  attach(sig: IProcessSignature, nowMs: number, mayRefer: boolean): IProcessSignature {
    this.expire(nowMs);
    const digest = signatureDigest(sig);
    const key = digest.toString('base64');
    const at = this.sent.get(key);
    if (mayRefer && at !== undefined && nowMs >= at) {
      this.references++;
      return { sameAs: digest };
    }
    // Sent "in full": its env_names / libs as references to an earlier signature that carried
    // the same list, when one is still remembered (the digest stays that of the whole signature).
    let out: IProcessSignature = sig;
    for (const [field, asField] of this.listRefs ? LISTS : []) {
      const list = sig[field];
      if (!list || list.length === 0) continue;
      // Keyed by a hash of the list (a list of environment names can be kilobytes).
      const listKey = createHash('sha256').update(field).update('\u0000').update(list.join('\u0000')).digest('base64');
      const by = this.lists.get(listKey);
      if (by !== undefined && by !== key && this.sent.has(by)) {
        if (out === sig) out = { ...sig };
        out[field] = [];
        out[asField] = Buffer.from(by, 'base64');
        this.listReferences++;
      }
      this.lists.delete(listKey);
      this.lists.set(listKey, key);
      if (this.lists.size > 2 * this.max) this.lists.delete(this.lists.keys().next().value!);
    }
    this.sent.delete(key); // re-inserted last: the map stays in order of full sends
    this.sent.set(key, nowMs);
    if (this.sent.size > this.max) this.sent.delete(this.sent.keys().next().value!);
    this.full++;
    return out;
  }

  /** Forgets every digest: the next occurrence of each is sent in full. */
  clear(): void {
    this.sent.clear();
    this.lists.clear();
  }

  /** Drops the entries sent in full expireMs or more before `nowMs` (they are the oldest). */
  private expire(nowMs: number): void {
    for (const [key, at] of this.sent) {
      if (nowMs - at < this.expireMs && nowMs >= at) return;
      this.sent.delete(key);
    }
  }
}

/**
 * Recorded samples as the agent streaming them sends them (benches, tests): in order, each
 * process's first signature goes through `sent` (a reference when an identical one went in full
 * recently), later ones (resends) in full. The samples are copied, not changed.
 */
export function withReferences(samples: readonly ISample[], sent = new SentSignatures()): ISample[] {
  const signed = new Set<string>();
  return samples.map((s) => {
    if (!(s.processes ?? []).some((p) => p.signature)) return s;
    const processes = (s.processes ?? []).map((p) => {
      if (!p.signature) return p;
      const key = `${p.pid ?? 0}:${p.startTimeTicks ?? 0}`;
      const first = !signed.has(key);
      signed.add(key);
      return { ...p, signature: sent.attach(p.signature, Number(s.tsMs ?? 0), first) };
    });
    return { ...s, processes };
  });
}
