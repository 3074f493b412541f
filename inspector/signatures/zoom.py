"""Zoom: `x-zm-signature: v0=<hex>` over `v0:timestamp:body`, `x-zm-request-timestamp` in seconds."""

from __future__ import annotations

from .registry import register
from .slack import VersionedTimestampHmac


@register
class Zoom(VersionedTimestampHmac):
    algorithm = "zoom"
    header = "x-zm-signature"
    headers = ("x-zm-signature", "x-zm-request-timestamp")
    timestamp_header = "x-zm-request-timestamp"
    tolerance = 300.0
    # Zoom documents no window of its own; like Stripe's and HubSpot's, only age is checked.
    both_ways = False
    provider = "Zoom"
