# shellcheck shell=bash
# Helpers bench/run's scenarios share; sourced by bench/run, which sets $work, $build, $runs,
# $quick and the pids array (everything in it is stopped on exit).

nhpush=$build/daemon/nhpush
nhpushd=$build/daemon/nhpushd
bench=$build/bench/nhpush-bench
hubsim=$build/tools/hubsim/nhpush-hubsim

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 200); do eval "$1" 2>/dev/null && return; sleep 0.05; done; echo "bench/run: $2 did not start" >&2; exit 1; }

# stop_pid PID: SIGTERM, then SIGKILL after 5 s (nhpushd drains its queue on SIGTERM, which at
# hub latency can take long); forgets the pid so the exit trap does not signal it again.
stop_pid() {
    local pid=$1 kept=() p
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    for p in "${pids[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
    pids=("${kept[@]}")
}

# json_set JSON KEY=VALUE…: JSON with the fields set; VALUE is parsed as JSON, else kept as a string.
json_set() {
    python3 - "$@" <<'PY'
import json, sys
doc = json.loads(sys.argv[1])
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    try:
        doc[k] = json.loads(v)
    except ValueError:
        doc[k] = v
print(json.dumps(doc))
PY
}
json_get() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"; }
skipped() { python3 -c 'import json,sys; print(json.dumps({"skipped": sys.argv[1]}))' "$1"; }

# nhpush-bench exits 1 when some notifications were not sent (e.g. still queued at the time limit):
# the report is still the measurement. 2 (bad command line, daemon unreachable) stops bench/run.
bench_json() { "$bench" "$@" --json --no-progress || [ $? -eq 1 ]; }

# --- the hub under test: $hub_port, $hub_ca, $cs (its connection string), and the request ---
key_b64=YmVuY2gta2V5
cs_for_port() { echo "Endpoint=sb://127.0.0.1:$1/;SharedAccessKeyName=bench;SharedAccessKey=$key_b64"; }
hub_stats=0  # 1 when the hub is nhpush-hubsim: rows then report the connections each run opened

# start_hubsim ARGS…: nhpush-hubsim on a free loopback port with its generated certificate.
start_hubsim() {
    "$hubsim" --listen 127.0.0.1:0 --cert-out "$work/hubsim.pem" --connection-string "$(cs_for_port 1)" \
        "$@" > "$work/hubsim.out" 2> "$work/hubsim.err" &
    hubsim_pid=$!
    pids+=("$hubsim_pid")
    wait_for "grep -q '^listening on ' $work/hubsim.out" nhpush-hubsim
    hub_port=$(sed -n 's/^listening on 127\.0\.0\.1://p' "$work/hubsim.out")
    hub_ca=$work/hubsim.pem
    cs=$(cs_for_port "$hub_port")
    hub_stats=1
    make_request
}
# HTTP/1.1, so that reading the stats adds no h2 connection; it adds one connection, taken off below.
hub_snapshot() { curl -sf --http1.1 --cacert "$hub_ca" "https://127.0.0.1:$hub_port/\$stats"; }
# hub_delta SAMPLE BEFORE AFTER: SAMPLE with what hubsim saw between its two /$stats: the
# connections opened and, from a hubsim that speaks h2, the protocol the requests came in.
hub_delta() {
    python3 - "$@" <<'PY'
import json, sys
sample, before, after = (json.loads(a) for a in sys.argv[1:4])
delta = lambda k: after.get(k, 0) - before.get(k, 0)
sample["connections_opened"] = delta("connections") - 1  # the second snapshot's own
if "requests_h2" in after:
    sample["connections_h2_opened"] = delta("connections_h2")
    h2, h1 = delta("requests_h2"), delta("requests_http1")
    sample["hub_protocol"] = "h2" if h1 == 0 and h2 else "http/1.1" if h2 == 0 and h1 else \
        "none" if not h1 + h2 else f"mixed: {h2} h2, {h1} http/1.1"
print(json.dumps(sample))
PY
}
# hub_faults JSON: changes hubsim's faults while it runs (e.g. '{"latency_ms":10}').
hub_faults() {
    curl -sf --cacert "$hub_ca" -X PATCH "https://127.0.0.1:$hub_port/\$admin/faults" -d "$1" > /dev/null
}

