#!/usr/bin/env bash
# Measures nhpush-hubsim against nginx answering the same HTTPS POSTs with `return 201`, with wrk,
# on loopback, with the same certificate. Prints both rates and their ratio (docs/benchmarks.md).
#
# Usage: bench/hubsim-vs-nginx.sh [build-dir]
# Environment: DURATION (seconds per run, default 10), CONNECTIONS (default 64), WRK_THREADS
# (default 1), HUBSIM_THREADS (default: nproc; nginx gets as many worker processes).
# Bounded: every run is timed; everything started here is stopped and its temp dir removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build}
hubsim=$build/tools/hubsim/nhpush-hubsim
duration=${DURATION:-10}
connections=${CONNECTIONS:-64}
wrk_threads=${WRK_THREADS:-1}
threads=${HUBSIM_THREADS:-$(nproc)}
for tool in "$hubsim" wrk nginx openssl curl python3; do
    command -v "$tool" >/dev/null || { echo "missing: $tool (run scripts/setup)" >&2; exit 1; }
done

tmp=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits (at most 10 s) until something answers HTTPS on 127.0.0.1:$1.
wait_ready() {
    for _ in $(seq 100); do
        curl -s -o /dev/null --cacert "$tmp/cert.pem" "https://127.0.0.1:$1/" && return 0
        sleep 0.1
    done
    echo "nothing answers on port $1" >&2
    exit 1
}

# One certificate for both servers.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=nhpush-bench \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null

# hubsim
key_name=bench
key=$(openssl rand -base64 32)
"$hubsim" --listen 127.0.0.1:0 --cert "$tmp/cert.pem" --key "$tmp/key.pem" --key-name "$key_name" --key "$key" \
    --threads "$threads" >"$tmp/hubsim.out" 2>"$tmp/hubsim.err" &
pids+=($!)
for _ in $(seq 100); do
    grep -q '^listening on ' "$tmp/hubsim.out" && break
    sleep 0.1
done
hubsim_port=$(sed -n 's/^listening on 127\.0\.0\.1://p' "$tmp/hubsim.out")
[ -n "$hubsim_port" ] || { echo "hubsim did not start:" >&2; cat "$tmp/hubsim.err" >&2; exit 1; }

# nginx, as many workers as hubsim has threads
nginx_port=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes $threads;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    keepalive_requests 10000000;
    server {
        listen 127.0.0.1:$nginx_port ssl;
        ssl_certificate $tmp/cert.pem;
        ssl_certificate_key $tmp/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / { return 201; }
    }
}
CONF
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
pids+=($!)
wait_ready "$nginx_port"

# The request: a 200-byte apple notification with a valid SAS token for hub "bench".
expiry=$(($(date +%s) + 3600))
sr="https%3A%2F%2F127.0.0.1%3A${hubsim_port}%2Fbench"
sig=$(printf '%s\n%s' "$sr" "$expiry" | openssl dgst -sha256 -hmac "$key" -binary | base64 |
    sed 's/+/%2B/g; s/\//%2F/g; s/=/%3D/g')
token="SharedAccessSignature sr=$sr&sig=$sig&se=$expiry&skn=$key_name"
body=$(python3 -c 'import json
b = {"aps": {"alert": {"title": "nhpush", "body": ""}}, "id": 1}
pad = 200 - len(json.dumps(b, separators=(",", ":")))
b["aps"]["alert"]["body"] = "x" * pad
print(json.dumps(b, separators=(",", ":")), end="")')
[ ${#body} -eq 200 ]
cat >"$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.path = "/bench/messages?api-version=2020-06"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json;charset=utf-8"
wrk.headers["ServiceBusNotification-Format"] = "apple"
wrk.headers["apns-push-type"] = "alert"
wrk.headers["Authorization"] = "$token"
LUA

# hubsim must accept that request.
status=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$tmp/cert.pem" -X POST \
    "https://127.0.0.1:$hubsim_port/bench/messages?api-version=2020-06" \
    -H "Content-Type: application/json;charset=utf-8" -H "ServiceBusNotification-Format: apple" \
    -H "Authorization: $token" --data-binary "$body")
[ "$status" = 201 ] || { echo "hubsim answered $status to the benchmark request" >&2; exit 1; }

run_wrk() {  # $1 = port; prints requests/s
    local out
    out=$(timeout $((duration + 30)) wrk -t"$wrk_threads" -c"$connections" -d"${duration}s" --latency \
        -s "$tmp/post.lua" "https://127.0.0.1:$1")
    echo "$out" >&2
    echo "$out" | awk '/^Requests\/sec:/ {print $2}'
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
echo "wrk -t$wrk_threads -c$connections -d${duration}s, hubsim --threads $threads, nginx worker_processes $threads" >&2
# A short warm-up of each, then the measured runs.
timeout 20 wrk -t1 -c"$connections" -d2s -s "$tmp/post.lua" "https://127.0.0.1:$hubsim_port" >/dev/null
timeout 20 wrk -t1 -c"$connections" -d2s -s "$tmp/post.lua" "https://127.0.0.1:$nginx_port" >/dev/null
echo "--- hubsim" >&2
hubsim_rps=$(run_wrk "$hubsim_port")
echo "--- nginx" >&2
nginx_rps=$(run_wrk "$nginx_port")

# Every benchmark request must have been accepted (201) by hubsim.
stats=$(curl -s --cacert "$tmp/cert.pem" "https://127.0.0.1:$hubsim_port/\$stats")
python3 -c 'import json,sys; s=json.loads(sys.argv[1]); st=s["answers_by_status"]
assert set(st) == {"201"}, st' "$stats" || { echo "hubsim answered something else than 201: $stats" >&2; exit 1; }

printf '%-8s %12s\n' target requests/s
printf '%-8s %12s\n' hubsim "$hubsim_rps" nginx "$nginx_rps"
python3 -c 'import sys; print("hubsim/nginx: %.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$hubsim_rps" "$nginx_rps"
