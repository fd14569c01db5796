// JSON-RPC user of the Hardhat dev chain (bench/workloads/hardhat-chain.sh): over keep-alive
// HTTP connections to 127.0.0.1 it sends a value transfer between the node's unlocked dev
// accounts every 1-4 s (eth_sendTransaction; they wait in the mempool for the next 12 s block)
// and polls like a wallet/indexer: eth_blockNumber every second, and for every new block
// eth_getBlockByNumber (with transactions) and the receipts of its transactions, plus
// eth_getBalance/eth_getTransactionCount of a few accounts. Bounded by --seconds.
// Usage: node hardhat-client.mjs --port P [--seconds N]
import http from 'node:http';

const arg = (n, d) => { const i = process.argv.indexOf(`--${n}`); return i > 0 ? process.argv[i + 1] : d; };
const PORT = Number(arg('port', 28645));
const stopAt = Date.now() + Number(arg('seconds', 300)) * 1000;
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
let id = 0;
const rpc = (method, params = []) => new Promise((resolve, reject) => {
  const req = http.request({ host: '127.0.0.1', port: PORT, method: 'POST', path: '/', agent, timeout: 10_000, headers: { 'content-type': 'application/json' } }, (res) => {
    let b = '';
    res.on('data', (d) => { b += d; });
    res.on('end', () => { try { const j = JSON.parse(b); j.error ? reject(new Error(j.error.message)) : resolve(j.result); } catch (e) { reject(e); } });
  });
  req.on('error', reject);
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.end(JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }));
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let stopping = false;
process.on('SIGTERM', () => { stopping = true; });
process.on('SIGINT', () => { stopping = true; });

let accounts = [];
for (let i = 0; i < 60 && !accounts.length; i++) { try { accounts = await rpc('eth_accounts'); } catch { await sleep(1000); } }
if (!accounts.length) { console.error('no RPC'); process.exit(1); }
console.log(`client: ${accounts.length} accounts`);
let lastBlock = -1, sent = 0, nextTx = Date.now();
let s = 99;
const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296);
while (!stopping && Date.now() < stopAt) {
  try {
    const bn = parseInt(await rpc('eth_blockNumber'), 16);
    if (bn !== lastBlock) {
      const blk = await rpc('eth_getBlockByNumber', ['0x' + bn.toString(16), true]);
      for (const tx of blk.transactions.slice(0, 20)) await rpc('eth_getTransactionReceipt', [tx.hash]);
      for (const a of accounts.slice(0, 4)) { await rpc('eth_getBalance', [a, 'latest']); await rpc('eth_getTransactionCount', [a, 'latest']); }
      if (lastBlock >= 0) console.log(`block ${bn}: ${blk.transactions.length} txs; sent so far ${sent}`);
      lastBlock = bn;
    }
    if (Date.now() >= nextTx) {
      const from = accounts[Math.floor(rnd() * accounts.length)], to = accounts[Math.floor(rnd() * accounts.length)];
      await rpc('eth_sendTransaction', [{ from, to, value: '0x' + Math.floor(1e12 + rnd() * 1e15).toString(16), gas: '0x5208' }]);
      sent++;
      nextTx = Date.now() + 1000 + rnd() * 3000;
    }
  } catch (e) { console.log(`rpc error: ${e.message}`); }
  await sleep(1000);
}
agent.destroy();
console.log(`client done: sent ${sent}`);
