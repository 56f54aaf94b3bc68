"""Where the demo's messages go: a local SMTP server and a webhook receiver, each keeping
what it receives so that recipients can follow their acknowledgement links."""

from __future__ import annotations

import json
import re
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from changeledger.communication.channels import SIGNATURE_HEADER, verify

_ACK_TOKEN = re.compile(r"/acks/([A-Za-z0-9_\-.~]+)")


class Received:
    """What one recipient got: to whom, the subject, and the acknowledgement token."""

    def __init__(self, to: str, subject: str, text: str) -> None:
        self.to = to
        self.subject = subject
        found = _ACK_TOKEN.search(text)
        self.ack_token = found.group(1) if found else None


class MailSink:
    """A real SMTP server on localhost."""

    def __init__(self, port: int) -> None:
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        mail = message_from_bytes(envelope.content, policy=policy.default)
        body = mail.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        with self._lock:
            self.received.append(Received(str(mail["To"]), str(mail["Subject"]), text))
        return "250 OK"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


class WebhookSink:
    """A real HTTP receiver on localhost that accepts only correctly signed bodies."""

    def __init__(self, secret: bytes, port: int) -> None:
        self.received: list[Received] = []
        self.refused = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if not verify(secret, body, self.headers.get(SIGNATURE_HEADER)):
                    sink.refused += 1
                    self.send_response(401)
                else:
                    payload = json.loads(body)
                    link = payload.get("ack_link") or ""
                    sink.received.append(Received(self.path, payload["subject"], link))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
