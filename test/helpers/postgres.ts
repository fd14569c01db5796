// A throwaway PostgreSQL cluster for tests and benchmarks: Debian's server binaries
// (/usr/lib/postgresql/<version>/bin, or ASSAY_PG_BIN), initdb into a temp dir, listening on a
// free 127.0.0.1 port and a unix socket inside that dir, removed by stop(). As root (CI runs as
// root) initdb refuses to run, so the cluster runs as the `postgres` user the package creates.
import { execFile } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, tempDir } from './env.js';

const run = promisify(execFile);

/** The newest installed server's bin directory. */
export function findPgBin(): string {
  const fromEnv = process.env.ASSAY_PG_BIN;
  if (fromEnv) {
    if (!existsSync(join(fromEnv, 'initdb'))) throw new Error(`ASSAY_PG_BIN=${fromEnv} has no initdb`);
    return fromEnv;
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions.length) throw new Error(`no PostgreSQL server binaries under ${root}/*/bin (install Debian's postgresql package: apt-get install postgresql), or set ASSAY_PG_BIN`);
  return join(root, versions[0]!, 'bin');
}

/** uid/gid to run the server as: ourselves, or `postgres` when we are root. */
function serverUser(): { uid: number; gid: number } | null {
  if (userInfo().uid !== 0) return null;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root and there is no postgres user to run the test cluster as (install the postgresql package)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export interface PgCluster {
  /** `postgres://assay@127.0.0.1:<port>/<db>` */
  url(db?: string): string;
  port: number;
  /** A new empty database; returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
  stop(): Promise<void>;
}

let counter = 0;

/** Starts a cluster (about a second); `fsync` off by default, on for benchmark figures that must hold durability. */
export async function startPostgres(opts: { fsync?: boolean } = {}): Promise<PgCluster> {
  const bin = findPgBin();
  const tmp = tempDir('assay-pg-');
  const as = serverUser();
  if (as) chownSync(tmp.dir, as.uid, as.gid);
  const data = join(tmp.dir, 'data');
  const exec = (cmd: string, args: string[]) => run(join(bin, cmd), args, { ...(as ?? {}), cwd: tmp.dir, timeout: 60_000 });
  try {
    await exec('initdb', ['-D', data, '-U', 'assay', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    let port = 0;
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      const settings = [`-p ${port}`, '-c listen_addresses=127.0.0.1', `-c unix_socket_directories=${tmp.dir}`, `-c fsync=${opts.fsync ? 'on' : 'off'}`, '-c max_connections=200'];
      try {
        await exec('pg_ctl', ['-D', data, '-l', join(tmp.dir, 'server.log'), '-w', '-t', '30', '-o', settings.join(' '), 'start']);
        break;
      } catch (err) {
        if (attempt >= 2) throw new Error(`pg_ctl start failed: ${(err as Error).message}\n${readLog(tmp.dir)}`);
      }
    }
    const url = (db = 'postgres'): string => `postgres://assay@127.0.0.1:${port}/${db}`;
    let stopped = false;
    return {
      url,
      port,
      async createDatabase(prefix = 'assay_test') {
        const name = `${prefix}_${process.pid}_${++counter}`;
        const c = new pg.Client({ connectionString: url() });
        await c.connect();
        try {
          await c.query(`CREATE DATABASE ${name}`);
        } finally {
          await c.end();
        }
        return url(name);
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
        tmp.cleanup();
      },
    };
  } catch (err) {
    await exec('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
    tmp.cleanup();
    throw err;
  }
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'server.log'), 'utf8').slice(-2000);
  } catch {
    return '';
  }
}
