// storage-proving workload for the Assay corpus (EMULATED: no real Filecoin or Chia prover
// installs from the package registries this machine can reach). A behaviour-faithful stand-in:
// it really seals sectors with layered SHA-256 and really answers random challenges against the
// sealed replica on a period. Build: g++ -O2 -pthread -o worker storage-prover.cpp -lcrypto
// (bench/workloads/storage-prover.sh does it). Traces made with it are labelled provenance
// `emulated`.
//
// What it does
//   seal (per sector, one thread each, like one PC1 worker per sector):
//     AddPiece: writes SECTOR bytes of piece data (unsealed sector file).
//     PreCommit1 / SDR: LAYERS (11, as Filecoin SDR) labelling layers over the sector's 32-byte
//       nodes. Node i of layer l = SHA-256(replica_id || l || i || label[i-1] || 5 more "DRG"
//       parents from earlier nodes of the same layer || 8 "expander" parents from layer l-1),
//       i.e. 14 parents like SDR's 6 base + 8 expander parents. Each node depends on the one
//       before it, so a layer is strictly sequential (one core per sector), and the parents are
//       random reads over the whole previous layer (memory-bound, as SDR is). Every finished layer
//       is written to disk (the "layer cache" that PC2 reads).
//     Encoding: replica = piece data + last layer (byte-wise add mod 256 here; the field add mod
//       the BLS12-381 scalar prime in Filecoin), written as the sealed replica file.
//     PreCommit2 (tree_r_last): a binary SHA-256 Merkle tree over the replica (Poseidon, 8-ary in
//       Filecoin), stored level by level in a tree file; the root is kept (CommR stand-in).
//     The layer cache is then deleted and the page cache for the replica and tree dropped, so
//       proving reads come from the disk as on a real storage host whose sectors far exceed RAM.
//   prove (forever until --seconds): every PERIOD seconds (default 9.375 s: Chia's signage-point
//     interval; Filecoin WindowPoSt runs every 30-min deadline — use --period 1800 for that),
//     for each sector: CHALLENGES random 32-byte-aligned leaves; for each, a pread of the 4 KiB
//     block holding it (O_DIRECT when the file system allows it), then the Merkle path: one read
//     per tree level, hashing up to the root and checking it against CommR. Then a short
//     all-core compute burst (--proof-ms, default 600 ms of SHA-256 on every core) that stands
//     in for building the proof (Chia's proof of space quality / Filecoin's Groth16 SNARK, the
//     latter being far heavier on real sectors). Between rounds it sleeps.
//
// Sources
//   - Filecoin sealing (AddPiece, PreCommit1/SDR with 11 layers, PreCommit2, Commit) and
//     WindowPoSt (48 deadlines of 30 minutes per day, random challenges per sector):
//     https://docs.filecoin.io/basics/the-blockchain/proofs ;
//     https://spec.filecoin.io/algorithms/sdr/ (Stacked DRG: base degree 6, expander degree 8,
//     11 layers for 32 GiB / 64 GiB sectors) ; https://spec.filecoin.io/algorithms/pos/post/
//   - rust-fil-proofs (SDR implementation, layer cache, tree_r_last):
//     https://github.com/filecoin-project/rust-fil-proofs
//   - Chia proof of space and farming (signage point every 9.375 s, 64 per 10-minute sub-slot;
//     plot filter; ~7 random disk lookups for a quality, 64 for a full proof):
//     https://docs.chia.net/consensus-intro/ , https://docs.chia.net/proof-of-space/
//
// Usage: worker --dir DIR [--sector-mib 256] [--sectors 2] [--layers 11] [--period 9.375]
//                   [--challenges 64] [--proof-ms 600] [--seconds 600] [--prove-only]
#include <openssl/sha.h>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using Clock = std::chrono::steady_clock;
static std::atomic<bool> g_stop{false};
static void on_signal(int) { g_stop = true; }

struct Opts {
  std::string dir = "/tmp/job.sp";
  uint64_t sector_mib = 256;
  int sectors = 2;
  int layers = 11;
  double period = 9.375;
  int challenges = 64;
  int proof_ms = 600;
  double seconds = 600;
  bool prove_only = false;
};

static void die(const char* what) {
  perror(what);
  exit(1);
}

static void write_all(int fd, const uint8_t* p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) die("write");
    p += w;
    n -= (size_t)w;
  }
}

static void write_file(const std::string& path, const uint8_t* p, size_t n) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) die(path.c_str());
  for (size_t off = 0; off < n; off += 8 << 20) write_all(fd, p + off, std::min<size_t>(8 << 20, n - off));
  fdatasync(fd);
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  close(fd);
}

