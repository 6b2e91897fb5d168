"""413 for a body over the limit, whether announced by Content-Length or streamed."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from insights.errors import PayloadTooLarge
from insights.settings import Settings
from insights.web.errors import json_error


class BodyLimit:
    """The member upload streams up to `max_body_bytes`; every JSON body, parsed in memory,
    is held to the smaller `max_json_body_bytes`."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.stream_limit = settings.max_body_bytes
        self.json_limit = settings.max_json_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.stream_limit if scope["path"].endswith("/members") else self.json_limit
        too_large = PayloadTooLarge(f"The request body is over {limit} bytes.")
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await json_error(too_large)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large
            return message

        await self.app(scope, counted, send)