# make_request: the one NH send request wrk and h2load both send (200-byte apple notification,
# valid SAS token): $work/post.lua for wrk, $work/body.json and the h2load_headers array.
make_request() {
    local token payload
    token=$("$nhpush" sas-token --connection-string "$cs" --hub hub --expiry $(( $(date +%s) + 3600 )))
    payload="{\"aps\":{\"alert\":\"$(head -c 178 /dev/zero | tr '\0' x)\"}}"
    printf '%s' "$payload" > "$work/body.json"
    request_path="/hub/messages?api-version=2020-06"
    local -A headers=(
        [Content-Type]="application/json;charset=utf-8"
        [ServiceBusNotification-Format]=apple
        [apns-push-type]=alert
        [Authorization]="$token"
    )
    h2load_headers=()
    {
        echo "wrk.method = \"POST\""
        echo "wrk.path = \"$request_path\""
        echo "wrk.body = '$payload'"
        for h in "${!headers[@]}"; do
            echo "wrk.headers[\"$h\"] = \"${headers[$h]}\""
            h2load_headers+=(-H "$h: ${headers[$h]}")
        done
    } > "$work/post.lua"
    # The hub must accept it: a benchmark of 4xx answers would measure nothing. (curl's exit status
    # is ignored: over h2 nginx answers before reading the body and resets the stream, which curl
    # reports as an error after the 201.)
    local status
    status=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$hub_ca" -X POST "${h2load_headers[@]}" \
        --data-binary "@$work/body.json" "https://127.0.0.1:$hub_port$request_path" || true)
    [ "$status" = 201 ] || { echo "bench/run: the hub answered $status to the benchmark request" >&2; exit 1; }
    if hub_speaks_h2; then hub_h2=1; else hub_h2=0; fi
}

# hub_speaks_h2: whether the hub picks h2 by ALPN (asked once, by make_request: $hub_h2).
hub_speaks_h2() {
    [ "$(curl -s -o /dev/null --http2 -w '%{http_version}' --cacert "$hub_ca" -X POST "${h2load_headers[@]}" \
        --data-binary "@$work/body.json" "https://127.0.0.1:$hub_port$request_path")" = 2 ]
}

# --- load generators; each prints one JSON sample with per_second ---

run_wrk() {  # run_wrk CONNECTIONS SECONDS
    wrk -t1 -c"$1" -d"$2"s --latency -s "$work/post.lua" "https://127.0.0.1:$hub_port/" | python3 -c '
import json, re, sys
unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}
out, latency = {"protocol": "http/1.1", "connections": int(sys.argv[1])}, {}
for line in sys.stdin:
    if m := re.match(r"\s+(50|90|99)%\s+([\d.]+)(us|ms|s)", line):
        latency["p" + m[1]] = float(m[2]) * unit[m[3]]
    elif line.startswith("Requests/sec:"):
        out["per_second"] = float(line.split()[1])
    elif "Non-2xx" in line:
        out["non_2xx"] = int(line.split()[-1])
out["latency_ms"] = latency
print(json.dumps(out))' "$1"
}