static inline uint64_t mix(uint64_t x) {  // splitmix64: the parent "graph" is a fixed pseudo-random function
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

static std::string sector_path(const Opts& o, int s, const char* kind) {
  return o.dir + "/s-" + std::to_string(s) + "-" + kind;
}

// Returns the Merkle root of the replica.
static void seal_sector(const Opts& o, int s, uint8_t root_out[32]) {
  const uint64_t bytes = o.sector_mib << 20, nodes = bytes / 32;
  std::vector<uint8_t> data(bytes), prev(bytes), cur(bytes);
  uint8_t replica_id[32];
  SHA256((const uint8_t*)&s, sizeof s, replica_id);
  // AddPiece: piece data.
  std::mt19937_64 rng(1000 + s);
  for (uint64_t i = 0; i < bytes / 8; i++) ((uint64_t*)data.data())[i] = rng();
  write_file(sector_path(o, s, "unsealed"), data.data(), bytes);
  fprintf(stderr, "worker: sector %d: piece written (%llu MiB)\n", s, (unsigned long long)o.sector_mib);
  // PC1: SDR layers.
  for (int l = 1; l <= o.layers && !g_stop; l++) {
    auto t0 = Clock::now();
    for (uint64_t i = 0; i < nodes; i++) {
      SHA256_CTX c;
      SHA256_Init(&c);
      SHA256_Update(&c, replica_id, 32);
      uint64_t hdr[2] = {(uint64_t)l, i};
      SHA256_Update(&c, hdr, sizeof hdr);
      if (i > 0) {
        SHA256_Update(&c, &cur[(i - 1) * 32], 32);
        for (int k = 0; k < 5; k++) SHA256_Update(&c, &cur[(mix(i * 16 + k) % i) * 32], 32);
      }
      if (l > 1)
        for (int k = 0; k < 8; k++) SHA256_Update(&c, &prev[(mix((i << 8) ^ (l * 131 + k)) % nodes) * 32], 32);
      SHA256_Final(&cur[i * 32], &c);
      cur[i * 32 + 31] &= 0x3f;  // keep labels "in the field", as SDR truncates to 254 bits
      if ((i & 0xffff) == 0 && g_stop) break;
    }
    write_file(sector_path(o, s, ("layer-" + std::to_string(l)).c_str()), cur.data(), bytes);
    fprintf(stderr, "worker: sector %d: layer %d/%d in %.1f s\n", s, l, o.layers,
            std::chrono::duration<double>(Clock::now() - t0).count());
    std::swap(prev, cur);
  }
  if (g_stop) return;
  // Encode: replica = data + key (last layer, now in prev).
  for (uint64_t i = 0; i < bytes; i++) data[i] = (uint8_t)(data[i] + prev[i]);
  write_file(sector_path(o, s, "sealed"), data.data(), bytes);
  // PC2: tree_r_last over the replica, stored level by level (leaves are the replica itself).
  std::vector<uint8_t> level(data), tree;
  while (level.size() > 32) {
    std::vector<uint8_t> up(level.size() / 2);
    for (size_t j = 0; j < up.size() / 32; j++) SHA256(&level[j * 64], 64, &up[j * 32]);
    tree.insert(tree.end(), up.begin(), up.end());
    level.swap(up);
  }
  memcpy(root_out, level.data(), 32);
  write_file(sector_path(o, s, "tree-r-last"), tree.data(), tree.size());
  for (int l = 1; l <= o.layers; l++) unlink(sector_path(o, s, ("layer-" + std::to_string(l)).c_str()).c_str());
  fprintf(stderr, "worker: sector %d sealed\n", s);
}

static int open_for_proving(const std::string& path, bool* direct) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECT);
  *direct = fd >= 0;
  if (fd < 0) fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) die(path.c_str());
  return fd;
}

static void read_block(int fd, bool direct, uint64_t off, uint8_t* out32) {
  alignas(4096) static thread_local uint8_t buf[4096];
  uint64_t base = off & ~4095ULL;
  ssize_t r = pread(fd, buf, 4096, (off_t)base);
  if (r < (ssize_t)(off - base + 32)) die("pread");
  memcpy(out32, buf + (off - base), 32);
  if (!direct) posix_fadvise(fd, (off_t)base, 4096, POSIX_FADV_DONTNEED);
}

