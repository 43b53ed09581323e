# shellcheck shell=bash
# bench/run --scenario latency's row "2 nhpushd, 1 redis stream": two nhpushd whose [sources.bench]
# read one Redis Stream in one consumer group (docs/scale-out.md), sending to the same hubsim at its
# latency. A fresh redis-server on a free loopback port per run.

# redis_stream_row SECONDS COUNT: starts redis-server and the two daemons (the stream is empty), then
# XADDs COUNT notifications with redis-cli --pipe; the rate is COUNT over the time from the first
# XADD until the daemons have acknowledged every entry (their /v1/stats), at most 2 × SECONDS + 10 s;
# if that runs out, what was acknowledged by then. Reports how the entries were shared.
redis_stream_row() {
    local seconds=$1 count=$2 port name pid started limit acked=0 now reads
    local daemon_pids=()
    command -v redis-server >/dev/null || { skipped "redis-server is not installed (scripts/setup)"; return; }
    port=$(free_port)
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
        --logfile "$work/redis.log" --daemonize no &
    redis_pid=$!
    pids+=("$redis_pid")
    wait_for "redis-cli -p $port ping | grep -q PONG" redis-server
    for name in stream-a stream-b; do
        nhpushd_config "$name"
        printf '[sources.bench]\ntype = "redis-stream"\nurl = "redis://127.0.0.1:%s/0"\nstream = "bench"\nconsumer = "%s"\n' \
            "$port" "$name" >> "$work/$name.toml"
        start_nhpushd "$name" || { skipped "nhpushd refuses the configuration: $nhpushd_refused"; return; }
        daemon_pids+=("$nhpushd_pid")
        wait_for "grep -q 'source bench: reading stream' $work/$name.log" "the source of nhpushd ($name)"
    done
    started=$(date +%s.%N)
    # Inline commands (quoted arguments), which Redis reads as it reads any client's.
    python3 - "$count" <<'PY' | redis-cli -p "$port" --pipe > "$work/redis-load.out"
import sys
line = "XADD bench * notification '{\"hub\":\"main\",\"format\":\"template\",\"payload\":{\"message\":\"bench %d\"}}'\r\n"
sys.stdout.write("".join(line % i for i in range(int(sys.argv[1]))))
PY
    source_stat() {  # $1 = daemon name, $2 = counter
        curl -s --unix-socket "$work/$1.sock" http://localhost/v1/stats |
            python3 -c "import json,sys; print(json.load(sys.stdin)['sources']['bench']['$2'])"
    }
    limit=$(( seconds * 2 + 10 ))
    while :; do
        acked=$(( $(source_stat stream-a acked) + $(source_stat stream-b acked) ))
        now=$(date +%s.%N)
        [ "$acked" -lt "$count" ] || break
        python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) - float(sys.argv[2]) < $limit else 1)" "$now" "$started" || break
        sleep 0.1
    done
    reads="$(source_stat stream-a read) $(source_stat stream-b read)"
    for pid in "${daemon_pids[@]}"; do stop_pid "$pid"; done
    stop_pid "$redis_pid"
    python3 - "$count" "$acked" "$started" "$now" $reads <<'PY'
import json, sys
count, acked = int(sys.argv[1]), int(sys.argv[2])
elapsed = float(sys.argv[4]) - float(sys.argv[3])
print(json.dumps({"per_second": acked / elapsed, "count": count, "acknowledged": acked,
                  "elapsed_seconds": round(elapsed, 2), "read_by_daemon": [int(sys.argv[5]), int(sys.argv[6])],
                  "bounded_by": "count" if acked >= count else "time", "protocol_configured": "default"}))
PY
}
