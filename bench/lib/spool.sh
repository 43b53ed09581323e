# shellcheck shell=bash
# bench/run --scenario spool: what the spool costs. nhpushd (NDJSON batches of 100 over 4 socket
# connections, as the latency scenario's rows) without a spool, with fsync = "never", "interval" and
# "always", against nhpush-hubsim answering at once (CPU cost) and at 50 ± 10 ms (a real
# hub's latency); then nhpushd's peak RSS holding 100 000 and 1 000 000 queued 200-byte
# notifications in its spool (its hub a port nobody listens on).

# spool_row MODE LABEL SECONDS COUNT: nhpushd_row with a fresh spool in fsync MODE ("none": no spool).
spool_row() {
    local mode=$1 label=$2
    shift 2
    rm -rf "$work/spool"
    if [ "$mode" = none ]; then
        nhpushd_tables=
    else
        nhpushd_tables=$(printf '[spool]\ndir = "%s"\nfsync = "%s"' "$work/spool" "$mode")
    fi
    nhpushd_row "$label" "$@"
    nhpushd_tables=
}

# spool_rss COUNT: nhpushd with a spool holding COUNT queued notifications; prints its sample.
spool_rss() {
    local count=$1 saved_cs=$cs
    rm -rf "$work/spool"
    cs=$(cs_for_port "$(free_port)")
    nhpushd_tables=$(printf '[spool]\ndir = "%s"' "$work/spool")
    nhpushd_config "spool-rss" queue_capacity=1000000
    nhpushd_tables=
    cs=$saved_cs
    start_nhpushd "spool-rss" || { skipped "nhpushd refuses the configuration: $nhpushd_refused"; return; }
    bench_json daemon --socket "$work/spool-rss.sock" --submit-only --batch 100 --count "$count" \
        --payload-bytes 200 --time-limit 120 > "$work/spool-rss.json"
    stop_pid "$nhpushd_pid"
    json_set "$(< "$work/spool-rss.json")" queued="$count" spool_bytes="$(du -sb "$work/spool" | cut -f1)"
    rm -rf "$work/spool"
}

scenario_spool() {
    local seconds count latency spool_runs=$runs
    if [ "$quick" = 1 ]; then
        seconds=3 count=30000
    else
        # At least 5 runs a row: the targets are ratios of rows, and one run at 0 ms moves by 15 %.
        seconds=10 count=100000 spool_runs=$(( runs < 5 ? 5 : runs ))
    fi
    # The rows' runs alternate (none, never, interval, always, none, …): their ratios are the
    # targets, and on a shared 2-core machine the load drifts between runs. "never" (no fdatasync)
    # tells the spool's own cost from the cost of syncing to disk.
    local -A labels=([none]="no spool" [never]=never [interval]=interval [always]=always)
    local -A names=([none]=nospool [never]=spool-never [interval]=spool-interval [always]=spool-always)
    local mode
    for latency in 0 50; do
        if [ $latency = 0 ]; then start_hubsim; else start_hubsim --latency $latency --latency-jitter 10; fi
        for mode in none never interval always; do
            row_start spool "${labels[$mode]}, hub ${latency} ms"
        done
        for _ in $(seq "$spool_runs"); do
            for mode in none never interval always; do
                row_sample spool "${labels[$mode]}, hub ${latency} ms" \
                    spool_row "$mode" "${names[$mode]}" "$seconds" "$count"
            done
        done
        for mode in none never interval always; do
            row_done spool "${labels[$mode]}, hub ${latency} ms"
        done
        stop_pid "$hubsim_pid"
    done
    hub_stats=0
    echo "bench/run: spool: nhpushd's memory with 100000 and 1000000 queued in its spool" >&2
    { spool_rss 100000; spool_rss 1000000; } > "$work/spool-rss.ndjson"
}
