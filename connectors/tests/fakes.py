"""Local fakes of the payout providers' HTTP APIs, on 127.0.0.1, started by the tests: they
honour idempotency keys as the providers document, and can accept a request and then answer
too late (the client times out after the provider has acted)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class FakeProvider:
    def __init__(self):
        self.by_key: dict[str, tuple[int, dict]] = {}
        self.requests: list[tuple[str, str, dict, str]] = []  # method, path, headers, body
        self.delay_once = 0.0  # act, then wait this long before answering (once)
        self.fail_with: tuple[int, dict] | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, code: int, body: dict):
                raw = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                # The client may have given up waiting (the timeout tests).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(raw)

            def _handle(self, method: str):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append((method, self.path, headers, body))
                code, answer = fake.route(method, self.path, headers, body)
                if fake.delay_once:
                    delay, fake.delay_once = fake.delay_once, 0.0
                    time.sleep(delay)
                self._answer(code, answer)

            def do_POST(self):  # noqa: N802
                self._handle("POST")

            def do_GET(self):  # noqa: N802
                self._handle("GET")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def route(self, method, path, headers, body) -> tuple[int, dict]:
        raise NotImplementedError


class FakeStripe(FakeProvider):
    """POST /v1/transfers with `Idempotency-Key`: the same key answers the first transfer."""

    def __init__(self):
        super().__init__()
        self.transfers: list[dict] = []

    def route(self, method, path, headers, body):
        if method == "POST" and path == "/v1/transfers":
            key = headers.get("idempotency-key", "")
            if key in self.by_key:
                return self.by_key[key]
            if self.fail_with:
                return self.fail_with
            form = {k: v[0] for k, v in parse_qs(body).items()}
            transfer = {
                "id": f"tr_{len(self.transfers) + 1:04d}",
                "object": "transfer",
                "amount": int(form["amount"]),
                "currency": form["currency"],
                "destination": form["destination"],
                "transfer_group": form.get("transfer_group"),
                "reversed": False,
            }
            self.transfers.append(transfer)
            self.by_key[key] = (200, transfer)
            return 200, transfer
        return 404, {
            "error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}
        }


class FakePaypal(FakeProvider):
    """OAuth token, POST /v1/payments/payouts with `PayPal-Request-Id`, GET a batch."""

    def __init__(self):
        super().__init__()
        self.batches: dict[str, dict] = {}
        self.item_status = "SUCCESS"
        self.item_errors: dict = {}

    def route(self, method, path, headers, body):
        if path == "/v1/oauth2/token":
            return 200, {"access_token": "A21AAFake", "token_type": "Bearer", "expires_in": 32400}
        if headers.get("authorization") != "Bearer A21AAFake":
            return 401, {"name": "AUTHENTICATION_FAILURE"}
        if method == "POST" and path == "/v1/payments/payouts":
            key = headers.get("paypal-request-id", "")
            if key in self.by_key:
                return self.by_key[key]
            if self.fail_with:
                return self.fail_with
            payload = json.loads(body)
            batch_id = f"5UXD2E8A7EB{len(self.batches) + 1:03d}"
            self.batches[batch_id] = payload
            answer = {
                "batch_header": {
                    "sender_batch_header": payload["sender_batch_header"],
                    "payout_batch_id": batch_id,
                    "batch_status": "PENDING",
                }
            }
            self.by_key[key] = (201, answer)
            return 201, answer
        if method == "GET" and path.startswith("/v1/payments/payouts/"):
            batch_id = path.rsplit("/", 1)[1]
            if batch_id not in self.batches:
                return 404, {"name": "INVALID_RESOURCE_ID"}
            item = {"payout_item_id": "8AELMXH8UB2P8", "transaction_status": self.item_status}
            if self.item_errors:
                item["errors"] = self.item_errors
            return 200, {
                "batch_header": {"payout_batch_id": batch_id, "batch_status": "SUCCESS"},
                "items": [item],
            }
        return 404, {"name": "NOT_FOUND"}


class FakeHubspot(FakeProvider):
    """The CRM v3 batch upserts of contacts and deals; `statuses` queues answers to give
    before the normal 200."""

    def __init__(self):
        super().__init__()
        self.statuses: list[int] = []
        self.upserts: list[tuple[str, dict]] = []  # (object type, input)

    def route(self, method, path, headers, body):
        if headers.get("authorization") != "Bearer pat-na1-acme":
            return 401, {"status": "error", "category": "INVALID_AUTHENTICATION"}
        if self.statuses:
            code = self.statuses.pop(0)
            return code, {"status": "error", "message": "Property referral_status does not exist"}
        for kind in ("contacts", "deals"):
            if method == "POST" and path == f"/crm/v3/objects/{kind}/batch/upsert":
                inputs = json.loads(body)["inputs"]
                self.upserts.extend((kind, item) for item in inputs)
                results = [
                    {"id": str(1000 + len(self.upserts)), "properties": item["properties"]}
                    for item in inputs
                ]
                return 200, {"status": "COMPLETE", "results": results}
        return 404, {"status": "error", "message": "Not found"}
