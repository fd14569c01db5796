// A minimal mining-pool endpoint for the Assay held-out traces: it lets a real CPU miner run
// pool-connected WITHOUT a real pool. It listens on 127.0.0.1 only, hands out made-up jobs at a
// fixed cadence, accepts every share (it does not verify hashes: nothing is paid, nothing is
// forwarded anywhere) and stops itself after --seconds. Ours; no third-party code.
//
// Two dialects, chosen by the first request of each connection (newline-delimited JSON):
//   Monero-style (xmrig and its forks): login -> {id, job, status:"OK"}, then `job`
//     notifications, `submit` -> {status:"OK"}, `keepalived` -> {status:"KEEPALIVED"}.
//     Job: a 76-byte hashing blob (major 16, minor 16, varint timestamp, previous-block id,
//     4-byte nonce at offset 39, tree root, tx count), a 32-bit little-endian target
//     (difficulty = 2^32 / target), algo rx/0, height and a fixed seed_hash (one RandomX epoch).
//   Bitcoin-style (cpuminer, cgminer...): mining.subscribe -> [[subscriptions], extranonce1,
//     extranonce2_size], mining.authorize -> true, then mining.set_difficulty and
//     mining.notify [job_id, prevhash, coinb1, coinb2, merkle_branch, version, nbits, ntime,
//     clean_jobs], mining.submit -> true.
// Sources: xmrig's stratum client (src/base/net/stratum/Client.cpp, Job.cpp) and the Monero
//   pool protocol as implemented by e.g. node-cryptonote-pool; Bitcoin stratum:
//   https://en.bitcoin.it/wiki/Stratum_mining_protocol and https://braiins.com/stratum-v1/docs
//
// Usage: node stratum-server.mjs [--port 3333] [--seconds 400] [--job-every 30]
//          [--monero-diff 10000] [--btc-diff 0.05] [--max-clients 8]
// Prints one line per event (login, share counts every 10 s) on stdout.
import net from 'node:net';
import { randomBytes } from 'node:crypto';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const PORT = Number(arg('port', 3333));
const SECONDS = Number(arg('seconds', 400));
const JOB_EVERY = Number(arg('job-every', 30));
const MONERO_DIFF = Number(arg('monero-diff', 10000));
const BTC_DIFF = Number(arg('btc-diff', 0.05));
const MAX_CLIENTS = Number(arg('max-clients', 8));
const MAX_LINE = 64 * 1024; // a request line longer than this closes the connection

const log = (msg) => console.log(`[stratum ${new Date().toISOString().slice(11, 19)}] ${msg}`);

// ---- job state (one chain of made-up jobs shared by all clients) ------------------------------
let height = 3_000_000;
let jobSeq = 0;
const seedHash = randomBytes(32).toString('hex'); // constant: one RandomX epoch for the whole run
const moneroTarget = (() => {
  const t = Math.max(1, Math.floor(0xffffffff / MONERO_DIFF));
  const b = Buffer.alloc(4);
  b.writeUInt32LE(t);
  return b.toString('hex');
})();

function varint(n) {
  const out = [];
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); }
  out.push(n);
  return Buffer.from(out);
}
function moneroJob() {
  const blob = Buffer.concat([
    Buffer.from([16, 16]), // major, minor version
    varint(Math.floor(Date.now() / 1000)), // 5 bytes for current timestamps
    randomBytes(32), // previous block id
    Buffer.alloc(4), // nonce (offset 39)
    randomBytes(32), // tree root hash
    varint(1 + (jobSeq % 20)), // tx count
  ]);
  return { blob: blob.toString('hex'), job_id: String(jobSeq), target: moneroTarget, algo: 'rx/0', height, seed_hash: seedHash };
}
function btcNotify(clean) {
  const hex = (n) => randomBytes(n).toString('hex');
  return [String(jobSeq), hex(32), '01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20' + hex(8),
    '0000000001' + hex(8) + '1976a914' + hex(20) + '88ac00000000', [hex(32), hex(32)], '20000000', '1d00ffff',
    Math.floor(Date.now() / 1000).toString(16).padStart(8, '0'), clean];
}

