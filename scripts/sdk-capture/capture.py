"""Captures the HTTP requests the qstash Python SDK sends, for the calls and
options it has beyond the TypeScript SDK's (callback headers, signing keys,
single DLQ messages, bulk calls with a JSON body) and the main ones again.

Run by ./run.sh, which installs the SDK into a venv under target/ and writes
the JSON lines (same layout as capture.mjs) to
tests/fixtures/operations/wire/py-sdk-<version>-surface.jsonl.
"""

import contextlib
import inspect
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version

from qstash import QStash
from qstash.log import LogState

SDK = f"qstash {version('qstash')}"
received = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _record(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        received.append(
            {
                "method": self.command,
                "raw_path": self.path,
                # The port changes from run to run; the captures should not.
                "headers": [
                    [name, "127.0.0.1" if name.lower() == "host" else value]
                    for name, value in self.headers.items()
                ],
                "body": body,
            }
        )
        answer = json.dumps({"messageId": "msg_1", "url": "https://example.com/api"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _record

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
client = QStash("test", base_url=f"http://127.0.0.1:{server.server_address[1]}", retry=False)

STEPS = [
    ("publish every option", lambda: client.message.publish(
        url="https://example.com/api",
        body="hello",
        content_type="text/plain",
        method="PUT",
        headers={"X-Tenant": "acme"},
        callback_headers={"X-Cb": "1"},
        failure_callback_headers={"X-Fcb": "2"},
        retries=4,
        retry_delay="pow(2, retried) * 1000",
        callback="https://example.com/cb",
        failure_callback="https://example.com/fail",
        delay=90,
        not_before=1900000000,
        deduplication_id="dedup-1",
        timeout=30,
        flow_control={"key": "fc-key", "parallelism": 3, "rate": 10, "period": 60},
        label="billing",
        redact={"body": True, "header": ["Authorization"]},
    )),
    ("publish_json content dedup", lambda: client.message.publish_json(
        url="https://example.com/api", body={"a": 1}, content_based_deduplication=True,
        redact={"header": True},
    )),
    ("publish url_group", lambda: client.message.publish(url_group="my-group", body="hi")),
    ("enqueue", lambda: client.message.enqueue(
        queue="my-queue", url="https://example.com/api", body="hi", content_type="text/plain",
        retries=1, callback="https://example.com/cb", callback_headers={"X-Cb": "1"},
        deduplication_id="d-1", label="q",
    )),
    ("batch_json", lambda: client.message.batch_json([
        {"url": "https://example.com/a", "body": {"a": 1}, "delay": 5, "callback_headers": {"X-Cb": "1"}},
        {"url_group": "my-group", "body": {"b": 2}, "queue": "my-queue"},
    ])),
    ("message.get", lambda: client.message.get("msg_123")),
    ("message.cancel", lambda: client.message.cancel("msg_123")),
    ("message.cancel_many", lambda: client.message.cancel_many(["msg_1", "msg_2"])),
    ("message.cancel_all", lambda: client.message.cancel_all()),
    ("schedule.create every option", lambda: client.schedule.create(
        destination="https://example.com/api",
        cron="CRON_TZ=Europe/Berlin 0 6 * * *",
        body="hello",
        content_type="text/plain",
        method="PUT",
        headers={"X-Tenant": "acme"},
        callback_headers={"X-Cb": "1"},
        failure_callback_headers={"X-Fcb": "2"},
        retries=2,
        retry_delay="1000",
        callback="https://example.com/cb",
        failure_callback="https://example.com/fail",
        delay="5m",
        timeout=20,
        schedule_id="my-schedule",
        queue="my-queue",
        flow_control={"key": "fc", "parallelism": 2, "rate": 4, "period": "1m"},
        label="a",
        redact={"body": True},
    )),
    ("schedule.create_json", lambda: client.schedule.create_json(
        destination="my-group", cron="0 0 * * *", body={"a": 1},
    )),
    ("schedule.get", lambda: client.schedule.get("my-schedule")),
    ("schedule.list", lambda: client.schedule.list()),
    ("schedule.delete", lambda: client.schedule.delete("my-schedule")),
    ("schedule.resume", lambda: client.schedule.resume("my-schedule")),
    ("queue.upsert", lambda: client.queue.upsert("my-queue", parallelism=3, paused=True)),
    ("queue.get", lambda: client.queue.get("my-queue")),
    ("queue.pause", lambda: client.queue.pause("my-queue")),
    ("url_group.upsert_endpoints", lambda: client.url_group.upsert_endpoints(
        url_group="my-group", endpoints=[{"url": "https://example.com/a", "name": "a"}])),
    ("url_group.remove_endpoints", lambda: client.url_group.remove_endpoints(
        url_group="my-group", endpoints=[{"name": "a"}])),
    ("dlq.get", lambda: client.dlq.get("d1")),
    ("dlq.list filter", lambda: client.dlq.list(cursor="c1", count=10, filter={
        "message_id": "msg_1", "url": "https://example.com/a", "url_group": "g", "queue": "q",
        "schedule_id": "s", "from_time": 1700000000000, "to_time": 1800000000000,
        "response_status": 500, "caller_ip": "1.2.3.4", "label": "l",
    })),
    ("dlq.delete", lambda: client.dlq.delete("d1")),
    ("dlq.delete_many", lambda: client.dlq.delete_many(["d1", "d2"])),
    ("log.list filter", lambda: client.log.list(cursor="123", count=50, filter={
        "message_id": "msg_1", "state": LogState.CANCELED, "url": "https://example.com/api",
        "url_group": "g", "queue": "q", "schedule_id": "s", "from_time": 1700000000000,
        "to_time": 1800000000000, "label": "l",
    })),
    ("signing_key.get", lambda: client.signing_key.get()),
    ("signing_key.rotate", lambda: client.signing_key.rotate()),
    ("flow_control.pin", lambda: client.flow_control.pin("fc", {"parallelism": 3, "rate": 10, "period": 60})),
    ("flow_control.unpin", lambda: client.flow_control.unpin("fc", {"rate": True})),
    ("flow_control.reset_rate", lambda: client.flow_control.reset_rate("fc")),
    ("flow_control.get_global_parallelism", lambda: client.flow_control.get_global_parallelism()),
]

lines = []
failed = False
for step, call in STEPS:
    before = len(received)
    try:
        # qstash 3.4.0's log.list prints the answer; keep stdout for the captures.
        with contextlib.redirect_stdout(sys.stderr):
            call()
    except Exception:
        # The request is what counts; the canned answer may not fit the call.
        pass
    requests = received[before:]
    if not requests:
        print(f'step "{step}" sent no request', file=sys.stderr)
        failed = True
    source = " ".join(inspect.getsource(call).split())
    for index, request in enumerate(requests):
        name = step if len(requests) == 1 else f"{step} #{index + 1}"
        lines.append(json.dumps({"sdk": SDK, "step": name, "call": source, **request}))
server.shutdown()
sys.stdout.write("\n".join(lines) + "\n")
sys.exit(1 if failed else 0)
