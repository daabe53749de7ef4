"""The AsyncAPI 3.0 document of the integrator channels: pull feed, SSE stream, webhooks."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from domain import cloudevents
from domain.unreadable import UNREADABLE_TYPE, unreadable_envelope

_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "description": "A CloudEvents 1.0 event in structured JSON mode.",
    "properties": {
        "specversion": {"const": cloudevents.SPECVERSION},
        "id": {
            "type": "string",
            "format": "uuid",
            "description": "stable forever; the same on every channel (= webhook-id)",
        },
        "source": {"type": "string", "format": "uri-reference"},
        "type": {"type": "string"},
        "subject": {"type": "string", "format": "uuid", "description": "the aggregate id"},
        "time": {"type": "string", "format": "date-time", "description": "business time"},
        "sequence": {
            "type": "string",
            "pattern": f"^[0-9]{{{cloudevents.SEQUENCE_DIGITS}}}$",
            "description": "the log position, zero-padded; positions may have gaps",
        },
        "datacontenttype": {"const": cloudevents.DATA_CONTENT_TYPE},
        "dataschema": {
            "type": "string",
            "format": "uri",
            "description": "absolute URL of the JSON Schema of `data` (MINQING_PUBLIC_URL"
            " followed by /api/v1/events/schemas/<type>)",
        },
        "data": {"type": "object"},
    },
    "required": [
        "specversion",
        "id",
        "source",
        "type",
        "subject",
        "time",
        "sequence",
        "datacontenttype",
        "dataschema",
        "data",
    ],
}

_WEBHOOK_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "Standard Webhooks headers",
    "properties": {
        "webhook-id": {
            "type": "string",
            "description": "the CloudEvents id: a redelivery carries the same one",
        },
        "webhook-timestamp": {"type": "string", "description": "Unix seconds of the attempt"},
        "webhook-signature": {
            "type": "string",
            "description": "space-separated `v1,<base64 HMAC-SHA256 of id.timestamp.body>`"
            " under the subscription's secret (whsec_…); during a rotation both secrets sign",
        },
    },
    "required": ["webhook-id", "webhook-timestamp", "webhook-signature"],
}


def _message_name(event_type: str) -> str:
    return event_type.removeprefix(cloudevents.TYPE_PREFIX + ".").replace(".", "_")


def _messages(public_url: str) -> dict[str, Any]:
    messages: dict[str, Any] = {}
    for contract in cloudevents.CONTRACTS:
        payload = {
            "allOf": [
                {"$ref": "#/components/schemas/CloudEvent"},
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": contract.type},
                        "data": contract.schema(public_url),
                    },
                },
            ]
        }
        messages[_message_name(contract.type)] = {
            "name": contract.type,
            "title": f"{contract.aggregate} {contract.event_class.__name__}",
            "contentType": "application/json",
            "payload": payload,
        }
    # An event that can no longer be read arrives as this stand-in, in its place.
    messages[_message_name(UNREADABLE_TYPE)] = {
        "name": UNREADABLE_TYPE,
        "title": "an event that can no longer be read",
        "contentType": "application/json",
        "payload": unreadable_envelope(),
    }
    return messages


def asyncapi_document(base_url: str, public_url: str) -> dict[str, Any]:
    """The document: the server as the request reached it, schemas under `public_url`."""
    parts = urlsplit(base_url)
    messages = _messages(public_url)

    def channel_messages(channel: str) -> list[dict[str, str]]:
        return [{"$ref": f"#/channels/{channel}/messages/{name}"} for name in messages]

    component_refs = {name: {"$ref": f"#/components/messages/{name}"} for name in messages}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Minqing 民情 integrator events",
            "version": "1",
            "description": (
                "Every domain event as a CloudEvents 1.0 JSON object. Three ways to follow"
                " the log: pull pages (GET /api/v1/events?after=), a Server-Sent Events"
                " stream (GET /api/v1/events/stream, `id:` = position, Last-Event-ID"
                " resumes, `: keep-alive` comments at least every 15 s), or signed webhooks"
                " (Standard Webhooks). Positions grow in commit order but may have gaps:"
                " resume after the last position seen, never expect position + 1. `data`"
                " never carries residents' personal data; `resident_ref` is a stable"
                " pseudonym."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "minqing": {
                "host": parts.netloc,
                "protocol": parts.scheme or "http",
                "description": "this Minqing service",
                "security": [{"$ref": "#/components/securitySchemes/bearer"}],
            }
        },
        "channels": {
            "pull": {
                "address": "/api/v1/events",
                "title": "Pull feed",
                "description": (
                    "GET ?after=POS&limit=(1..1000, default 100)&type=&subject= (roles"
                    ' integrator, supervisor): {"events": [CloudEvent…], "next_after": POS};'
                    " oldest first; keep next_after and ask again."
                ),
                "messages": component_refs,
            },
            "stream": {
                "address": "/api/v1/events/stream",
                "title": "Server-Sent Events",
                "description": (
                    "text/event-stream: each event as `id: <position>` and `data: <CloudEvent"
                    " JSON>`; heartbeats are `: keep-alive` comment lines; Last-Event-ID or"
                    " ?after= resumes; same filters as the pull feed."
                ),
                "messages": component_refs,
                "bindings": {"http": {"method": "GET", "bindingVersion": "0.3.0"}},
            },
            "webhooks": {
                "address": "{subscriptionUrl}",
                "title": "Webhooks",
                "description": (
                    "POST to each subscription's URL, one CloudEvent per request, signed per"
                    " Standard Webhooks; at-least-once (deduplicate on webhook-id), in order"
                    " per concern; subscriptions at /api/v1/webhooks."
                ),
                "parameters": {
                    "subscriptionUrl": {"description": "the URL given when subscribing"}
                },
                "messages": {
                    name: {"$ref": f"#/components/messages/{name}_webhook"} for name in messages
                },
                "bindings": {"http": {"method": "POST", "bindingVersion": "0.3.0"}},
            },
        },
        "operations": {
            "pullEvents": {
                "action": "receive",
                "channel": {"$ref": "#/channels/pull"},
                "summary": "Read pages of events after a position.",
                "messages": channel_messages("pull"),
            },
            "streamEvents": {
                "action": "receive",
                "channel": {"$ref": "#/channels/stream"},
                "summary": "Receive events live as Server-Sent Events.",
                "messages": channel_messages("stream"),
            },
            "receiveWebhook": {
                "action": "receive",
                "channel": {"$ref": "#/channels/webhooks"},
                "summary": "Receive signed webhook deliveries.",
                "messages": channel_messages("webhooks"),
            },
        },
        "components": {
            "schemas": {"CloudEvent": _ENVELOPE, "WebhookHeaders": _WEBHOOK_HEADERS},
            "messages": {
                **messages,
                **{
                    f"{name}_webhook": {
                        **message,
                        "headers": {"$ref": "#/components/schemas/WebhookHeaders"},
                    }
                    for name, message in messages.items()
                },
            },
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a Minqing token of a principal with role integrator or"
                    " supervisor",
                }
            },
        },
    }
