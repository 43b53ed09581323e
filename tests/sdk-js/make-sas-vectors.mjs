// Generates SAS token test vectors with the official @azure/notification-hubs SDK.
//
// Usage: cd tests/sdk-js && npm ci && node make-sas-vectors.mjs > ../unit/data/sas_token_vectors.json
//
// Every token below is produced by the SDK's own code; nothing here re-implements
// the signing. Two methods are used, recorded per vector in the "method" field:
//
//   "public"   - the SDK's public client path: createClientContext(connectionString,
//                hubName, { httpClient }) from "@azure/notification-hubs/api", then
//                sendNotification(createTemplateNotification(...)). A fake httpClient
//                captures the outgoing "Authorization" header and answers 201 without
//                any network. The audience is what the SDK forms itself: the
//                connection-string Endpoint with "sb://" replaced by "https://"
//                (context.baseUrl), recorded un-encoded and un-lowercased.
//   "internal" - the SDK's internal SasTokenCredential (dist/esm/auth/sasTokenCredential.js,
//                not in the package "exports", so imported by file URL). Its
//                getToken(audience) calls the module-private createToken(keyName, key,
//                floor(Date.now()/1000)+3600, audience) — the same function the public
//                path uses — and lets us sign arbitrary resource URIs (e.g. hub-level).
//
// Date.now is stubbed so that expiry = floor(Date.now()/1000) + 3600 is deterministic.
// As a self-check every "public" token is re-derived via the "internal" method and the
// script aborts if they differ.

import { createClientContext, sendNotification } from "@azure/notification-hubs/api";
import { createTemplateNotification } from "@azure/notification-hubs/models";
import { createHttpHeaders } from "@azure/core-rest-pipeline";

const { SasTokenCredential } = await import(
  new URL("./node_modules/@azure/notification-hubs/dist/esm/auth/sasTokenCredential.js", import.meta.url).href
);

const realDateNow = Date.now;

/** Runs fn with Date.now stubbed so the SDK computes se === expiry. */
async function withExpiry(expiry, fn) {
  // SDK: Math.floor(Date.now() / 1000) + 3600. Add 999 ms to also exercise the floor().
  const nowMs = (expiry - 3600) * 1000 + 999;
  Date.now = () => nowMs;
  try {
    return await fn();
  } finally {
    Date.now = realDateNow;
  }
}

/** Public path: capture the Authorization header of a real sendNotification request. */
async function tokenViaPublicClient(connectionString, hubName, expiry) {
  let captured;
  const httpClient = {
    async sendRequest(request) {
      captured = request.headers.get("Authorization");
      return {
        request,
        status: 201,
        headers: createHttpHeaders({ TrackingId: "00000000-0000-0000-0000-000000000000" }),
        bodyAsText: "",
      };
    },
  };
  const context = createClientContext(connectionString, hubName, { httpClient });
  await withExpiry(expiry, () =>
    sendNotification(context, createTemplateNotification({ body: { message: "vector" } }), {
      tagExpression: "vectors",
    }),
  );
  if (!captured) throw new Error("no Authorization header captured");
  // context.baseUrl is the audience the SDK passed to getToken().
  return { audience: context.baseUrl, token: captured };
}

/** Internal path: SasTokenCredential.getToken(audience) -> createToken(). */
async function tokenViaInternal(keyName, key, audience, expiry) {
  const cred = new SasTokenCredential({ sharedAccessKeyName: keyName, sharedAccessKey: key });
  const t = await withExpiry(expiry, () => cred.getToken(audience));
  if (t.expiresOnTimestamp !== expiry) throw new Error("expiry stub mismatch");
  return t.token;
}

function parseToken(token) {
  const prefix = "SharedAccessSignature ";
  if (!token.startsWith(prefix)) throw new Error(`bad token ${token}`);
  return Object.fromEntries(token.slice(prefix.length).split("&").map((p) => p.split(/=(.*)/s).slice(0, 2)));
}

// ---- cases -----------------------------------------------------------------

const TYPICAL_KEY = "hT5b3GqL0xYkZ8m2Vw9sR4nP7eJ1cA6dF0gH2iK3lM4="; // base64, ends in '='
const PLUS_SLASH_KEY = "a+b/c+d/EfGh+IjKl/MnOpQrStUvWxYz0123456789+/=";

