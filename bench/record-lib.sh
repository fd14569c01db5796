# Shared by bench/record-corpus.sh and bench/record-heldout.sh (sourced, not run): the
# recording lock, starting/stopping workloads in their own process groups, waiting for a quiet
# machine, recording a trace with a neutral command line and re-recording one that foreign load
# spoiled. The sourcing script sets ROOT, W (bench/workloads), OUT (where traces go),
# DURATION, ATTEMPTS, LOCK, REC_NAME (log prefix) and STRAY_RE (a pgrep -f pattern for workload
# processes that may escape their group), and defines one function w_<name> per trace.
PGIDS=()
log() { printf '[%s %(%H:%M:%S)T] %s\n' "$REC_NAME" -1 "$*" >&2; }
lock() { echo "$$ $(date -Is) recording ${OUT#"$ROOT"/}" >"$LOCK"; }
unlock() { rm -f "$LOCK"; }

# start NAME CMD...: runs a workload in its own session/process group, output to a log.
start() {
  local name="$1"; shift
  setsid "$@" >"/tmp/assay-workload-$name.log" 2>&1 </dev/null &
  PGIDS+=("$!")
  log "started $name (pgid $!): $*"
}

# start_hidden NAME SCRIPT ARGS...: like start, but feeds the script to `bash -s`, so that the
# process table shows `bash -s -- ARGS` and not the script's name (which would give the answer
# away, e.g. monero-mine.sh beside a miner renamed python3).
start_hidden() {
  local name="$1" script="$2"; shift 2
  setsid env ASSAY_WORKLOADS="$W" bash -s -- "$@" <"$script" >"/tmp/assay-workload-$name.log" 2>&1 &
  PGIDS+=("$!")
  log "started $name (pgid $!): $script $*"
}

# stop_all: TERM every workload group, wait, KILL what is left, then verify with ps.
stop_all() {
  local g left
  for g in "${PGIDS[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
  for _ in $(seq 1 30); do
    left=0
    for g in "${PGIDS[@]}"; do
      if pgrep -g "$g" >/dev/null 2>&1; then left=1; fi
    done
    [[ $left == 0 ]] && break
    sleep 0.5
  done
  for g in "${PGIDS[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
  PGIDS=()
  sleep 1
  # Anything of ours that escaped its group (daemonized postgres, etc.)?
  local stray
  stray="$(pgrep -af "$STRAY_RE" | grep -v "$REC_NAME" || true)"
  if [[ -n "$stray" ]]; then
    log "killing stray workload processes:"; echo "$stray" >&2
    echo "$stray" | awk '{print $1}' | xargs -r kill -KILL 2>/dev/null || true
  fi
}

