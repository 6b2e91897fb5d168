"""Where a notification may go: an http(s) URL whose host is not, and does not resolve to,
a loopback, private, link-local or unspecified address (unless the operator allows private
destinations). Checked when a rule is saved and again when each notification is sent; the
sender connects to the very address it checked, so a DNS answer that changes in between
cannot lead it inside."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from insights.errors import BadRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Destination:
    """A checked URL: its parts and the address to connect to."""

    url: SplitResult
    host: str
    port: int
    address: str


def check_url(url: str, allow_private: bool) -> Destination:
    """The destination of `url`, or a 400 saying why it cannot be one."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest("Field channel.url must be an http or https URL with a host.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(parts.hostname, port)
    if not allow_private:
        for address in addresses:
            if is_internal(address):
                raise BadRequest(
                    f"Field channel.url points at {parts.hostname}, which is or resolves to an"
                    f" internal address ({address}); set INSIGHTS_WEBHOOK_ALLOW_PRIVATE=true"
                    " to allow it."
                )
    return Destination(parts, parts.hostname, port, str(addresses[0]))


def is_internal(address: Address) -> bool:
    """Loopback, private, link-local or unspecified (an IPv4 address mapped into IPv6 is
    judged as the IPv4 address it is)."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return (
        address.is_loopback or address.is_private or address.is_link_local or address.is_unspecified
    )


def _resolve(host: str, port: int) -> list[Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise BadRequest(f"Field channel.url names host {host}, which does not resolve.") from None
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in found))
