"""bench/run's report: gathers what the scenarios left in the work directory into one JSON document
(bench/results/STAMP.json), writes the data files gnuplot draws from, and prints a table (or, with
--json, the document).

    python3 bench/lib/report.py WORK JSON(0|1) STAMP CORES CPU SCENARIO...
"""
import csv
import json
import os
import sys

work, as_json, stamp, cores, cpu = sys.argv[1:6]
scenarios = sys.argv[6:]


def lines(name):
    path = os.path.join(work, name)
    return [json.loads(l) for l in open(path) if l.strip()] if os.path.exists(path) else []


rows = lines("rows.ndjson")
doc = {"machine": {"cores": int(cores), "cpu": cpu}, "scenarios": scenarios, "rows": rows}

if "loopback" in scenarios:
    wrk = next((r["per_second"] for r in rows if r["scenario"] == "loopback" and r["name"] == "wrk"), 0)
    for r in rows:
        if r["scenario"] == "loopback" and r["per_second"] is not None:
            r["ratio_to_wrk"] = r["per_second"] / wrk if wrk else 0
    doc["latency_at_half_rate"] = lines("half.ndjson")
    doc["queued_rss"] = json.load(open(os.path.join(work, "queued.json")))
    doc["sweep"] = lines("sweep.ndjson")
    with open(os.path.join(work, "sweep.dat"), "w") as out:
        for s in doc["sweep"]:
            out.write(f'{s["connections"]} {s["wrk"]} {s["direct"]}\n')

if "latency-sweep" in scenarios:
    doc["latency_sweep"] = lines("latency-sweep.ndjson")
    # The plot's data beside the plot (docs/img), and in the results.
    for path in (f"{stamp}-latency-sweep.csv", os.path.join(work, "latency-sweep.csv")):
        with open(path, "w", newline="") as out:
            w = csv.writer(out)
            w.writerow(["hub_latency_ms", "nhpushd_default", "js_sdk_512"])
            for p in doc["latency_sweep"]:
                w.writerow([p["hub_latency_ms"], round(p["nhpushd_default"] or 0), round(p["js_sdk_512"] or 0)])

if "spool" in scenarios:
    doc["spool_rss"] = lines("spool-rss.ndjson")

open(f"{stamp}.json", "w").write(json.dumps(doc, indent=2) + "\n")
if as_json == "1":
    print(json.dumps(doc))
    sys.exit()


def fmt(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def protocol_of(r):
    """What the hub saw if it says (hubsim), else what the client saw, else what was configured."""
    return r.get("hub_protocol") or r.get("protocol") or r.get("protocol_configured") or ""


for scenario in scenarios:
    mine = [r for r in rows if r["scenario"] == scenario]
    if not mine:
        continue
    print(f"== {scenario}")
    print(f"{'row':<28} {'protocol':<9} {'per second':>11} {'min':>9} {'max':>9} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'cpu ms/1000':>11} {'conns':>6}")
    for r in mine:
        if r.get("skipped"):
            print(f"{r['name']:<28} skipped: {r['skipped']}")
            continue
        latency = r.get("latency_ms", {})
        conns = r.get("connections_opened", r.get("connections"))
        print(f"{r['name']:<28} {protocol_of(r):<9} {r['per_second']:>11.0f} {r['per_second_min']:>9.0f} "
              f"{r['per_second_max']:>9.0f} {fmt(latency.get('p50'), 2):>8} {fmt(latency.get('p99'), 2):>8} "
              f"{fmt(r.get('cpu_ms_per_1000')):>11} {'-' if conns is None else conns:>6}")
    if scenario == "loopback":
        rate = {r["name"]: r["per_second"] or 0 for r in mine}
        js = max(1, rate.get("js-sdk", 0))
        print(f"direct h2 / js-sdk {rate.get('direct h2', 0) / js:.1f}x, "
              f"nhpushd / js-sdk {rate.get('nhpushd', 0) / js:.1f}x, "
              f"direct h2 / h2load {rate.get('direct h2', 0) / max(1, rate.get('h2load', 0)):.2f} (goal >= 1)")
        for h in doc["latency_at_half_rate"]:
            l = h["latency_ms"]
            print(f"half rate {h['name']:<10} {h['offered_rate']:.0f}/s offered, {h['per_second']:.0f}/s sent: "
                  f"p50 {l['p50']:.2f} p90 {l['p90']:.2f} p99 {l['p99']:.2f} max {l['max']:.2f} ms")
        q = doc["queued_rss"]
        print(f"queued    {q['ok']} notifications held by nhpushd: peak RSS {q['peak_rss_mib']:.1f} MiB")
        print("sweep     connections: " +
              ", ".join(f"{s['connections']}: wrk {s['wrk']} direct {s['direct']}" for s in doc["sweep"]))
    if scenario == "spool":
        rate = {r["name"]: r["per_second"] or 0 for r in mine}
        for latency in (0, 50):
            base = rate.get(f"no spool, hub {latency} ms") or 0
            if base:
                print(f"hub {latency} ms against no spool: " + ", ".join(
                    f"{mode} {rate.get(f'{mode}, hub {latency} ms', 0) / base:.2f}"
                    for mode in ("never", "interval", "always")) + " (targets: interval >= 0.9, always >= 0.5)")
for q in doc.get("spool_rss", []):
    if q.get("skipped"):
        print(f"spool rss skipped: {q['skipped']}")
        continue
    print(f"spool     {q['ok']} of {q['queued']} notifications held in the spool ({q['spool_bytes'] / 2**20:.0f} MiB on disk): "
          f"peak RSS {q['peak_rss_mib']:.1f} MiB")
for p in doc.get("latency_sweep", []):
    if p == doc["latency_sweep"][0]:
        print("== latency-sweep (notifications/s)")
        print(f"{'hub latency ms':>14} {'nhpushd default':>16} {'js-sdk 512':>11}")
    print(f"{p['hub_latency_ms']:>14} {fmt(p['nhpushd_default'], 0):>16} {fmt(p['js_sdk_512'], 0):>11}"
          + (f"  (nhpushd skipped: {p['nhpushd_skipped']})" if p.get("nhpushd_skipped") else ""))
print(f"machine: {cores} cores, {cpu}; results in {stamp}.json")
