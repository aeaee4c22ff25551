"""What keeps patient data in the browser that sent it: security headers on every
response (no caching, no referrer, no framing, a strict Content-Security-Policy), a
body size limit, CSRF tokens (double-submit cookie) and signed records for downloads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOG = logging.getLogger("make_handouts.access")
MAX_BODY_BYTES = 1_000_000
CSRF_COOKIE = "make_handouts_csrf"
RECORD_MAX_AGE_S = 12 * 3600

SECURITY_HEADERS = {
    "cache-control": "no-store",
    "pragma": "no-cache",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
}


class Signer:
    """Signs what the server hands to the browser to send back (the validated record in
    the download form), with a key that lives only as long as the process."""

    def __init__(self, key: bytes | None = None):
        self.key = key or secrets.token_bytes(32)

    def _mac(self, body: bytes) -> str:
        return hmac.new(self.key, body, hashlib.sha256).hexdigest()

    def sign(self, payload: Any) -> str:
        body = base64.urlsafe_b64encode(json.dumps(
            {"t": int(time.time()), "p": payload}, ensure_ascii=False).encode())
        return f"{body.decode()}.{self._mac(body)}"

    def unsign(self, token: str, max_age: float = RECORD_MAX_AGE_S) -> Any:
        """The payload, or None when the token was altered, forged or is too old."""
        body, _, mac = token.partition(".")
        if not hmac.compare_digest(mac, self._mac(body.encode())):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body.encode()))
        except ValueError:
            return None
        if time.time() - data["t"] > max_age:
            return None
        return data["p"]


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_valid(cookie: str | None, submitted: object) -> bool:
    """Double-submit: the form's token must equal the cookie only this site can set."""
    return (isinstance(cookie, str) and isinstance(submitted, str) and len(cookie) >= 32
            and hmac.compare_digest(cookie, submitted))


class Guard:
    """ASGI middleware: refuses bodies over `limit` (whatever Content-Length says) with
    the page `too_large` makes, puts the security headers on every response and logs
    each request as method, path (never the query or the body), status and time."""

    def __init__(self, app: ASGIApp, too_large: Callable[[Scope], Awaitable[ASGIApp]],
                 limit: int = MAX_BODY_BYTES):
        self.app = app
        self.too_large = too_large
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                ACCESS_LOG.info("%s %s %s %.0f ms", scope["method"], scope["path"],
                                message["status"], (time.perf_counter() - started) * 1000)
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.decode().lower() not in SECURITY_HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await (await self.too_large(scope))(scope, receive, send_secured)
            return
        body = bytearray()
        more = scope["method"] in ("POST", "PUT", "PATCH")
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                await (await self.too_large(scope))(scope, receive, send_secured)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send_secured)
