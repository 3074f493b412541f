"""The URLs to paste into a sender's settings, and the note when answers.json names another."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# URLs to paste


@dataclass(frozen=True)
class TriggerUrl:
    flow: str
    trigger_type: str
    event_type: str
    url: str


def trigger_urls(flows: Any, pipeline: Any, tenant: str, base: str | None = None) -> list[TriggerUrl]:
    """For each trigger, the exact URL to paste into the sender's settings (under `base`, else
    the pipeline's base URL). Glob event types show where the sender's own event name goes."""
    out = []
    for flow in flows.flows:
        for trigger in flow.triggers:
            event = trigger.event_type
            shown = event if not any(c in event for c in "*?[") else event.replace("*", "{anything}").replace("?", "{one character}")
            out.append(TriggerUrl(flow.name, trigger.type, event, pipeline.webhook_url(tenant, shown, base)))
    if getattr(flows, "greentic_flows", None):
        # Greentic-shaped flows are reached through the v1 ingress route, not a trigger
        from ..greentic.glue import webhook_urls

        for flow_id, url in webhook_urls(base or getattr(pipeline, "base", None) or pipeline.base_url, tenant, flows).items():
            if url:
                out.append(TriggerUrl(flow_id, "ingress", "webhook", url))
    return out


def public_base_url_note(configured: str | None, public_url: str | None) -> str | None:
    """A note when answers.json's public_base_url is not the URL senders must now call."""
    if not configured or not public_url or configured.rstrip("/") == public_url.rstrip("/"):
        return None
    from ..starter import is_placeholder_url

    if is_placeholder_url(configured):
        return (
            f"answers.json's public_base_url ({configured.rstrip('/')}) is a placeholder; senders must call "
            f"{public_url.rstrip('/')}: paste the URLs above into the sender's webhook settings"
        )
    return (
        f"answers.json's public_base_url is {configured.rstrip('/')}, but senders must call {public_url.rstrip('/')}: "
        f"update the sender's webhook settings (and public_base_url, which URL-signing schemes use)"
    )
