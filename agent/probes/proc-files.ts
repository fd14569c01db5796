// Per-process procfs files read every sample (/proc/PID/stat for every process, status and io
// for the reported ones) through descriptors kept open between samples.
//
// Why: opening /proc/PID/<file> walks the path and instantiates procfs inodes every time; on
// procfs a read at offset 0 of an open descriptor regenerates the content (seq_file restarts at
// position 0), so a kept descriptor gives the same fresh reading for about half the system time
// (measured: stat 1.5 -> 0.75 ms and io 1.2 -> 0.45 ms of CPU per 150 processes).
//
// Exactness: a descriptor belongs to the process it was opened for. Once that process is gone
// (reaped), reads fail with ESRCH even if its pid was reused; the file is then opened again by
// path, which reaches the new process. Descriptors of pids no longer listed are closed each sample
// (prune). Regular files (fixture trees) do not behave like this (an fd keeps reading a deleted
// file), so descriptors are kept only when the root is a real procfs mount.
//
// Bounds: at most `maxKept` descriptors per file name (beyond: open, read, close as before), and
// never more than a quarter of the process's open-file limit for all of them together.
import { closeSync, openSync, readFileSync, readSync, statfsSync } from 'node:fs';
import { join } from 'node:path';

/** statfs f_type of procfs (PROC_SUPER_MAGIC). */
const PROC_SUPER_MAGIC = 0x9fa0;
/** stat is ~300 bytes, status ~1.5 KiB, io ~100 bytes; a longer file is read whole instead. */
const BUF_BYTES = 16 * 1024;
/** Share of the open-file limit all kept descriptors together may use. */
const FD_LIMIT_SHARE = 4;

export function isProcfs(root: string): boolean {
  try {
    return statfsSync(root).type === PROC_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/** The agent's own soft limit on open files ("Max open files" in /proc/self/limits), 1024 when unknown. */
export function openFileLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const n = Number(line?.slice('Max open files'.length).trim().split(/\s+/)[0]);
    return Number.isFinite(n) && n > 0 ? n : 1024;
  } catch {
    return 1024;
  }
}

/** How many more descriptors may be kept open. */
export class FdBudget {
  left: number;
  constructor(limit = Math.floor(openFileLimit() / FD_LIMIT_SHARE)) {
    this.left = limit;
  }
}

let processBudget: FdBudget | undefined;
/** The budget shared by every KeptProcFiles in this process (whatever number of probes exist). */
export function sharedFdBudget(): FdBudget {
  return (processBudget ??= new FdBudget());
}

const shared = Buffer.allocUnsafe(BUF_BYTES);

/**
 * Files read every sample through descriptors kept open, each known by a numeric id (a pid or a
 * tid): at most `maxKept` descriptors, and none unless `keep` (the files are procfs ones).
 */
export class KeptFiles {
  /** id → descriptor, and whether it was read since the last prune. */
  private readonly fds = new Map<number, { fd: number; used: boolean }>();
  private readonly keep: boolean;
  /** Reads that went through a kept descriptor (tests and benchmarks). */
  reused = 0;

  constructor(
    keep: boolean,
    private readonly maxKept: number,
    private readonly budget: FdBudget = sharedFdBudget(),
  ) {
    this.keep = keep && maxKept > 0;
  }

  get kept(): number {
    return this.fds.size;
  }

  /**
   * The file's current content, or undefined when it cannot be read (process gone, no permission).
   * `path` is called only when the file must be opened by name (the common case, a kept
   * descriptor, builds no path string: this runs for every process every second).
   */
  read(id: number, path: () => string): string | undefined {
    return this.readOr(id, path, 0);
  }

  /**
   * read() with the path made by `path(arg)` only when needed: KeptProcFiles passes a method and
   * the pid instead of a closure made per read (a closure per process per second).
   */
  protected readOr<A>(id: number, path: (arg: A) => string, arg: A): string | undefined {
    if (!this.keep) return readOptionalFile(path(arg));
    const old = this.fds.get(id);
    if (old !== undefined) {
      const text = preadText(old.fd);
      if (text !== undefined) {
        this.reused++;
        old.used = true;
        return text === TOO_LONG ? readOptionalFile(path(arg)) : text;
      }
      // Gone (ESRCH), maybe with its pid already reused: drop it and open the path again.
      this.forget(id, old.fd);
    }
    let fd: number;
    try {
      fd = openSync(path(arg), 'r');
    } catch {
      return undefined;
    }
    const text = preadText(fd);
    if (text === undefined || text === TOO_LONG || this.fds.size >= this.maxKept || this.budget.left <= 0) {
      closeSync(fd);
      return text === TOO_LONG ? readOptionalFile(path(arg)) : text;
    }
    this.fds.set(id, { fd, used: true });
    this.budget.left--;
    return text;
  }

