// Running vendor SMI tools (nvidia-smi, rocm-smi) asynchronously with a timeout, remembering when
// the tool is not installed so it is not spawned every second on hosts without GPUs.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { errnoCode } from './util.js';

const execFileAsync = promisify(execFile);

export const SMI_TIMEOUT_MS = 2000;
/** How long an absent tool is believed absent before trying again (drivers can be installed). */
export const ABSENT_RETRY_MS = 5 * 60 * 1000;

export type SmiResult = { kind: 'ok'; stdout: string } | { kind: 'absent' } | { kind: 'failed'; reason: string };

export class SmiRunner {
  private absentSinceMs: number | undefined;

  constructor(
    private readonly executable: string,
    private readonly timeoutMs = SMI_TIMEOUT_MS,
  ) {}

  /** True while the tool is remembered as absent (no process is spawned). */
  believedAbsent(nowMs: number): boolean {
    return this.absentSinceMs !== undefined && nowMs - this.absentSinceMs < ABSENT_RETRY_MS;
  }

  async run(args: string[], nowMs: number): Promise<SmiResult> {
    if (this.believedAbsent(nowMs)) return { kind: 'absent' };
    try {
      const { stdout } = await execFileAsync(this.executable, args, { timeout: this.timeoutMs, maxBuffer: 4 * 1024 * 1024, encoding: 'utf8' });
      this.absentSinceMs = undefined;
      return { kind: 'ok', stdout };
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') {
        this.absentSinceMs = nowMs;
        return { kind: 'absent' };
      }
      const e = err as { killed?: boolean; signal?: string | null; stderr?: string; stdout?: string; message?: string };
      if (e.killed || e.signal === 'SIGTERM') return { kind: 'failed', reason: `${this.executable} timed out after ${this.timeoutMs} ms` };
      // nvidia-smi prints its errors ("couldn't communicate with the NVIDIA driver") on stdout.
      const detail = (e.stderr || e.stdout || e.message || String(err)).trim().split('\n')[0]!.slice(0, 200);
      return { kind: 'failed', reason: `${this.executable} failed: ${detail}` };
    }
  }
}

/** A numeric SMI value; "[N/A]", "[Not Supported]", "N/A" and other non-numbers → undefined. */
export function smiNumber(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (t === '' || t.startsWith('[') || /^n\/a$/i.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}
