# shellcheck shell=bash
# bench/run --scenario latency's row "2 nhpushd, 1 redis stream": two nhpushd whose [sources.bench]
# read one Redis Stream in one consumer group (docs/scale-out.md), sending to the same hubsim at its
# latency. A fresh redis-server on a free loopback port per run.

# redis_stream_row SECONDS COUNT: starts redis-server and the two daemons (the stream is empty), then
# XADDs COUNT notifications with redis-cli --pipe; the rate is COUNT over the time from the first
# XADD until the daemons have acknowledged every entry (their /v1/stats, polled every 20 ms), at most
# 2 × SECONDS + 10 s; if that runs out, what was acknowledged by then. Reports how the entries were
# shared between the daemons.
redis_stream_row() {
    local seconds=$1 count=$2 port name limit=$(( $1 * 2 + 10 ))
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
    # One process feeds the stream (inline commands with quoted arguments, through redis-cli --pipe)
    # and polls both daemons' /v1/stats every 20 ms, so the clock is not the polling's.
    python3 - "$count" "$port" "$work/stream-a.sock" "$work/stream-b.sock" "$limit" \
        > "$work/redis-row.json" <<'PY'
import http.client, json, socket, subprocess, sys, time
count, port, socks, limit = int(sys.argv[1]), sys.argv[2], sys.argv[3:5], float(sys.argv[5])

class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.unix_path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.unix_path)

def source(path):
    c = UnixConnection(path)
    c.request("GET", "/v1/stats")
    s = json.loads(c.getresponse().read())["sources"]["bench"]
    c.close()
    return s

line = "XADD bench * notification '{\"hub\":\"main\",\"format\":\"template\",\"payload\":{\"message\":\"bench %d\"}}'\r\n"
data = "".join(line % i for i in range(count)).encode()
started = time.monotonic()
subprocess.run(["redis-cli", "-p", port, "--pipe"], input=data, stdout=subprocess.DEVNULL, check=True)
while True:
    stats = [source(p) for p in socks]
    acked = sum(s["acked"] for s in stats)
    elapsed = time.monotonic() - started
    if acked >= count or elapsed > limit:
        break
    time.sleep(0.02)
print(json.dumps({"per_second": acked / elapsed, "count": count, "acknowledged": acked,
                  "elapsed_seconds": round(elapsed, 2), "read_by_daemon": [s["read"] for s in stats],
                  "bounded_by": "count" if acked >= count else "time", "protocol_configured": "default"}))
PY
    for pid in "${daemon_pids[@]}"; do stop_pid "$pid"; done
    stop_pid "$redis_pid"
    cat "$work/redis-row.json"
}
