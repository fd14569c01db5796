#!/usr/bin/env bash
# storage-proving workload for the Assay held-out traces: Chia's proof of space, with the REAL
# reference implementation (chiapos' `ProofOfSpace` command-line tool, built locally from the
# upstream Chia-Network/chiapos source; neither its code nor the binary nor its build steps are
# in this repository: pass its path with --bin).
#
# Phases
#   plot   plotting: `ProofOfSpace create -k K -r 2` again and again into a work dir (each plot
#          deleted after it is made): the forward propagation of the 7 tables (F1 with ChaCha8,
#          F2..F7 with BLAKE3), sort-on-disk passes, back-propagation, compression and the
#          checkpoint tables — CPU, memory buffers and heavy temp-file writes/reads.
#          Real plots are k=32 (~101 GiB, hours); k=22 (~70 MB, ~20 s here) keeps each plot
#          inside the recording.
#   prove  farming: every 9.375 s (a Chia signage point: 64 per 10-minute sub-slot) a new
#          32-byte challenge, and for each plot in --plots-dir `ProofOfSpace prove <challenge>`
#          (quality lookup plus the full proof: 64 x-values read from the plot's tables), then
#          `ProofOfSpace verify` of the first proof found, as a harvester + farmer do. Before
#          each round the plots' page cache is dropped (dd iflag=nocache count=0), so the
#          lookups read the disk as on a farm whose plots far exceed its RAM. The plots
#          (--plots N of size -k K) are made first, outside the recording.
# Sources: https://docs.chia.net/proof-of-space/ ; https://docs.chia.net/consensus-intro/
#   (signage points every 9.375 s) ; https://github.com/Chia-Network/chiapos (src/cli.cpp).
#
# Usage: chia-pos.sh --bin PATH --phase plot|prove [--k 22] [--plots 6] [--plots-dir DIR]
#                    [--seconds N]
set -euo pipefail
BIN=""
PHASE=""
K=""
NPLOTS=6
PLOTS_DIR=""
SECS=300
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) BIN="$2"; shift 2 ;;
    --phase) PHASE="$2"; shift 2 ;;
    --k) K="$2"; shift 2 ;;
    --plots) NPLOTS="$2"; shift 2 ;;
    --plots-dir) PLOTS_DIR="$2"; shift 2 ;;
    --seconds) SECS="$2"; shift 2 ;;
    *) echo "chia-pos: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -x "$BIN" ]] || { echo "chia-pos: --bin must point to a built ProofOfSpace" >&2; exit 2; }
WORK="$(mktemp -d /tmp/job.XXXXXX)"
CHILD=""
cleanup() { set +e; [[ -n "$CHILD" ]] && kill -TERM "$CHILD" 2>/dev/null; sleep 0.3; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 0' TERM INT
END=$((SECONDS + SECS))
left() { echo $((END - SECONDS)); }
plot_id() { printf '%s' "$1" | sha256sum | cut -c1-64; }

case "$PHASE" in
  plot)
    K="${K:-22}"
    n=0
    echo "plotting k=$K"
    while (( $(left) > 1 )); do
      n=$((n + 1))
      timeout "$(left)" "$BIN" create -k "$K" -r 2 -b 512 -f "plot-$n.plot" -t "$WORK" -2 "$WORK" -d "$WORK" \
        -i "$(plot_id "plot-$n-$RANDOM")" >"$WORK/create.log" 2>&1 & CHILD=$!
      wait "$CHILD" || true
      grep -E "Total time" "$WORK/create.log" || true
      rm -f "$WORK"/plot-*
    done ;;
  prove)
    K="${K:-21}"
    DIR="${PLOTS_DIR:-$WORK/plots}"
    mkdir -p "$DIR"
    for i in $(seq 1 "$NPLOTS"); do
      [[ -f "$DIR/plot-k$K-$i.plot" ]] && continue
      echo "making plot $i/$NPLOTS (k=$K)"
      "$BIN" create -k "$K" -r 2 -b 512 -f "plot-k$K-$i.plot" -t "$DIR" -2 "$DIR" -d "$DIR" -i "$(plot_id "farm-$K-$i")" >/dev/null
    done
    echo "farming $NPLOTS plots"
    sp=0
    while (( $(left) > 1 )); do
      t_next=$(( $(date +%s%N) + 9375000000 ))
      sp=$((sp + 1))
      challenge="$(printf 'signage-point-%d-%s' "$sp" "$$" | sha256sum | cut -c1-64)"
      found=0
      for f in "$DIR"/plot-k"$K"-*.plot; do
        dd if="$f" iflag=nocache count=0 status=none 2>/dev/null || true
        out="$(cd "$WORK" && timeout 30 "$BIN" prove "$challenge" -f "$f" 2>/dev/null || true)"
        proof="$(printf '%s\n' "$out" | sed -n 's/^Proof: 0x//p' | head -1)"
        if [[ -n "$proof" ]]; then
          found=$((found + 1))
          (cd "$WORK" && timeout 30 "$BIN" -k "$K" verify "$proof" "$challenge" >/dev/null 2>&1) || true
        fi
      done
      echo "signage point $sp: proofs from $found of $NPLOTS plots"
      now=$(date +%s%N)
      (( t_next > now )) && sleep "$(awk -v d=$(( t_next - now )) 'BEGIN{printf "%.3f", d/1e9}')"
    done ;;
  *) echo "chia-pos: --phase plot|prove" >&2; exit 2 ;;
esac