// ---- connections ---------------------------------------------------------------------------
const clients = new Set(); // {sock, kind: 'monero'|'btc'|null, id}
let shares = 0, sharesLastLog = 0;

function send(c, obj) { if (!c.sock.destroyed) c.sock.write(JSON.stringify(obj) + '\n'); }

function handle(c, req) {
  const { id = null, method, params } = req;
  switch (method) {
    case 'login':
      c.kind = 'monero';
      c.id = randomBytes(8).toString('hex');
      log(`monero login from ${c.sock.remotePort}: agent ${params?.agent ?? '?'}`);
      return send(c, { id, jsonrpc: '2.0', error: null, result: { id: c.id, job: moneroJob(), extensions: ['algo', 'keepalive'], status: 'OK' } });
    case 'submit':
      shares++;
      return send(c, { id, jsonrpc: '2.0', error: null, result: { status: 'OK' } });
    case 'keepalived':
      return send(c, { id, jsonrpc: '2.0', error: null, result: { status: 'KEEPALIVED' } });
    case 'mining.subscribe':
      c.kind = 'btc';
      log(`btc subscribe from ${c.sock.remotePort}: ${JSON.stringify(params ?? []).slice(0, 60)}`);
      send(c, { id, result: [[['mining.set_difficulty', 's1'], ['mining.notify', 's1']], randomBytes(4).toString('hex'), 4], error: null });
      return;
    case 'mining.authorize':
      send(c, { id, result: true, error: null });
      send(c, { id: null, method: 'mining.set_difficulty', params: [BTC_DIFF] });
      send(c, { id: null, method: 'mining.notify', params: btcNotify(true) });
      return;
    case 'mining.extranonce.subscribe':
      return send(c, { id, result: true, error: null });
    case 'mining.submit':
      shares++;
      return send(c, { id, result: true, error: null });
    default:
      return send(c, { id, jsonrpc: '2.0', error: { code: -1, message: `unknown method ${method}` }, result: null });
  }
}

const server = net.createServer((sock) => {
  if (clients.size >= MAX_CLIENTS) { sock.destroy(); return; }
  const c = { sock, kind: null, id: null };
  clients.add(c);
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (d) => {
    buf += d;
    if (buf.length > MAX_LINE && !buf.includes('\n')) { log('line too long: closing'); sock.destroy(); return; }
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      let req;
      try { req = JSON.parse(line); } catch { log(`bad JSON: ${line.slice(0, 80)}`); continue; }
      handle(c, req);
    }
  });
  sock.on('error', () => {});
  sock.on('close', () => clients.delete(c));
});

const jobTimer = setInterval(() => {
  jobSeq++;
  height++;
  for (const c of clients) {
    if (c.kind === 'monero') send(c, { jsonrpc: '2.0', method: 'job', params: moneroJob() });
    else if (c.kind === 'btc') send(c, { id: null, method: 'mining.notify', params: btcNotify(true) });
  }
}, JOB_EVERY * 1000);
const statTimer = setInterval(() => {
  if (shares !== sharesLastLog) log(`shares accepted: ${shares} (clients ${clients.size}, job ${jobSeq})`);
  sharesLastLog = shares;
}, 10_000);

function stop() {
  clearInterval(jobTimer);
  clearInterval(statTimer);
  for (const c of clients) c.sock.destroy();
  server.close();
  log(`stopped: ${shares} shares accepted`);
  process.exit(0);
}
setTimeout(stop, SECONDS * 1000).unref();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
server.listen(PORT, '127.0.0.1', () => log(`listening on 127.0.0.1:${PORT} (monero target ${moneroTarget}, btc diff ${BTC_DIFF}, jobs every ${JOB_EVERY} s)`));
