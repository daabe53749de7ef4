"""Where a webhook may be sent: http(s) URLs whose host resolves to public addresses only
(unless private targets are allowed: tests and closed networks)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from domain.errors import Invalid

MAX_URL_LENGTH = 2000
Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (raises OSError when it does not resolve)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _refused(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # is_global is False for private, loopback, link-local, shared (CGNAT), reserved and
    # documentation ranges alike; multicast is global yet never a receiver.
    return not ip.is_global or ip.is_multicast


def check_url(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> str:
    """The URL, stripped, if a webhook may be sent to it; Invalid naming `url` otherwise.

    Only http and https. Unless `allow_private`, every address the host resolves to must
    be public: a subscription must not turn the dispatcher against the internal network.
    """
    clean = url.strip()
    if not clean:
        raise Invalid([("url", "is required")])
    if len(clean) > MAX_URL_LENGTH:
        raise Invalid([("url", f"at most {MAX_URL_LENGTH} characters")])
    try:
        parts = urlsplit(clean)
        port = parts.port
    except ValueError as exc:
        raise Invalid([("url", f"not a valid URL: {exc}")]) from None
    if parts.scheme not in ("http", "https"):
        raise Invalid([("url", "must be an http:// or https:// URL")])
    host = parts.hostname
    if not host:
        raise Invalid([("url", "must name a host")])
    if parts.username or parts.password:
        raise Invalid([("url", "must not carry a user name or password")])
    if allow_private:
        return clean
    try:
        addresses = resolver(host, port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError):
        raise Invalid([("url", f"the host {host} does not resolve")]) from None
    bad = [a for a in addresses if _refused(a)]
    if bad or not addresses:
        raise Invalid(
            [
                (
                    "url",
                    f"the host {host} resolves to a private, loopback or link-local address"
                    f" ({', '.join(bad) or 'none'}); such targets need"
                    " MINQING_WEBHOOKS_ALLOW_PRIVATE=1",
                )
            ]
        )
    return clean