const publicCases = [
  {
    // Typical portal connection string.
    cs: `Endpoint=sb://nhpush-test.servicebus.windows.net/;SharedAccessKeyName=DefaultFullSharedAccessSignature;SharedAccessKey=${TYPICAL_KEY}`,
    hub: "myhub",
    expiry: 1700000000,
  },
  {
    // Key containing '+' and '/'.
    cs: `Endpoint=sb://nhpush-test.servicebus.windows.net/;SharedAccessKeyName=DefaultListenSharedAccessSignature;SharedAccessKey=${PLUS_SLASH_KEY}`,
    hub: "myhub",
    expiry: 1735689600,
  },
  {
    // Mixed-case host: the SDK lower-cases the whole audience before signing.
    cs: `Endpoint=sb://NhPush-Test.ServiceBus.Windows.NET/;SharedAccessKeyName=DefaultFullSharedAccessSignature;SharedAccessKey=${TYPICAL_KEY}`,
    hub: "MyHub",
    expiry: 2000000000,
  },
  {
    // Endpoint with a port (local emulator / test server).
    cs: `Endpoint=sb://127.0.0.1:8443/;SharedAccessKeyName=DefaultFullSharedAccessSignature;SharedAccessKey=${TYPICAL_KEY}`,
    hub: "myhub",
    expiry: 1700003600,
  },
  {
    // Key name with characters that need (or, for encodeURIComponent, do NOT get) percent-encoding.
    cs: `Endpoint=sb://nhpush-test.servicebus.windows.net/;SharedAccessKeyName=my key!*'()~;SharedAccessKey=${TYPICAL_KEY}`,
    hub: "myhub",
    expiry: 1800000000,
  },
  {
    // Non-ASCII key: the SDK HMACs the key string's UTF-8 bytes (no base64 decoding).
    cs: "Endpoint=sb://nhpush-test.servicebus.windows.net/;SharedAccessKeyName=DefaultFullSharedAccessSignature;SharedAccessKey=clé-ünïcødé-密钥-🔑",
    hub: "myhub",
    expiry: 1900000000,
  },
  {
    // Endpoint without trailing slash: audience has no trailing slash either.
    cs: `Endpoint=sb://nhpush-test.servicebus.windows.net;SharedAccessKeyName=DefaultFullSharedAccessSignature;SharedAccessKey=${TYPICAL_KEY}`,
    hub: "myhub",
    expiry: 4102444800,
  },
];

const internalCases = [
  // Hub-level resource URI.
  { keyName: "DefaultFullSharedAccessSignature", key: TYPICAL_KEY, uri: "https://nhpush-test.servicebus.windows.net/myhub", expiry: 1700000000 },
  // Hub-level, mixed-case hub name and '+'/'/' key.
  { keyName: "DefaultFullSharedAccessSignature", key: PLUS_SLASH_KEY, uri: "https://NhPush-Test.servicebus.windows.net/MyHub", expiry: 1735689600 },
  // Hub-level with trailing slash and port.
  { keyName: "DefaultFullSharedAccessSignature", key: TYPICAL_KEY, uri: "https://127.0.0.1:8443/myhub/", expiry: 2000000000 },
  // Non-ASCII key name and key.
  { keyName: "clé 名前", key: "ключ+/=", uri: "https://nhpush-test.servicebus.windows.net/myhub", expiry: 1800000000 },
  // Small expiry (Date.now() == 0 + 999 ms).
  { keyName: "DefaultFullSharedAccessSignature", key: TYPICAL_KEY, uri: "https://nhpush-test.servicebus.windows.net/", expiry: 3600 },
];

// ---- run -------------------------------------------------------------------

const vectors = [];

for (const c of publicCases) {
  const { audience, token } = await tokenViaPublicClient(c.cs, c.hub, c.expiry);
  const parsed = parseToken(token);
  if (decodeURIComponent(parsed.sr) !== audience.toLowerCase()) throw new Error(`sr mismatch for ${audience}`);
  if (parsed.se !== String(c.expiry)) throw new Error(`se mismatch: ${parsed.se} != ${c.expiry}`);
  const keyName = decodeURIComponent(parsed.skn);
  const key = c.cs.match(/SharedAccessKey=([^;]*)/)[1];
  // Self-check: the internal method must produce the identical token.
  const again = await tokenViaInternal(keyName, key, audience, c.expiry);
  if (again !== token) throw new Error(`public/internal mismatch:\n${token}\n${again}`);
  vectors.push({ method: "public", key_name: keyName, key, resource_uri: audience, expiry: c.expiry, token });
}

for (const c of internalCases) {
  const token = await tokenViaInternal(c.keyName, c.key, c.uri, c.expiry);
  vectors.push({ method: "internal", key_name: c.keyName, key: c.key, resource_uri: c.uri, expiry: c.expiry, token });
}

process.stdout.write(JSON.stringify(vectors, null, 2) + "\n");