REC_PID=""
cleanup() { set +e; [[ -n "$REC_PID" ]] && kill "$REC_PID" 2>/dev/null; stop_all; unlock; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_quiet: wait (up to 10 min) until foreign heavy processes (tsc, node --test and its test
# files, chromium, npm run/test) use less than 10 % of one core together, 5 s in a row. (A
# lingering light test process is not a reason to wait; trace-check.mjs judges afterwards.)
FOREIGN_RE='(^|/)tsc( |$)|node .*--test|\.test\.js|chrom(e|ium)|headless_shell|npm (run|test)'
foreign_cpu() { # % of one core used by foreign processes over the last second
  local pids t0 t1
  pids="$(pgrep -f "$FOREIGN_RE" | tr '\n' ' ')"
  [[ -z "$pids" ]] && { echo 0; return; }
  ticks() { local s=0 p f; for p in $pids; do f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) && s=$((s + ${f% *} + ${f#* })); done; echo $s; }
  t0=$(ticks); sleep 1; t1=$(ticks)
  echo $(( (t1 - t0) * 100 / $(getconf CLK_TCK) ))
}
wait_quiet() {
  local quiet=0 waited=0 c
  while (( quiet < 5 )); do
    c=$(foreign_cpu)
    if (( c >= 10 )); then
      quiet=0
      (( waited % 30 == 0 )) && log "waiting for foreign heavy processes (${c} % of a core): $(pgrep -af "$FOREIGN_RE" | cut -c1-100 | head -3 | tr '\n' ';')"
    else
      quiet=$((quiet + 1))
    fi
    [[ $c == 0 ]] && sleep 1
    waited=$((waited + 1))
    (( waited > ${QUIET_MAX_S:-600} )) && { log "machine not quiet after ${QUIET_MAX_S:-600} s; recording anyway (trace-check decides)"; return 0; }
  done
  return 0
}

# wait_for_line NAME REGEX TIMEOUT_S: waits until the workload's log shows REGEX.
wait_for_line() {
  local f="/tmp/assay-workload-$1.log"
  for _ in $(seq 1 "$3"); do grep -qE "$2" "$f" 2>/dev/null && return 0; sleep 1; done
  log "$1: '$2' not seen in $f after $3 s"; tail -5 "$f" >&2; return 1
}

# rec NAME LABEL PROVENANCE EVASION DESCRIPTION: records $DURATION into test/corpus/NAME.trace.ndjson.
# The recorder is itself a process on the host and appears in the trace with its command line,
# so that command line must not give the answer away: it records with a neutral label to a
# neutral temp path, and the real label, provenance, evasion and description are written into
# the trace header afterwards.
rec() {
  local name="$1" label="$2" prov="$3" evasion="$4" desc="$5"
  local tmp; tmp="$(mktemp -d /tmp/assay-rec.XXXXXX)"
  local args=(record --label general --duration "$DURATION" --out "$tmp/trace.ndjson")
  log "recording $name ($label, $prov${evasion:+, evasion $evasion}) for $DURATION; load: $(cut -d' ' -f1-3 /proc/loadavg)"
  # dist/ may be mid-rebuild by someone else: one retry after a pause.
  # (in the background + wait, so that a TERM/INT to this script is handled at once)
  node dist/cli.js "${args[@]}" & REC_PID=$!
  wait "$REC_PID" || { log "record failed; retrying in 30 s"; sleep 30; node dist/cli.js "${args[@]}" & REC_PID=$!; wait "$REC_PID"; }
  REC_PID=
  LABEL="$label" PROV="$prov" EVASION="$evasion" DESC="$desc" node -e '
    const fs = require("fs"); const [src, dst] = process.argv.slice(1);
    const lines = fs.readFileSync(src, "utf8").split("\n");
    const h = JSON.parse(lines[0]);
    h.label = process.env.LABEL; h.provenance = process.env.PROV; h.description = process.env.DESC;
    if (process.env.EVASION) h.evasion = process.env.EVASION; else delete h.evasion;
    lines[0] = JSON.stringify(h);
    fs.writeFileSync(dst, lines.join("\n"));' "$tmp/trace.ndjson" "$OUT/$name.trace.ndjson"
  rm -rf "$tmp"
}

# run_one NAME: the workload's function under the lock, retried when foreign load spoiled it.
run_one() {
  local name="$1" fn="w_${1//-/_}" try
  declare -F "$fn" >/dev/null || { log "unknown trace $name (see --list)"; return 2; }
  for try in $(seq 1 "$ATTEMPTS"); do
    lock
    wait_quiet
    "$fn"
    stop_all
    unlock
    # CHECK_ARGS_<name>: extra trace-check options for this trace (e.g. --busy REGEX)
    local check_var="CHECK_ARGS_${name//-/_}"
    # shellcheck disable=SC2086
    if node "$W/trace-check.mjs" "$OUT/$name.trace.ndjson" ${!check_var:-}; then return 0; fi
    log "$name: foreign load or an idle workload during the recording (try $try/$ATTEMPTS), re-recording"
    sleep 20
  done
  log "$name: kept the last try despite foreign load"
}
