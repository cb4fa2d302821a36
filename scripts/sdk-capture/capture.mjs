// Captures the HTTP requests @upstash/qstash sends for every public call and
// option, against a logging server on 127.0.0.1. Run by ./run.sh, which
// installs the SDK under target/ and writes the JSON lines to
// tests/fixtures/operations/wire/js-sdk-<version>-surface.jsonl.
//
// Each line: sdk, step (a unique name the parity tests match on), call (the
// SDK call's source), method, raw_path (as on the request line), headers
// (in the order sent), body. The client runs with retries, telemetry and dev
// mode off, so the captures do not depend on the machine.
import http from "node:http";
import { readFileSync } from "node:fs";
import {
  Client,
  resend,
  openai,
  anthropic,
  custom,
  upstash,
} from "@upstash/qstash";

// The package's `exports` hide package.json; read it from where node_modules has it.
const { version } = JSON.parse(
  readFileSync(new URL("./node_modules/@upstash/qstash/package.json", import.meta.url), "utf8")
);
const sdk = `@upstash/qstash ${version}`;

const received = [];
const server = http.createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const headers = [];
    for (let i = 0; i < request.rawHeaders.length; i += 2) {
      const [name, value] = [request.rawHeaders[i], request.rawHeaders[i + 1]];
      // The port changes from run to run; the captures should not.
      headers.push([name, name.toLowerCase() === "host" ? "127.0.0.1" : value]);
    }
    received.push({
      method: request.method,
      raw_path: request.url,
      headers,
      body: Buffer.concat(chunks).toString("utf8"),
    });
    // An answer every call can read; what the SDK makes of it is not captured.
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ messageId: "msg_1", url: "https://example.com/api" }));
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const baseUrl = `http://127.0.0.1:${server.address().port}`;

const client = new Client({
  baseUrl,
  token: "test",
  retry: false,
  enableTelemetry: false,
  devMode: false,
});

