"""What the webhook tests share: a real receiving server and an emit that sends on commit."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from referral_platform.webhooks.services import webhook_emit


class Receiver:
    """A real HTTP server on `host` (127.0.0.1 by default; TLS with `tls`, an SSLContext)
    that answers with the next queued status and `reply` as its body."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tls=None, reply: bytes = b"ok"):
        self.requests: list[tuple[dict, str]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                code = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(code)
                if 300 <= code < 400:
                    self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = HTTPServer((host, port), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_port
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    r = Receiver()
    yield r
    r.server.shutdown()


def emit(tenant, django_capture_on_commit_callbacks, type="reward.approved", data=None):
    with django_capture_on_commit_callbacks(execute=True):
        return webhook_emit(tenant=tenant, type=type, data=data or {"reward": {"id": 7}})
