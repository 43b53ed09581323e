// Sends notifications to nhpush-hubsim with the official @azure/notification-hubs SDK, to show that
// hubsim accepts what a real client sends (and rejects it the way the service does).
//
// Usage (the integration test tests/integration/hubsim/sdk_fidelity_test.cpp runs it):
//   NODE_EXTRA_CA_CERTS=hubsim-cert.pem \
//   HUBSIM_CONNECTION_STRING='Endpoint=sb://127.0.0.1:PORT/;SharedAccessKeyName=…;SharedAccessKey=…' \
//   HUBSIM_HUB=myhub node hubsim-fidelity.mjs send-all | expect-401
//
// send-all: apple, fcmv1, windows and template notifications, a tag-expression send, a direct
//           send, a direct batch, a test send, a scheduled send and its cancellation, and the
//           telemetry of a sent notification. Each notification carries an X-Nhpush-Id header
//           (`js-<step>`) so the test can find it in hubsim's record file.
// expect-401: one send that must fail with the SDK reporting status 401.
// Prints one JSON line per step; exits 0 only if every step went as expected.

import {
  cancelScheduledNotification,
  createClientContext,
  getNotificationOutcomeDetails,
  scheduleNotification,
  sendBroadcastNotification,
  sendNotification,
} from "@azure/notification-hubs/api";
import {
  createAppleNotification,
  createFcmV1Notification,
  createTemplateNotification,
  createWindowsToastNotification,
} from "@azure/notification-hubs/models";

const connectionString = process.env.HUBSIM_CONNECTION_STRING;
const hub = process.env.HUBSIM_HUB;
const mode = process.argv[2] ?? "send-all";
if (!connectionString || !hub) {
  console.error("HUBSIM_CONNECTION_STRING and HUBSIM_HUB are required");
  process.exit(2);
}

// No retries: the test counts requests, and a 401 is final anyway.
const context = createClientContext(connectionString, hub, { retryOptions: { maxRetries: 0 } });

const idHeader = (step) => ({ "X-Nhpush-Id": `js-${step}` });

const apple = (step) =>
  createAppleNotification({
    body: { aps: { alert: { title: "nhpush", body: `hello from ${step}` } } },
    headers: { "apns-priority": "10", "apns-push-type": "alert", ...idHeader(step) },
  });
const fcmv1 = (step) =>
  createFcmV1Notification({
    body: { message: { notification: { title: "nhpush", body: `hello from ${step}` } } },
    headers: idHeader(step),
  });
const windows = (step) =>
  createWindowsToastNotification({
    body: `<toast><visual><binding template="ToastText01"><text id="1">${step}</text></binding></visual></toast>`,
    headers: idHeader(step),
  });
const template = (step) =>
  createTemplateNotification({ body: { greeting: `hello from ${step}` }, headers: idHeader(step) });

let failures = 0;

async function step(name, action, check = () => true) {
  try {
    const result = await action();
    const ok = check(result) === true;
    failures += ok ? 0 : 1;
    console.log(JSON.stringify({ step: name, ok, result }));
  } catch (e) {
    failures += 1;
    console.log(JSON.stringify({ step: name, ok: false, status: e.statusCode, error: String(e.message) }));
  }
}

const sent = (r) => typeof r.notificationId === "string" && r.notificationId.length > 0 && !!r.trackingId;

async function sendAll() {
  await step("apple", () => sendBroadcastNotification(context, apple("apple")), sent);
  await step("fcmv1", () => sendBroadcastNotification(context, fcmv1("fcmv1")), sent);
  await step("windows", () => sendBroadcastNotification(context, windows("windows")), sent);
  await step("template", () => sendBroadcastNotification(context, template("template")), sent);
  await step(
    "tag-expression",
    () => sendNotification(context, apple("tag-expression"), { tagExpression: "(sports || news) && !muted" }),
    sent,
  );
  await step("direct", () => sendNotification(context, fcmv1("direct"), { deviceHandle: "fcm-token-1" }), sent);
  await step(
    "batch",
    () => sendNotification(context, apple("batch"), { deviceHandle: ["apns-token-1", "apns-token-2"] }),
    sent,
  );
  await step(
    "test-send",
    () => sendNotification(context, template("test-send"), { tagExpression: "beta", enableTestSend: true }),
    (r) => sent(r) && r.successCount === 1 && r.results.length === 1,
  );
  let scheduledId;
  await step(
    "scheduled",
    () => scheduleNotification(context, new Date(Date.now() + 3600_000), windows("scheduled"), { tagExpression: "later" }),
    (r) => sent(r) && (scheduledId = r.notificationId) !== undefined,
  );
  await step("cancel-scheduled", () => cancelScheduledNotification(context, scheduledId), (r) => !!r.trackingId);
  const first = await sendBroadcastNotification(context, template("details"));
  await step(
    "details",
    () => getNotificationOutcomeDetails(context, first.notificationId),
    (r) => r.notificationId === first.notificationId && r.state === "Completed",
  );
}

async function expect401() {
  await step(
    "wrong-key",
    async () => {
      try {
        await sendBroadcastNotification(context, apple("wrong-key"));
      } catch (e) {
        return { status: e.statusCode, message: e.message };
      }
      return { status: 201 };
    },
    (r) => r.status === 401 && /InvalidSignature/.test(r.message),
  );
}

await (mode === "expect-401" ? expect401() : sendAll());
process.exit(failures === 0 ? 0 : 1);
