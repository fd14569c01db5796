#!/usr/bin/env bash
# Benign look-alike for the Assay corpus: a C++ build with g++ -O2 and make -j2.
#
# What it does: generates a small C++17 project (24 translation units, each instantiating
# std::map / std::unordered_map / std::regex / std::sort / iostreams over its own types, a
# header shared by all of them, and a main) plus a Makefile, then runs `make -j2` (clean
# rebuild) in a loop until --seconds are up.
# How it mirrors the real thing: a build farm or developer build is many short-lived compiler
# processes (cc1plus, as, ld), each seconds long, all cores busy with a sawtooth as processes come
# and go, reading headers and writing objects: busy but neither mining nor training.
# Sources: GNU make parallel execution https://www.gnu.org/software/make/manual/html_node/Parallel.html ;
# GCC https://gcc.gnu.org/onlinedocs/gcc/Optimize-Options.html
#
# Usage: cpp-compile.sh [--seconds N]
set -euo pipefail
SECS=300
[[ "${1:-}" == --seconds ]] && SECS="$2"
WORK="$(mktemp -d /tmp/assay-cpp.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
trap 'exit 0' TERM INT
cat >"$WORK/common.hpp" <<'H'
#pragma once
#include <algorithm>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>
template <typename K, typename V> struct Table {
  std::map<K, V> ordered; std::unordered_map<K, V> hashed;
  void put(const K& k, const V& v) { ordered[k] = v; hashed[k] = v; }
  std::vector<V> sorted() const { std::vector<V> out; for (auto& [k, v] : ordered) out.push_back(v); std::sort(out.begin(), out.end()); return out; }
};
H
OBJS=""
for i in $(seq 1 24); do
  cat >"$WORK/unit$i.cpp" <<C
#include "common.hpp"
namespace u$i {
struct Rec { int id; double w; std::string name; bool operator<(const Rec& o) const { return w < o.w; } };
std::string run(const std::string& in) {
  Table<std::string, Rec> t; std::regex re("([a-z]+)([0-9]+)"); std::smatch m; std::string s = in;
  int n = 0; while (std::regex_search(s, m, re)) { t.put(m[1].str(), Rec{n++, std::stod(m[2].str()) * $i, m[0].str()}); s = m.suffix(); }
  std::ostringstream os; for (auto& r : t.sorted()) os << r.name << ':' << r.w << ' ';
  Table<int, std::vector<std::string>> t2; for (int k = 0; k < $i; k++) t2.put(k, {os.str()});
  return os.str() + std::to_string(t2.sorted().size());
}
}
std::string run$i(const std::string& in) { return u$i::run(in); }
C
  OBJS="$OBJS unit$i.o"
done
{
  echo '#include "common.hpp"'
  for i in $(seq 1 24); do echo "std::string run$i(const std::string&);"; done
  echo 'int main() { std::string s = "abc12 def34 ghi56"; size_t n = 0;'
  for i in $(seq 1 24); do echo "n += run$i(s).size();"; done
  echo 'std::cout << n << "\n"; }'
} >"$WORK/main.cpp"
printf 'CXXFLAGS=-O2 -std=c++17\nOBJS=%s main.o\napp: $(OBJS)\n\t$(CXX) -o $@ $(OBJS)\n%%.o: %%.cpp common.hpp\n\t$(CXX) $(CXXFLAGS) -c -o $@ $<\nclean:\n\trm -f *.o app\n' "$OBJS" >"$WORK/Makefile"
T_END=$((SECONDS + SECS))
builds=0
while (( SECONDS < T_END )); do
  make -s -C "$WORK" clean
  timeout --foreground -s INT $((T_END - SECONDS + 1)) make -s -j2 -C "$WORK" app >/dev/null 2>&1 || true
  builds=$((builds + 1))
done
echo "cpp-compile: $builds builds"