# run_h2load CONNECTIONS COUNT TIME_LIMIT: h2load -c C -m 100 -n N with the same request as wrk;
# latency percentiles from its per-request log. Skipped when the hub does not speak h2.
run_h2load() {
    local c=$1 n=$2 limit=$3
    [ "$hub_h2" = 1 ] || { skipped "hub does not speak h2"; return; }
    rm -f "$work/h2load.log"
    timeout "$limit" h2load -t1 -c "$c" -m 100 -n "$n" -d "$work/body.json" "${h2load_headers[@]}" \
        --log-file="$work/h2load.log" "https://127.0.0.1:$hub_port$request_path" > "$work/h2load.out" ||
        { skipped "h2load failed or passed ${limit}s: $(tail -1 "$work/h2load.out")"; return; }
    python3 - "$work/h2load.out" "$work/h2load.log" "$c" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
m = re.search(r"finished in ([\d.]+)(us|ms|s),", text)
seconds = float(m[1]) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[m[2]]
ok = int(re.search(r"status codes: (\d+) 2xx", text)[1])
durations = sorted(int(l.split("\t")[2]) / 1000 for l in open(sys.argv[2]) if l.strip())
pick = lambda q: durations[min(len(durations) - 1, int(q * len(durations)))] if durations else 0
print(json.dumps({"protocol": "h2", "connections": int(sys.argv[3]), "streams": 100, "ok": ok,
                  "seconds": seconds, "per_second": ok / seconds if seconds else 0,
                  "latency_ms": {"p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99), "max": pick(1.0)}}))
PY
}

# run_js CONCURRENCY COUNT TIME_LIMIT: the official JS SDK (tests/sdk-js/bench-sender.mjs).
run_js() {
    (cd tests/sdk-js && NODE_EXTRA_CA_CERTS="$hub_ca" BENCH_CONNECTION_STRING="$cs" BENCH_HUB=hub \
        COUNT=$2 CONCURRENCY=$1 TIME_LIMIT=$3 timeout $(($3 * 3 + 30)) node bench-sender.mjs) |
        python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); d.update(concurrency=int(sys.argv[1]), protocol="http/1.1"); print(json.dumps(d))' "$1"
}

# --- nhpushd ---

# nhpushd_config NAME KEY=VALUE…: writes $work/NAME.toml, nhpushd with its socket at $work/NAME.sock
# and one hub "main" at $cs; only the [hubs.main] keys given are set (values verbatim TOML). Tables
# in $nhpushd_tables (e.g. [spool]) follow.
nhpushd_config() {
    local name=$1 kv
    shift
    printf '%s\n' "$cs" > "$work/$name.cs"
    chmod 600 "$work/$name.cs"
    {
        printf '[daemon]\nsocket = "%s"\n' "$work/$name.sock"
        [ -z "${nhpushd_daemon_keys:-}" ] || printf '%s\n' "$nhpushd_daemon_keys"
        printf '[hubs.main]\nhub = "hub"\nconnection_string_file = "%s"\nca_file = "%s"\n' "$work/$name.cs" "$hub_ca"
        for kv in "$@"; do printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"; done
        [ -z "${nhpushd_tables:-}" ] || printf '%s\n' "$nhpushd_tables"
    } > "$work/$name.toml"
}

# start_nhpushd NAME: starts nhpushd on $work/NAME.toml and sets $nhpushd_pid; returns 1 with the
# reason in $nhpushd_refused if nhpushd refuses the configuration (e.g. a key this build does not
# know). Call it outside $(…): the pid must reach the exit trap.
start_nhpushd() {
    local name=$1
    rm -f "$work/$name.sock"
    if ! "$nhpushd" --config "$work/$name.toml" --check-config > "$work/$name.check" 2>&1; then
        nhpushd_refused=$(tail -1 "$work/$name.check")
        return 1
    fi
    "$nhpushd" --config "$work/$name.toml" >> "$work/$name.log" 2>&1 &
    nhpushd_pid=$!
    pids+=("$nhpushd_pid")
    wait_for "[ -S $work/$name.sock ]" "nhpushd ($name)"
}

# --- rows ---

# row SCENARIO NAME COMMAND…: runs COMMAND $runs times (each run prints one JSON sample) and appends
# the median sample, by per_second, to $work/rows.ndjson as row NAME of SCENARIO, with the min and
# max beside it. Against hubsim each sample also says what the hub saw (hub_delta).
row() {
    local scenario=$1 name=$2
    shift 2
    row_start "$scenario" "$name"
    for _ in $(seq "$runs"); do
        row_sample "$scenario" "$name" "$@"
    done
    row_done "$scenario" "$name"
}

# row_start / row_sample / row_done: a row run by parts, so that the runs of rows that are compared
# can alternate (row A, row B, row A, …) and a change in the machine's load falls on both alike.
row_samples() { echo "$work/samples/$1-${2//[^a-zA-Z0-9]/_}.ndjson"; }
row_start() {
    echo "bench/run: $1: $2" >&2
    mkdir -p "$work/samples"
    : > "$(row_samples "$1" "$2")"
}
# row_sample SCENARIO NAME COMMAND…: one run of COMMAND, added to the row's samples (none once the
# row was skipped: a skipped row is skipped every time).
row_sample() {
    local file sample before
    file=$(row_samples "$1" "$2")
    shift 2
    ! grep -q '"skipped"' "$file" || return 0
    [ "$hub_stats" = 0 ] || before=$(hub_snapshot)
    "$@" > "$work/sample.json"  # not in $(…): what COMMAND starts must reach the exit trap
    sample=$(< "$work/sample.json")
    [ "$hub_stats" = 0 ] || sample=$(hub_delta "$sample" "$before" "$(hub_snapshot)")
    echo "$sample" >> "$file"
}
row_done() {
    median "$1" "$2" "$(row_samples "$1" "$2")" >> "$work/rows.ndjson"
}

# median SCENARIO NAME FILE: the sample with the median rate, with the min and max for the noise.
median() {
    python3 - "$@" <<'PY'
import json, sys
scenario, name, path = sys.argv[1:4]
samples = [json.loads(l) for l in open(path) if l.strip()]
head = {"name": name, "scenario": scenario}
skipped = [s for s in samples if "skipped" in s]
if skipped:
    print(json.dumps({**head, "per_second": None, "skipped": skipped[0]["skipped"]}))
    sys.exit()
samples.sort(key=lambda s: s["per_second"])
row = {**head, **samples[len(samples) // 2]}
row.update(name=name, scenario=scenario, runs=len(samples),
           per_second_min=samples[0]["per_second"], per_second_max=samples[-1]["per_second"])
print(json.dumps(row))
PY
}

# row_rate SCENARIO NAME: the row's per_second as a whole number (0 if skipped).
row_rate() {
    python3 - "$work/rows.ndjson" "$1" "$2" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["scenario"] == sys.argv[2] and r["name"] == sys.argv[3]:
        print(int(r["per_second"] or 0))
        break
else:
    print(0)
PY
}
