#!/bin/bash
# Machine instructions per request of a served HTTP hop, under valgrind's callgrind: the server
# process only (user space; the kernel's share is not counted), one wrk connection (c=1),
# collection switched on only around 20 s of requests. Steady to ~0.5% between runs, where
# requests/s on this shared VM move by 30%: use it to compare servers and commits.
#
#   bench/perf/served_instructions.sh tiergate|hit|floor|passthrough json|sse
#
# The request bodies are the benchmark's (bench/perf/matrix.py): `model: auto` for tiergate, the
# same with `temperature: 0` for `hit` (tiergate again: the warm-up stores the answer, and every
# counted request is an exact cache hit), the simulator's model for the relays. Every server runs
# the code of the directory the script runs in (`python -m`, not an installed entry point), so a
# git worktree of another commit measures that commit.
# Needs valgrind and wrk; run from the repository root after `make .venv/.synced` (the
# pass-through needs the benchmark's tools venv, which `make bench` creates). Ports 18000-18001.
set -euo pipefail
target=$1
mode=$2
scratch=$(mktemp -d)
trap 'kill "${sim:-}" "${server:-}" 2>/dev/null || true; rm -rf "$scratch"' EXIT
case $target in
  tiergate) kind=gateway ;;
  hit) kind=cache_hit ;;
  *) kind=upstream ;;
esac
body=$(.venv/bin/python -c "
from pathlib import Path
from bench.perf.matrix import write_bodies
print(write_bodies(Path('$scratch'))['$kind']['$mode'])")

taskset -c 1 .venv/bin/tiergate sim --latency-scale 0 --stream-chunks 20 --port 18001 \
  >/dev/null 2>&1 &
sim=$!
upstream=http://127.0.0.1:18001/v1
case $target in
  tiergate|hit)
    command=(.venv/bin/python -m app.cli serve --port 18000)
    export TIERGATE_UPSTREAM_BASE_URL=$upstream TIERGATE_UPSTREAM_API_KEY=bench
    export TIERGATE_UPSTREAM_MODE=http ;;
  floor)
    command=(.venv/bin/python -m bench.perf.stack_floor --port 18000 --upstream "$upstream") ;;
  passthrough)
    tools=$(.venv/bin/python -c "from bench.perf.tools import tools_venv; print(tools_venv())")
    command=("$tools/bin/python" bench/perf/passthrough.py --port 18000 --upstream "$upstream") ;;
  *) echo "target: tiergate, hit, floor or passthrough" >&2; exit 2 ;;
esac
taskset -c 0 valgrind --tool=callgrind --instr-atstart=no \
  --callgrind-out-file="$scratch/callgrind.out" "${command[@]}" >"$scratch/log" 2>&1 &
server=$!
for _ in $(seq 120); do
  curl -s -o /dev/null -X POST http://127.0.0.1:18000/v1/chat/completions && break
  sleep 1
done

load() {
  BODY_FILE=$body taskset -c 1 wrk -t1 -c1 -d"$1"s -s bench/perf/post.lua \
    http://127.0.0.1:18000/v1/chat/completions
}
load 8 >/dev/null  # warm-up: imports, caches, the upstream connection
callgrind_control -i on "$server" >/dev/null 2>&1
measured=$(load 20)
callgrind_control -i off "$server" >/dev/null 2>&1
requests=$(awk '/requests in/ {print $1}' <<<"$measured")
errors=$(awk '/Non-2xx/ {print $NF}' <<<"$measured")
kill -INT "$server"
wait "$server" || true
instructions=$(awk '/Collected :/ {print $4}' "$scratch/log")
echo "$target $mode: $requests requests (non-2xx: ${errors:-0}), $((instructions / requests)) instructions per request"
