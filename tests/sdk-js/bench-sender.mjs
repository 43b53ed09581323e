// The official @azure/notification-hubs SDK as a load generator, for bench/run's "js-sdk" row:
// sends COUNT 200-byte apple notifications with CONCURRENCY in flight, then prints one JSON line
// {"count","ok","failed","seconds","per_second"}. Bounded by COUNT and by TIME_LIMIT seconds.
//
//   NODE_EXTRA_CA_CERTS=cert.pem BENCH_CONNECTION_STRING='Endpoint=sb://127.0.0.1:PORT/;…' \
//   BENCH_HUB=hub COUNT=20000 CONCURRENCY=64 node bench-sender.mjs

import { createClientContext, sendNotification } from "@azure/notification-hubs/api";
import { createAppleNotification } from "@azure/notification-hubs/models";

const connectionString = process.env.BENCH_CONNECTION_STRING;
const hub = process.env.BENCH_HUB;
const count = Number(process.env.COUNT ?? 20000);
const concurrency = Number(process.env.CONCURRENCY ?? 64);
const timeLimitMs = Number(process.env.TIME_LIMIT ?? 60) * 1000;
if (!connectionString || !hub) {
  console.error("BENCH_CONNECTION_STRING and BENCH_HUB are required");
  process.exit(2);
}

const context = createClientContext(connectionString, hub, { retryOptions: { maxRetries: 0 } });
const body = JSON.stringify({ aps: { alert: "x".repeat(178) } });
let next = 0;
let ok = 0;
let failed = 0;
const start = performance.now();

async function worker() {
  while (next < count && performance.now() - start < timeLimitMs) {
    next++;
    try {
      await sendNotification(context, createAppleNotification({ body }), { enableTestSend: false });
      ok++;
    } catch {
      failed++;
    }
  }
}

await Promise.all(Array.from({ length: concurrency }, worker));
const seconds = (performance.now() - start) / 1000;
console.log(JSON.stringify({ count: ok + failed, ok, failed, seconds, per_second: ok / seconds }));
