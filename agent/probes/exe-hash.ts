// SHA-256 of executables, computed once per file version and cached.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/** Files larger than this are not hashed (the hash would stall the sample for too long). */
export const MAX_HASH_BYTES = 512 * 1024 * 1024;
const CHUNK = 1024 * 1024;
const MAX_CACHE_ENTRIES = 4096;

export class ExeHasher {
  /** (device, inode, mtime, size) → hash promise; a promise so concurrent asks share one read. */
  private readonly cache = new Map<string, Promise<string>>();
  /** Number of files actually read and hashed (tests check the cache works). */
  computed = 0;

  constructor(private readonly maxBytes = MAX_HASH_BYTES) {}

  /**
   * Hash of the file at `path` (for a process: /proc/PID/exe, which opens the running binary even
   * when it was deleted or lives in a container's filesystem), or "" when it cannot be read.
   */
  async hash(path: string): Promise<string> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch {
      return '';
    }
    try {
      const st = await fh.stat({ bigint: true });
      if (!st.isFile() || st.size > BigInt(this.maxBytes)) return '';
      const key = `${st.dev}:${st.ino}:${st.mtimeNs}:${st.size}`;
      let p = this.cache.get(key);
      if (!p) {
        if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
        this.computed++;
        p = hashHandle(fh);
        this.cache.set(key, p);
      }
      return await p;
    } catch {
      return '';
    } finally {
      await fh.close().catch(() => undefined);
    }
  }
}

/** Streams the file in 1 MiB chunks so other work on the event loop keeps running. */
async function hashHandle(fh: FileHandle): Promise<string> {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  let pos = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
    if (bytesRead === 0) break;
    h.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return h.digest('hex');
}
