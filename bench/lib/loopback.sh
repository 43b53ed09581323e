# shellcheck shell=bash
# bench/run --scenario loopback (the default): a hub with no latency, so the rows measure CPU cost.
# The stand-in hub is nginx (TLS, keep-alive, h2 and HTTP/1.1 by ALPN, 201 for every POST): it
# costs less CPU than hubsim, leaving more of the 2 cores to what is measured.
#   rows   wrk and h2load (the machine's ceiling over HTTP/1.1 and h2), direct h2 and direct http1
#          (nhpush-bench direct: the library in-process), nhpushd (nhpush-bench daemon: end to end
#          through nhpushd's socket, NDJSON batches) and js-sdk (the official JavaScript SDK), at
#          64 connections / concurrency 64 (h2load: 4 connections of 100 streams);
#   latency_at_half_rate   direct h2 and nhpushd (?wait=true) at a fixed rate of half their rate;
#   queued_rss             nhpushd's peak RSS holding 100 000 queued 200-byte notifications;
#   sweep                  wrk and direct http1 against the number of connections.

# loopback_nhpushd_start NAME: nhpushd with 64 hub connections at most and a queue of 200 000.
# max_connections is the key's newer name; a build that does not know it gets connections.
loopback_nhpushd_start() {
    local key
    for key in max_connections connections; do
        nhpushd_config "$1" "$key=64" queue_capacity=200000
        start_nhpushd "$1" && return
    done
    echo "bench/run: nhpushd: $nhpushd_refused" >&2
    exit 1
}

scenario_loopback() {
    local seconds count js_count sweep_points sweep_seconds connections=64 rate k w d nginx_pid
    if [ "$quick" = 1 ]; then
        seconds=3 count=100000 js_count=5000 sweep_points="1 8 64" sweep_seconds=1
    else
        seconds=10 count=600000 js_count=30000 sweep_points="1 2 4 8 16 32 64 128 256" sweep_seconds=3
    fi

    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
        -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
    hub_port=$(free_port) hub_ca=$work/cert.pem hub_stats=0
    cs=$(cs_for_port "$hub_port")
    cat > "$work/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_buffer_size 16k;
    server {
        listen 127.0.0.1:$hub_port ssl http2;
        ssl_certificate $work/cert.pem;
        ssl_certificate_key $work/key.pem;
        keepalive_requests 10000000;
        location / { return 201; }
    }
}
CONF
    nginx -c "$work/nginx.conf" -p "$work" > "$work/nginx.out" 2>&1 &
    nginx_pid=$!
    pids+=("$nginx_pid")
    wait_for "(exec 3<>/dev/tcp/127.0.0.1/$hub_port)" nginx
    make_request

    # nhpushd: one worker thread (measured faster than two on 2 cores, where nginx needs the other)
    nhpushd_daemon_keys=$'socket_mode = "0600"\nthreads = 1\ndrain_deadline = 0\nlog_level = "error"\nmax_body_bytes = 4194304'
    loopback_nhpushd_start nhpushd

    loopback_direct() {  # PROTOCOL CONNECTIONS COUNT [options…]
        local p=$1 k=$2 n=$3
        shift 3
        bench_json direct --connection-string "$cs" --hub hub --ca-file "$hub_ca" --protocol "$p" \
            --max-connections "$k" --threads 1 --window $((k * 4)) --count "$n" --time-limit $((seconds * 3)) "$@"
    }
    loopback_nhpushd() {
        bench_json daemon --socket "$work/nhpushd.sock" --time-limit $((seconds * 3)) "$@" > "$work/nhpushd.json"
        json_set "$(< "$work/nhpushd.json")" protocol_configured=default
    }

    # The machine's ceilings and the library's rows alternate run by run (wrk, h2load, direct h2,
    # direct http1, wrk, …): direct h2 is held to h2load's rate, and the load drifts between runs.
    loopback_compared() {  # NAME: one run of that row
        case $1 in
            wrk) run_wrk $connections $seconds ;;
            h2load) run_h2load 4 $count $((seconds * 3 + 10)) ;;
            "direct h2") loopback_direct h2 $connections $count ;;
            "direct http1") loopback_direct http1 $connections $count ;;
        esac
    }
    local name
    local -a compared=(wrk h2load "direct h2" "direct http1")
    for name in "${compared[@]}"; do
        row_start loopback "$name"
    done
    for _ in $(seq "$runs"); do
        for name in "${compared[@]}"; do
            row_sample loopback "$name" loopback_compared "$name"
        done
    done
    for name in "${compared[@]}"; do
        row_done loopback "$name"
    done
    row loopback nhpushd loopback_nhpushd --connections 4 --batch 100 --count $count
    row loopback js-sdk run_js $connections $js_count $((seconds * 3))

    # --- latency at half the maximum rate (fixed rate, open loop) ---
    echo "bench/run: loopback: latency at half rate" >&2
    : > "$work/half.ndjson"
    rate=$(( $(row_rate loopback "direct h2") / 2 ))
    for _ in $(seq "$runs"); do
        loopback_direct h2 $connections $((rate * seconds)) --rate "$rate" --latency-file "$work/direct-latency.txt"
    done > "$work/half-direct.ndjson"
    # nhpushd answers each ?wait=true request with its outcome: its own maximum rate is measured first.
    loopback_nhpushd --wait --connections 256 --count $((count / 4)) > "$work/sample.json"
    rate=$(( $(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["per_second"]))' "$work/sample.json") / 2 ))
    for _ in $(seq "$runs"); do
        loopback_nhpushd --wait --connections 256 --rate "$rate" --count $((rate * seconds)) \
            --latency-file "$work/nhpushd-latency.txt"
    done > "$work/half-nhpushd.ndjson"
    median loopback "direct h2" "$work/half-direct.ndjson" >> "$work/half.ndjson"
    median loopback nhpushd "$work/half-nhpushd.ndjson" >> "$work/half.ndjson"

    stop_pid "$nhpushd_pid"

    # --- nhpushd's memory holding 100 000 queued notifications: its hub is a port nobody listens on ---
    echo "bench/run: loopback: nhpushd holding 100000 queued notifications" >&2
    local loopback_cs=$cs
    cs=$(cs_for_port "$(free_port)")
    loopback_nhpushd_start queued
    cs=$loopback_cs
    bench_json daemon --socket "$work/queued.sock" --submit-only --batch 100 --count 100000 --payload-bytes 200 \
        --time-limit 60 > "$work/queued.json"
    stop_pid "$nhpushd_pid"

    # --- throughput against connections ---
    echo "bench/run: loopback: sweep over connections ($sweep_points)" >&2
    : > "$work/sweep.ndjson"
    for k in $sweep_points; do
        w=$(run_wrk "$k" $sweep_seconds)
        d=$(loopback_direct http1 "$k" $((count / 2)) --time-limit $sweep_seconds)
        python3 -c 'import json,sys; print(json.dumps({"connections": int(sys.argv[1]),
            "wrk": int(json.loads(sys.argv[2])["per_second"]), "direct": int(json.loads(sys.argv[3])["per_second"])}))' \
            "$k" "$w" "$d" >> "$work/sweep.ndjson"
    done
    nhpushd_daemon_keys=
    stop_pid "$nginx_pid"
}
