// Hardhat Network config for bench/workloads/hardhat-chain.sh: a local dev chain that mines a
// block every 12 s (interval mining, automine off: transactions wait in the mempool for the
// next block, as on a real chain), no forking, nothing remote.
// https://hardhat.org/hardhat-network/docs/reference#mining-modes
module.exports = {
  networks: {
    hardhat: {
      chainId: 31337,
      mining: { auto: false, interval: 12000, mempool: { order: 'fifo' } },
      accounts: { count: 20 },
    },
  },
};
