// Runs `assay` subcommands as real child processes for end-to-end tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { cliPath } from './env.js';

export interface Spawned {
  child: ChildProcess;
  output: () => string;
  /** Sends a signal and waits for the exit (SIGKILL after `graceMs`). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

export function spawnAssay(args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    async stop(signal = 'SIGTERM', graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const code = await exited;
        clearTimeout(t);
        return code;
      }
      return child.exitCode;
    },
  };
}

/** Runs `assay …` to completion and returns its exit code and output. */
export function runAssay(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000, cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface CollectorChild {
  child: ChildProcess;
  port: number;
  /** The exit code once it exited (128 for a signal), null while it runs. */
  exited: () => number | null;
  stderr: () => string;
}

/**
 * Starts `assay collector ARGS` as a child process with no ASSAY_ variable from the test's own
 * environment, and resolves once it prints its 127.0.0.1 listening line (rejects with its stderr
 * if it exits first or says nothing within 20 s). Pass `--port 0`: the port is read from the line.
 */
export function startCollectorProcess(args: string[]): Promise<CollectorChild> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('ASSAY_')) delete env[k];
    const child = spawn(process.execPath, [cliPath, 'collector', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let exitCode: number | null = null;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no listening line within 20 s:\n${err}`));
    }, 20_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), exited: () => exitCode, stderr: () => err });
      }
    });
    child.on('exit', (code, signal) => {
      exitCode = code ?? (signal ? 128 : -1);
      clearTimeout(timer);
      reject(new Error(`collector exited ${code}:\n${err}`));
    });
  });
}
