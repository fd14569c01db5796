// Helper for bench/workloads/ethereum-chain.sh (the chain-validation and ethash-mining corpus
// workloads). Two commands:
//
//   node chain.mjs genesis DIR PERIOD_S [poa|pow]
//       Makes a fresh throw-away key (DIR/signer.key, hex without 0x, the format the client's
//       --unlock FILE reads) and a geth-style genesis DIR/assaydev.json for a Clique PoA chain
//       with that key as the only signer, a block period of PERIOD_S seconds (12 s, Ethereum's
//       slot time, by default in the shell script) and a prefunded signer account.
//       ethereumjs' own --dev=poa chain hard-codes a 10 s period; the genesis file overrides it.
//       With `pow` the genesis is ethash instead of Clique (as ethereumjs' --dev=pow makes it).
//
//   node chain.mjs load RPC_URL KEYFILE GENESIS SECONDS
//       A small user of the node's JSON-RPC, as wallets, explorers and dapps are: every ~0.5-2 s
//       a read (eth_blockNumber, eth_getBlockByNumber, eth_getBalance, eth_gasPrice,
//       eth_getTransactionCount, net_peerCount), and every ~3-6 s a signed EIP-1559 value transfer
//       (eth_sendRawTransaction) to a random address, so blocks carry transactions that the node
//       executes and validates. Stops after SECONDS.
//
// Sources: Ethereum JSON-RPC API https://ethereum.org/en/developers/docs/apis/json-rpc/ ;
// Clique PoA (EIP-225) https://eips.ethereum.org/EIPS/eip-225 ; Ethereum slot time 12 s
// https://ethereum.org/en/developers/docs/consensus-mechanisms/pos/ ; @ethereumjs/tx
// https://github.com/ethereumjs/ethereumjs-monorepo/tree/master/packages/tx (MPL-2.0).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCommonFromGethGenesis } from '@ethereumjs/common';
import { createFeeMarket1559Tx } from '@ethereumjs/tx';
import { bytesToHex, createAddressFromPrivateKey, hexToBytes } from '@ethereumjs/util';

const [cmd, ...rest] = process.argv.slice(2);

function genesis(dir, periodS, mode) {
  mkdirSync(dir, { recursive: true });
  const key = randomBytes(32);
  const addr = createAddressFromPrivateKey(key).toString().slice(2);
  writeFileSync(join(dir, 'signer.key'), key.toString('hex'));
  const g = {
    config: {
      chainId: 123457, homesteadBlock: 0, eip150Block: 0, eip155Block: 0, eip158Block: 0,
      byzantiumBlock: 0, constantinopleBlock: 0, petersburgBlock: 0, istanbulBlock: 0,
      berlinBlock: 0, londonBlock: 0,
      ...(mode === 'pow' ? { ethash: {} } : { clique: { period: periodS, epoch: 30000 } }),
    },
    nonce: '0x0', timestamp: '0x' + Math.floor(Date.now() / 1000 - 60).toString(16),
    gasLimit: '0x1c9c380', difficulty: '0x1', baseFeePerGas: '0x7',
    mixHash: '0x' + '0'.repeat(64), coinbase: '0x' + '0'.repeat(40), number: '0x0', gasUsed: '0x0',
    parentHash: '0x' + '0'.repeat(64),
    extraData: mode === 'pow' ? '0x' + '0'.repeat(32) : '0x' + '0'.repeat(64) + addr + '0'.repeat(130),
    alloc: { [addr]: { balance: '0x' + (10n ** 24n).toString(16) } },
  };
  writeFileSync(join(dir, 'assaydev.json'), JSON.stringify(g, null, 2));
  console.log(`genesis: ${mode === 'pow' ? 'ethash' : 'clique'}, signer 0x${addr}, period ${periodS}s -> ${join(dir, 'assaydev.json')}`);
}

async function rpc(url, method, params = []) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const j = await res.json();
  if (j.error) throw new Error(`${method}: ${j.error.message}`);
  return j.result;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function load(url, keyFile, genesisFile, seconds) {
  const key = hexToBytes('0x' + readFileSync(keyFile, 'utf8').trim());
  const from = createAddressFromPrivateKey(key).toString();
  const common = createCommonFromGethGenesis(JSON.parse(readFileSync(genesisFile, 'utf8')), { chain: 'assaydev' });
  const tEnd = Date.now() + seconds * 1000;
  let nextTx = Date.now() + 3000;
  let nonce = null;
  let sent = 0, reads = 0, errors = 0;
  while (Date.now() < tEnd) {
    try {
      const pick = Math.random();
      if (pick < 0.3) await rpc(url, 'eth_blockNumber');
      else if (pick < 0.5) await rpc(url, 'eth_getBlockByNumber', ['latest', true]);
      else if (pick < 0.7) await rpc(url, 'eth_getBalance', [from, 'latest']);
      else if (pick < 0.85) await rpc(url, 'eth_gasPrice');
      else if (pick < 0.95) await rpc(url, 'eth_getTransactionCount', [from, 'pending']);
      else await rpc(url, 'net_peerCount');
      reads++;
      if (Date.now() >= nextTx) {
        if (nonce === null) nonce = BigInt(await rpc(url, 'eth_getTransactionCount', [from, 'pending']));
        const to = bytesToHex(randomBytes(20));
        const tx = createFeeMarket1559Tx({ nonce, to, value: 1000n + BigInt(sent), gasLimit: 21000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n, chainId: common.chainId() }, { common }).sign(key);
        await rpc(url, 'eth_sendRawTransaction', [bytesToHex(tx.serialize())]);
        nonce++;
        sent++;
        nextTx = Date.now() + 3000 + Math.random() * 3000;
      }
    } catch (err) {
      errors++;
      nonce = null;
      if (errors % 20 === 1) console.error(`load: ${err.message}`);
      await sleep(1000);
    }
    await sleep(500 + Math.random() * 1500);
  }
  console.log(`load: ${reads} reads, ${sent} transactions, ${errors} errors`);
}

if (cmd === 'genesis') genesis(rest[0], Number(rest[1] ?? 12), rest[2] ?? 'poa');
else if (cmd === 'load') await load(rest[0], rest[1], rest[2], Number(rest[3] ?? 120));
else {
  console.error('usage: chain.mjs genesis DIR PERIOD_S [poa|pow] | load RPC_URL KEYFILE GENESIS SECONDS');
  process.exit(2);
}