const json = { a: 1 };
const steps = [
  // Publishing
  ["publish bare", () => client.publish({ url: "https://example.com/api" })],
  ["publish text", () => client.publish({ url: "https://example.com/api?x=1&y=2", body: "hello", headers: { "Content-Type": "text/plain" } })],
  ["publish every option", () => client.publish({
    url: "https://example.com/api",
    body: "hello",
    headers: { "Content-Type": "text/plain", "X-Tenant": "acme", "Upstash-Custom": "kept" },
    method: "PUT",
    delay: 90,
    notBefore: 1900000000,
    deduplicationId: "dedup-1",
    retries: 4,
    retryDelay: "pow(2, retried) * 1000",
    callback: "https://example.com/cb",
    failureCallback: "https://example.com/fail",
    timeout: 30,
    flowControl: { key: "fc-key", parallelism: 3, rate: 10, period: 60 },
    label: ["billing", "eu"],
    redact: { body: true, header: ["Authorization", "X-Key"] },
  })],
  ["publish duration strings", () => client.publish({ url: "https://example.com/api", delay: "1d10h30m", timeout: "2m", flowControl: { key: "fc-key", rate: 5, period: "1h" } })],
  ["publish content dedup", () => client.publish({ url: "https://example.com/api", body: "x", contentBasedDeduplication: true })],
  ["publish redact all", () => client.publish({ url: "https://example.com/api", body: "x", redact: { body: true, header: true } })],
  ["publish flow parallelism", () => client.publish({ url: "https://example.com/api", flowControl: { key: "k", parallelism: 2 } })],
  ["publish ratePerSecond", () => client.publish({ url: "https://example.com/api", flowControl: { key: "k", ratePerSecond: 7 } })],
  ["publish urlGroup", () => client.publish({ urlGroup: "my-group", body: "hi" })],
  ["publish topic", () => client.publish({ topic: "my-group", body: "hi" })],
  ["publishJSON", () => client.publishJSON({ url: "https://example.com/api", body: json, delay: 10, retries: 2, headers: { "x-foo": "bar" } })],
  ["publishJSON urlGroup", () => client.publishJSON({ urlGroup: "my-group", body: json, label: "one" })],
  // Provider APIs
  ["publishJSON email resend", () => client.publishJSON({ api: { name: "email", provider: resend({ token: "re_123" }) }, body: { from: "a@example.com", to: ["b@example.com"], subject: "hi", html: "<p>hi</p>" } })],
  ["publishJSON email resend batch", () => client.publishJSON({ api: { name: "email", provider: resend({ token: "re_123", batch: true }) }, body: [{ from: "a@example.com", to: ["b@example.com"], subject: "hi", html: "<p>hi</p>" }], retries: 1 })],
  ["publishJSON llm openai", () => client.publishJSON({ api: { name: "llm", provider: openai({ token: "sk-1", organization: "org-1" }) }, body: { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }, callback: "https://example.com/cb" })],
  ["publishJSON llm anthropic", () => client.publishJSON({ api: { name: "llm", provider: anthropic({ token: "ak-1" }) }, body: { model: "claude-3-5-sonnet", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }, callback: "https://example.com/cb" })],
  ["publishJSON llm custom", () => client.publishJSON({ api: { name: "llm", provider: custom({ baseUrl: "https://llm.example.com/v1/chat/completions", token: "ck-1" }) }, body: { model: "m", messages: [] }, callback: "https://example.com/cb" })],
  ["publishJSON llm helicone", () => client.publishJSON({ api: { name: "llm", provider: openai({ token: "sk-1" }), analytics: { name: "helicone", token: "hk-1" } }, body: { model: "gpt-4o", messages: [] }, callback: "https://example.com/cb" })],
  ["publishJSON llm upstash", () => client.publishJSON({ api: { name: "llm", provider: upstash() }, body: { model: "meta-llama/Meta-Llama-3-8B-Instruct", messages: [] }, callback: "https://example.com/cb" })],
  // Batch
  ["batch", () => client.batch([
    { url: "https://example.com/a", body: "a", headers: { "Content-Type": "text/plain" }, delay: 5, flowControl: { key: "k", parallelism: 1 } },
    { urlGroup: "my-group", body: "b" },
    { url: "https://example.com/c", queueName: "my-queue", body: "c", label: "l" },
  ])],
  ["batchJSON", () => client.batchJSON([
    { url: "https://example.com/a", body: json, delay: 5 },
    { url: "https://example.com/b", body: { b: 2 }, queueName: "my-queue" },
  ])],
  // Queues
  ["queue.upsert", () => client.queue({ queueName: "my-queue" }).upsert({ parallelism: 2, paused: true })],
  ["queue.upsert defaults", () => client.queue({ queueName: "my-queue" }).upsert({})],
  ["queue.get", () => client.queue({ queueName: "my-queue" }).get()],
  ["queue.list", () => client.queue().list()],
  ["queue.delete", () => client.queue({ queueName: "my-queue" }).delete()],
  ["queue.pause", () => client.queue({ queueName: "my-queue" }).pause()],
  ["queue.resume", () => client.queue({ queueName: "my-queue" }).resume()],
  ["queue.enqueue", () => client.queue({ queueName: "my-queue" }).enqueue({
    url: "https://example.com/api",
    body: "hello",
    headers: { "Content-Type": "text/plain" },
    delay: 30,
    notBefore: 1900000000,
    deduplicationId: "d-1",
    retries: 1,
    flowControl: { key: "k", parallelism: 1, rate: 2 },
    label: "q",
  })],
  ["queue.enqueueJSON", () => client.queue({ queueName: "my-queue" }).enqueueJSON({ url: "https://example.com/api", body: json, retries: 2, headers: { "x-foo": "bar" } })],
  ["queue.enqueueJSON urlGroup", () => client.queue({ queueName: "my-queue" }).enqueueJSON({ urlGroup: "my-group", body: json })],
  // Schedules
  ["schedules.create bare", () => client.schedules.create({ destination: "https://example.com/api", cron: "*/5 * * * *" })],
  ["schedules.create every option", () => client.schedules.create({
    destination: "https://example.com/api",
    cron: "CRON_TZ=America/New_York 0 9 * * MON-FRI",
    body: "hello",
    headers: { "Content-Type": "text/plain", "X-Tenant": "acme" },
    method: "PUT",
    delay: "5m",
    retries: 2,
    retryDelay: "1000",
    callback: "https://example.com/cb",
    failureCallback: "https://example.com/fail",
    timeout: 20,
    scheduleId: "my-schedule",
    queueName: "my-queue",
    flowControl: { key: "fc", parallelism: 2, rate: 4, period: "1m" },
    label: ["a", "b"],
    redact: { body: true, header: ["Authorization"] },
  })],
  ["schedules.create urlGroup", () => client.schedules.create({ destination: "my-group", cron: "0 0 * * *", body: JSON.stringify(json), delay: 10, redact: { header: true } })],
  ["schedules.get", () => client.schedules.get("my-schedule")],
  ["schedules.list", () => client.schedules.list()],
  ["schedules.delete", () => client.schedules.delete("my-schedule")],
  ["schedules.pause", () => client.schedules.pause({ schedule: "my-schedule" })],
  ["schedules.resume", () => client.schedules.resume({ schedule: "my-schedule" })],
  // URL groups
  ["urlGroups.addEndpoints", () => client.urlGroups.addEndpoints({ name: "my-group", endpoints: [{ url: "https://example.com/a", name: "a" }, { url: "https://example.com/b" }] })],
  ["urlGroups.removeEndpoints", () => client.urlGroups.removeEndpoints({ name: "my-group", endpoints: [{ name: "a" }, { url: "https://example.com/b" }] })],
  ["urlGroups.list", () => client.urlGroups.list()],
  ["urlGroups.get", () => client.urlGroups.get("my-group")],
  ["urlGroups.delete", () => client.urlGroups.delete("my-group")],
  // Messages
  ["messages.get", () => client.messages.get("msg_123")],
  ["messages.cancel one", () => client.messages.cancel("msg_123")],
  ["messages.cancel ids", () => client.messages.cancel(["msg_1", "msg_2"])],
  ["messages.cancel filter", () => client.messages.cancel({ filter: {
    fromDate: 1700000000000, toDate: 1800000000000, callerIp: ["1.2.3.4", "5.6.7.8"], label: ["a", "b"],
    flowControlKey: "fc", url: "https://example.com/api", urlGroup: "g", scheduleId: "s", queueName: ["q1", "q2"],
    host: "example.com", path: "/api",
  } })],
  ["messages.cancel all", () => client.messages.cancel({ all: true })],
  ["messages.delete", () => client.messages.delete("msg_123")],
  ["messages.deleteMany", () => client.messages.deleteMany(["msg_1", "msg_2"])],
  ["messages.deleteAll", () => client.messages.deleteAll()],
  // DLQ
  ["dlq.listMessages", () => client.dlq.listMessages()],
  ["dlq.listMessages filter", () => client.dlq.listMessages({ cursor: "c1", count: 10, filter: {
    fromDate: 1700000000000, toDate: 1800000000000, callerIp: "1.2.3.4", label: ["a", "b"], flowControlKey: "fc",
    messageId: "msg_1", url: ["https://example.com/a", "https://example.com/b"], urlGroup: "g", scheduleId: "s",
    queueName: "q", responseStatus: [500, 502],
  } })],
  ["dlq.listMessages ids", () => client.dlq.listMessages({ dlqIds: ["d1", "d2"] })],
  ["dlq.delete one", () => client.dlq.delete("d1")],
  ["dlq.delete ids", () => client.dlq.delete(["d1", "d2"])],
  ["dlq.delete filter", () => client.dlq.delete({ filter: { url: "https://example.com/a", label: "l", responseStatus: 500 }, count: 50, cursor: "c1" })],
  ["dlq.delete all", () => client.dlq.delete({ all: true })],
  ["dlq.deleteMany", () => client.dlq.deleteMany({ dlqIds: ["d1", "d2"] })],
  ["dlq.retry one", () => client.dlq.retry("d1")],
  ["dlq.retry ids", () => client.dlq.retry(["d1", "d2"])],
  ["dlq.retry filter", () => client.dlq.retry({ filter: { queueName: "q", flowControlKey: "fc" } })],
  ["dlq.retry all", () => client.dlq.retry({ all: true, count: 20 })],
  // Logs
  ["logs", () => client.logs()],
  ["logs filter", () => client.logs({ count: 50, cursor: "123", filter: {
    fromDate: 1700000000000, toDate: 1800000000000, callerIp: "1.2.3.4", label: ["a", "b"], flowControlKey: ["f1", "f2"],
    url: "https://example.com/api", urlGroup: "g", scheduleId: "s", queueName: "q", host: "example.com", path: "/api",
    state: "DELIVERED",
  } })],
  ["logs messageIds", () => client.logs({ messageIds: ["msg_1", "msg_2"] })],
  ["events", () => client.events({ filter: { state: "CANCELED" } })],
  // Flow control
  ["flowControl.get", () => client.flowControl.get("fc")],
  ["flowControl.getGlobalParallelism", () => client.flowControl.getGlobalParallelism()],
  ["flowControl.pause", () => client.flowControl.pause("fc")],
  ["flowControl.resume", () => client.flowControl.resume("fc")],
  ["flowControl.pin", () => client.flowControl.pin("fc", { parallelism: 3, rate: 10, period: 60 })],
  ["flowControl.unpin", () => client.flowControl.unpin("fc", { parallelism: true, rate: true })],
  ["flowControl.resetRate", () => client.flowControl.resetRate("fc")],
];

const lines = [];
for (const [step, call] of steps) {
  const before = received.length;
  try {
    await call();
  } catch {
    // The request is what counts; the canned answer may not fit the call.
  }
  const requests = received.slice(before);
  if (requests.length === 0) {
    console.error(`step "${step}" sent no request`);
    process.exitCode = 1;
  }
  const source = call.toString().replace(/^\(\) => /, "").replace(/\s+/g, " ");
  requests.forEach((request, index) => {
    const name = requests.length === 1 ? step : `${step} #${index + 1}`;
    lines.push(JSON.stringify({ sdk, step: name, call: source, ...request }));
  });
}
server.close();
process.stdout.write(lines.join("\n") + "\n");
