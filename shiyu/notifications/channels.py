"""Outbound channels. A city plugs in its SMS gateway or WeChat template messages by
implementing `Channel`; the default records the message and logs it."""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger("shiyu.notifications")


class Channel(Protocol):
    name: str

    def send(self, recipient: str, body: str) -> str:
        """Deliver; return a status ('sent', 'failed', ...)."""
        ...


class LoggingChannel:
    def __init__(self, name: str) -> None:
        self.name = name

    def send(self, recipient: str, body: str) -> str:
        log.info("outbound message", extra={"channel": self.name, "chars": len(body)})
        return "sent"


CHANNELS: dict[str, Channel] = {"sms": LoggingChannel("sms"), "wechat": LoggingChannel("wechat")}
