# shellcheck shell=bash
# bench/run --scenario latency and --scenario latency-sweep: nhpush-hubsim answering after a hub's
# latency, where throughput is bound by the requests in flight (connections × streams / latency)
# rather than by CPU: what HTTP/2 and the demand-driven connection pool change.

# nhpushd_row LABEL SECONDS COUNT [KEY=VALUE…]: a fresh nhpushd whose [hubs.main] names only
# socket, hub, connection string and ca_file, plus the keys given; COUNT notifications (at most
# the default queue_capacity, 100 000, so none is refused) in NDJSON batches of 100 over 4 socket
# connections, submitted in SECONDS at most, then up to SECONDS more until every one is final.
# Submission outruns a hub at latency, so the queue stays full and the rate is sent / elapsed.
# When the time ran out first, what is still queued is dropped with the daemon (a fresh one per
# run, so nothing left over reaches the next row), and CPU per 1000 is left out: it would count
# parsing notifications that were never sent. The latency percentiles include the queueing: the
# half-rate row gives the latency at a load the daemon keeps up with.
nhpushd_row() {
    local label=$1 seconds=$2 count=$3
    shift 3
    nhpushd_config "nhpushd-$label" "$@"
    start_nhpushd "nhpushd-$label" || { skipped "nhpushd refuses the configuration: $nhpushd_refused"; return; }
    bench_json daemon --socket "$work/nhpushd-$label.sock" --connections 4 --batch 100 --count "$count" \
        --time-limit "$seconds" > "$work/nhpushd.json"
    stop_pid "$nhpushd_pid"
    python3 - "$work/nhpushd.json" "$label" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["protocol_configured"] = sys.argv[2]
left = r["failures"].get("not_final_within_time_limit", 0)
r["bounded_by"] = "time" if left else "count"
if left:
    r["cpu_ms_per_1000"] = None
print(json.dumps(r))
PY
}

# nhpushd_half_rate LABEL SECONDS RATE [KEY=VALUE…]: p99 from submission to the hub's 201 at a fixed
# RATE, one ?wait=true request per notification (latency measured per notification, from when
# each was due). Enough socket connections for the notifications in flight: RATE × 0.25 s.
nhpushd_half_rate() {
    local label=$1 seconds=$2 rate=$3 sockets
    shift 3
    [ "$rate" -gt 0 ] || { skipped "no rate to halve"; return; }
    sockets=$(( rate / 4 < 16 ? 16 : (rate / 4 > 900 ? 900 : rate / 4) ))
    nhpushd_config "nhpushd-$label" "$@"
    start_nhpushd "nhpushd-$label" || { skipped "nhpushd refuses the configuration: $nhpushd_refused"; return; }
    bench_json daemon --socket "$work/nhpushd-$label.sock" --wait --connections "$sockets" --rate "$rate" \
        --count $(( rate * seconds > 0 ? rate * seconds : 1 )) --time-limit "$seconds" > "$work/nhpushd.json"
    stop_pid "$nhpushd_pid"
    json_set "$(< "$work/nhpushd.json")" protocol_configured="${label}" client_connections="$sockets"
}

# latency_direct PROTOCOL WINDOW SECONDS: the library in-process, closed loop with WINDOW outstanding,
# at most 64 connections of 100 streams; submission stops after SECONDS.
latency_direct() {
    bench_json direct --connection-string "$cs" --hub hub --ca-file "$hub_ca" --protocol "$1" \
        --max-connections 64 --max-streams 100 --threads 1 --window "$2" --count 2000000 --time-limit "$3"
}

scenario_latency() {
    local seconds count js_count latency=50 jitter=10 rate h2load_count
    if [ "$quick" = 1 ]; then
        seconds=3 count=30000 js_count=5000
    else
        seconds=10 count=100000 js_count=30000
    fi
    start_hubsim --latency $latency --latency-jitter $jitter
    # h2load: 4 connections × 100 streams in flight, so about 400 / 50 ms a second at most.
    h2load_count=$(( 4 * 100 * seconds * 1000 / latency ))

    row latency "nhpushd default" nhpushd_row default "$seconds" "$count"
    # The goal's latency figure: p99 submit→201 at half of 16,700/s (the service's stated 1 million
    # sends a minute), whatever the full rate above came out at.
    rate=$(( 16700 / 2 ))
    row latency "nhpushd default, half rate" nhpushd_half_rate default "$seconds" "$rate"
    row latency "nhpushd http1" nhpushd_row http1 "$seconds" "$count" protocol='"http1"'
    # Issue 13: two daemons fed from one Redis Stream (bench/lib/redis.sh).
    row latency "2 nhpushd, 1 redis stream" redis_stream_row "$seconds" "$count"
    # Windows: h2 can have 64 × 100 in flight, HTTP/1.1 64; more would only queue in the library.
    row latency "direct h2" latency_direct h2 4096 "$seconds"
    row latency "direct http1" latency_direct http1 128 "$seconds"
    row latency "js-sdk 64" run_js 64 $js_count "$seconds"
    row latency "js-sdk 512" run_js 512 $js_count "$seconds"
    row latency h2load run_h2load 4 $h2load_count $((seconds * 3 + 10))
    stop_pid "$hubsim_pid"
}

# One point per hub latency, each bounded (nhpushd: 2 × seconds plus its warm-up; the SDK: seconds).
scenario_latency_sweep() {
    local seconds count js_count latency
    if [ "$quick" = 1 ]; then
        seconds=2 count=30000 js_count=5000
    else
        seconds=5 count=100000 js_count=30000
    fi
    start_hubsim
    : > "$work/latency-sweep.ndjson"
    for latency in 0 10 50 200; do
        echo "bench/run: latency-sweep: hub latency $latency ms" >&2
        hub_faults "{\"latency_ms\": $latency}"
        nhpushd_row default "$seconds" "$count" > "$work/sweep-nhpushd.json"
        run_js 512 $js_count "$seconds" > "$work/sweep-js.json"
        python3 - "$latency" "$work/sweep-nhpushd.json" "$work/sweep-js.json" >> "$work/latency-sweep.ndjson" <<'PY'
import json, sys
d, j = (json.load(open(p)) for p in sys.argv[2:4])
print(json.dumps({"hub_latency_ms": int(sys.argv[1]), "nhpushd_default": d.get("per_second"),
                  "js_sdk_512": j.get("per_second"), "nhpushd_skipped": d.get("skipped")}))
PY
    done
    stop_pid "$hubsim_pid"
}