  /** Whether `id`'s file is read through a descriptor kept open. */
  isKept(id: number): boolean {
    return this.fds.has(id);
  }

  /**
   * The file's content read through its kept descriptor only, never opened by name; undefined when
   * none is kept or the read fails (on procfs: the task it was opened for is gone, whatever now
   * holds its pid number), and then the descriptor is closed.
   */
  readKept(id: number): string | undefined {
    const e = this.fds.get(id);
    if (e === undefined) return undefined;
    const text = preadText(e.fd);
    if (text === undefined || text === TOO_LONG) {
      this.forget(id, e.fd);
      return undefined;
    }
    this.reused++;
    e.used = true;
    return text;
  }

  /** Closes the descriptors not read since the previous prune (their processes are gone or no longer read). */
  prune(): void {
    // forEach, not for-of: no iterator result per entry while this runs unoptimized (it runs
    // once a second, so V8 optimizes it late). Deleting the current entry is allowed in both.
    this.fds.forEach((e, id) => {
      if (e.used) e.used = false;
      else this.forget(id, e.fd);
    });
  }

  close(): void {
    for (const [id, e] of this.fds) this.forget(id, e.fd);
  }

  private forget(id: number, fd: number): void {
    this.fds.delete(id);
    this.budget.left++;
    try {
      closeSync(fd);
    } catch {
      // already closed: nothing to release
    }
  }
}

/** One file name (e.g. "stat") of every process, read through kept descriptors where possible. */
export class KeptProcFiles extends KeptFiles {
  constructor(
    private readonly procRoot: string,
    private readonly name: string,
    maxKept: number,
    budget: FdBudget = sharedFdBudget(),
    keep = isProcfs(procRoot),
  ) {
    super(keep, maxKept, budget);
  }

  readPid(pid: number): string | undefined {
    return this.readOr(pid, this.pathOf, pid);
  }

  private readonly pathOf = (pid: number): string => join(this.procRoot, String(pid), this.name);
}

const TOO_LONG = Symbol('too long');

/** Reads from offset 0 (procfs regenerates the file); undefined on any error. */
function preadText(fd: number): string | undefined | typeof TOO_LONG {
  try {
    const n = readSync(fd, shared, 0, BUF_BYTES, 0);
    // Filled the buffer: the file may be longer, read it whole by path instead.
    if (n === BUF_BYTES) return TOO_LONG;
    return shared.toString('utf8', 0, n);
  } catch {
    return undefined;
  }
}

function readOptionalFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * A procfs seq_file never returns less than a page minus one record in one read() unless its
 * iteration ended (its buffer is at least one page, 4 KiB on every Linux, and is filled record by
 * record). Records of /proc/net/{tcp,udp}{,6} are under 256 bytes.
 */
const SEQ_MIN_PAGE = 4096;
const SEQ_MAX_RECORD = 256;
const TABLE_CHUNK = 64 * 1024;
const tableChunk = Buffer.allocUnsafe(TABLE_CHUNK);

/**
 * Reads a /proc/net socket table without the final empty read(): for /proc/net/tcp that read
 * starts the walk of the whole established hash table again to find nothing (the kernel cannot
 * resume past the end), doubling the cost of every table read. A read shorter than
 * SEQ_MIN_PAGE - SEQ_MAX_RECORD bytes ends the table (see above); on regular files (fixture
 * trees) a short read ends the file too. Undefined when the file cannot be read.
 */
export function readProcTable(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    // One module-level chunk buffer, each read decoded at once: no fresh 64 KiB buffer per read
    // (those are malloc'd outside the JS heap and, freed only when collected, fragment it). The
    // tables are ASCII, so a chunk boundary never splits a character.
    let text = '';
    for (;;) {
      const n = readSync(fd, tableChunk, 0, TABLE_CHUNK, null);
      if (n > 0) text += tableChunk.toString('latin1', 0, n);
      if (n < SEQ_MIN_PAGE - SEQ_MAX_RECORD) break;
    }
    return text;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
