// SHA-256 and binary-content markers (exe-markers.ts) of executables, computed in one read pass
// per file version and cached.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { defaultExeMarkers, type ExeMarkerSet } from './exe-markers.js';

/** Files larger than this are not hashed (the hash would stall the sample for too long). */
export const MAX_HASH_BYTES = 512 * 1024 * 1024;
const CHUNK = 1024 * 1024;
const MAX_CACHE_ENTRIES = 4096;

export interface ExeFacts {
  /** Hex SHA-256, "" when the file could not be read or is too large. */
  sha256: string;
  /** Ids of the markers found in the file (sorted), [] when none or not read. */
  markers: string[];
}

const NOTHING: ExeFacts = { sha256: '', markers: [] };

export class ExeHasher {
  /** (device, inode, mtime, size) → facts promise; a promise so concurrent asks share one read. */
  private readonly cache = new Map<string, Promise<ExeFacts>>();
  /** Number of files actually read and hashed (tests check the cache works). */
  computed = 0;
  private readonly markers: ExeMarkerSet;
  /**
   * Files are read one at a time, through one 1 MiB buffer: a first sample that asks for every
   * executable on the host at once must not hold dozens of buffers (and read the disk in
   * parallel); signatures not ready in time come with a later sample (processes.ts).
   */
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * The read buffer, only while reads are queued: new executables come in bursts (start-up, a
   * deployment), and between them the agent keeps no MiB it does not use.
   */
  private buf: Buffer | undefined;
  private pending = 0;

  constructor(private readonly maxBytes = MAX_HASH_BYTES, markers?: ExeMarkerSet) {
    this.markers = markers ?? defaultExeMarkers();
  }

  /**
   * Hash and markers of the file at `path` (for a process: /proc/PID/exe, which opens the running
   * binary even when it was deleted or lives in a container's filesystem).
   */
  async inspect(path: string): Promise<ExeFacts> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch {
      return NOTHING;
    }
    try {
      const st = await fh.stat({ bigint: true });
      if (!st.isFile() || st.size > BigInt(this.maxBytes)) return NOTHING;
      const key = `${st.dev}:${st.ino}:${st.mtimeNs}:${st.size}`;
      const cached = this.cache.get(key);
      if (cached) {
        // Known file version: this handle is not needed while the (maybe queued) read finishes.
        await fh.close().catch(() => undefined);
        return await cached;
      }
      if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
      this.computed++;
      const handle = fh;
      this.pending++;
      const p = this.queue.then(() => readOnce(handle, this.markers, (this.buf ??= Buffer.allocUnsafe(CHUNK))));
      this.queue = p.catch(() => undefined).then(() => {
        if (--this.pending === 0) this.buf = undefined;
      });
      this.cache.set(key, p);
      return await p;
    } catch {
      return NOTHING;
    } finally {
      await fh.close().catch(() => undefined);
    }
  }
}

/** Streams the file in 1 MiB chunks (other work on the event loop keeps running) into both. */
async function readOnce(fh: FileHandle, markers: ExeMarkerSet, buf: Buffer): Promise<ExeFacts> {
  const h = createHash('sha256');
  const scan = markers.scanner();
  let pos = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
    if (bytesRead === 0) break;
    const chunk = buf.subarray(0, bytesRead);
    h.update(chunk);
    scan.update(chunk);
    pos += bytesRead;
  }
  return { sha256: h.digest('hex'), markers: scan.result() };
}
