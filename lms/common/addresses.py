"""Network addresses shortened for logs: enough to see a network that misbehaves, not a person."""

from __future__ import annotations

import ipaddress

IPV4_PREFIX = 24  # 192.0.2.77 → 192.0.2.0
IPV6_PREFIX = 48  # a site, not a device


def shortened(address: str | None) -> str:
    """The address's network (/24 for IPv4, /48 for IPv6); "-" when there is none or it is no address."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return "-"
    prefix = IPV4_PREFIX if parsed.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False).network_address)