static void prove(const Opts& o, const std::vector<std::array<uint8_t, 32>>& roots, Clock::time_point t_end) {
  const uint64_t bytes = o.sector_mib << 20, leaves = bytes / 32;
  std::vector<int> rfd(o.sectors), tfd(o.sectors);
  std::vector<bool> rdirect(o.sectors), tdirect(o.sectors);
  for (int s = 0; s < o.sectors; s++) {
    bool d;
    rfd[s] = open_for_proving(sector_path(o, s, "sealed"), &d);
    rdirect[s] = d;
    tfd[s] = open_for_proving(sector_path(o, s, "tree-r-last"), &d);
    tdirect[s] = d;
  }
  std::mt19937_64 rng(42);
  uint64_t round = 0, bad = 0;
  auto next = Clock::now();
  while (!g_stop && Clock::now() < t_end) {
    auto t0 = Clock::now();
    for (int s = 0; s < o.sectors; s++) {
      for (int c = 0; c < o.challenges; c++) {
        uint64_t idx = rng() % leaves;
        uint8_t h[32], sib[32], pair[64];
        read_block(rfd[s], rdirect[s], idx * 32, h);
        // Merkle path: sibling at each level; levels are stored one after another in the tree file.
        read_block(rfd[s], rdirect[s], (idx ^ 1) * 32, sib);
        uint64_t level_off = 0, level_nodes = leaves, j = idx;
        bool first = true;
        while (level_nodes > 1) {
          if (!first) read_block(tfd[s], tdirect[s], (level_off + (j ^ 1)) * 32, sib);
          if (!first) level_off += level_nodes;
          first = false;
          if (j & 1) { memcpy(pair, sib, 32); memcpy(pair + 32, h, 32); }
          else { memcpy(pair, h, 32); memcpy(pair + 32, sib, 32); }
          SHA256(pair, 64, h);
          j >>= 1;
          level_nodes >>= 1;
        }
        if (memcmp(h, roots[s].data(), 32) != 0) bad++;
      }
    }
    // Proof computation burst on every core.
    unsigned nt = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> th;
    auto burst_end = Clock::now() + std::chrono::milliseconds(o.proof_ms);
    for (unsigned t = 0; t < nt; t++)
      th.emplace_back([burst_end, t] {
        uint8_t x[64] = {(uint8_t)t};
        while (Clock::now() < burst_end)
          for (int k = 0; k < 4096; k++) SHA256(x, 64, x);
      });
    for (auto& t : th) t.join();
    round++;
    fprintf(stderr, "worker: proof round %llu: %d challenges/sector in %.2f s, %llu failed\n",
            (unsigned long long)round, o.challenges, std::chrono::duration<double>(Clock::now() - t0).count(),
            (unsigned long long)bad);
    next += std::chrono::microseconds((int64_t)(o.period * 1e6));
    while (!g_stop && Clock::now() < next) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

int main(int argc, char** argv) {
  Opts o;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto val = [&]() -> const char* { if (i + 1 >= argc) { fprintf(stderr, "missing value for %s\n", a.c_str()); exit(2); } return argv[++i]; };
    if (a == "--dir") o.dir = val();
    else if (a == "--sector-mib") o.sector_mib = strtoull(val(), nullptr, 10);
    else if (a == "--sectors") o.sectors = atoi(val());
    else if (a == "--layers") o.layers = atoi(val());
    else if (a == "--period") o.period = atof(val());
    else if (a == "--challenges") o.challenges = atoi(val());
    else if (a == "--proof-ms") o.proof_ms = atoi(val());
    else if (a == "--seconds") o.seconds = atof(val());
    else if (a == "--prove-only") o.prove_only = true;
    else { fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  auto t_end = Clock::now() + std::chrono::milliseconds((int64_t)(o.seconds * 1000));
  std::string mk = "mkdir -p '" + o.dir + "'";
  if (system(mk.c_str()) != 0) die("mkdir");
  std::vector<std::array<uint8_t, 32>> roots(o.sectors);
  std::string roots_path = o.dir + "/comm-r";
  if (o.prove_only) {
    FILE* f = fopen(roots_path.c_str(), "rb");
    if (!f || fread(roots.data(), 32, o.sectors, f) != (size_t)o.sectors) die(roots_path.c_str());
    fclose(f);
  } else {
    auto t0 = Clock::now();
    std::vector<std::thread> th;
    for (int s = 0; s < o.sectors; s++) th.emplace_back([&, s] { seal_sector(o, s, roots[s].data()); });
    for (auto& t : th) t.join();
    if (g_stop) return 0;
    FILE* f = fopen(roots_path.c_str(), "wb");
    fwrite(roots.data(), 32, o.sectors, f);
    fclose(f);
    fprintf(stderr, "worker: sealed %d sector(s) in %.1f s; proving\n", o.sectors,
            std::chrono::duration<double>(Clock::now() - t0).count());
  }
  prove(o, roots, t_end);
  return 0;
}
