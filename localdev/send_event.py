"""Post a sample or recorded Event Grid event to a running Functions host, the way Event Grid delivers it.

    python -m localdev.send_event arm-write-success-eventgrid \\
        --subject /subscriptions/<sub>/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/aoai-prod \\
        --operation Microsoft.CognitiveServices/accounts/write

The argument is a JSON file (one event or a list) or the name of a reference sample in
`<repo>/tests/fixtures/events/` (with or without `.json`). Each event is posted on its own, like
Event Grid with batching off (`--batch` sends the list in one request). A subscription-validation event
is sent with `aeg-event-type: SubscriptionValidation`, everything else as `Notification`.
Prints the HTTP status of every request; exits 1 when any request fails.
"""
from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from localdev.arm_events import DEFAULT_WEBHOOK_URL, event_time, is_cloud_event, post_events, to_cloud_event

REPO = Path(__file__).resolve().parents[1]
EVENTS_DIR = REPO / "tests" / "fixtures" / "events"
VALIDATION_EVENT = "Microsoft.EventGrid.SubscriptionValidationEvent"


def find_events_file(name: str, events_dir: Path = EVENTS_DIR) -> Path:
    path = Path(name)
    if path.is_file():
        return path
    for candidate in (events_dir / name, events_dir / f"{name}.json"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no file {name!r} and no sample {name!r} in {events_dir}")


def load_events(name: str, events_dir: Path = EVENTS_DIR) -> list[dict[str, Any]]:
    data = json.loads(find_events_file(name, events_dir).read_text(encoding="utf-8"))
    events = data if isinstance(data, list) else [data]
    if not events or not all(isinstance(e, dict) for e in events):
        raise ValueError(f"{name}: expected an event object or a list of them")
    return events


def _set_ci(d: dict[str, Any], key: str, value: Any, *, only_existing: bool = False) -> None:
    """Set d[key] whatever the casing of the existing key (captures use PascalCase sometimes)."""
    for k in d:
        if k.lower() == key.lower():
            d[k] = value
            return
    if not only_existing:
        d[key] = value


def _get_ci(d: dict[str, Any], key: str) -> Any:
    return next((v for k, v in d.items() if k.lower() == key.lower()), None)


def rewrite(event: dict[str, Any], *, subject: str | None = None, operation: str | None = None,
            fresh: bool = False) -> dict[str, Any]:
    """Point a documented sample at a real resource: subject + resourceUri (+ scope, subscription),
    operationName (+ authorization action); `fresh` gives a new id and the current time."""
    e = copy.deepcopy(event)
    data = e.get("data") if isinstance(e.get("data"), dict) else None
    auth = _get_ci(data, "authorization") if data else None
    auth = auth if isinstance(auth, dict) else None
    if subject:
        e["subject"] = subject
        segs = [s for s in subject.split("/") if s]
        sub = segs[1] if len(segs) >= 2 and segs[0].lower() == "subscriptions" else None
        if data is not None:
            _set_ci(data, "resourceUri", subject)
            if sub:
                _set_ci(data, "subscriptionId", sub, only_existing=True)
            info = _get_ci(data, "resourceInfo")  # resource notification events
            if isinstance(info, dict):
                _set_ci(info, "id", subject, only_existing=True)
        if auth is not None:
            _set_ci(auth, "scope", subject, only_existing=True)
        if sub:
            for k in ("topic", "source"):
                if k in e:
                    e[k] = f"/subscriptions/{sub}"
    if operation:
        if data is not None:
            _set_ci(data, "operationName", operation)
        if auth is not None:
            _set_ci(auth, "action", operation, only_existing=True)
    if fresh:
        e["id"] = str(uuid.uuid4())
        now = event_time(dt.datetime.now(dt.UTC))
        for k in ("eventTime", "time"):
            if k in e:
                e[k] = now
    return e


def event_kind(event: dict[str, Any]) -> str:
    kind = event.get("eventType") or event.get("type") or ""
    return "SubscriptionValidation" if kind == VALIDATION_EVENT else "Notification"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m localdev.send_event", description=__doc__.split("\n\n")[0])
    p.add_argument("source", help="JSON file, or a sample name from the reference events folder")
    p.add_argument("--url", default=DEFAULT_WEBHOOK_URL, help=f"webhook URL (default {DEFAULT_WEBHOOK_URL})")
    p.add_argument("--cloudevents", action="store_true", help="send Event Grid schema events as CloudEvents 1.0")
    p.add_argument("--subject", help="resource ID to put in subject / resourceUri")
    p.add_argument("--operation",
                   help="operationName to put in the event, e.g. Microsoft.CognitiveServices/accounts/write")
    p.add_argument("--fresh", action="store_true", help="new event id and current event time")
    p.add_argument("--batch", action="store_true", help="send all events in one request")
    p.add_argument("--events-dir", type=Path, default=EVENTS_DIR, help="where sample names are looked up")
    p.add_argument("--timeout", type=float, default=30.0)
    args = p.parse_args(argv)

    try:
        events = load_events(args.source, args.events_dir)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    events = [rewrite(e, subject=args.subject, operation=args.operation, fresh=args.fresh) for e in events]
    if args.cloudevents:
        events = [e if is_cloud_event(e) else to_cloud_event(e) for e in events]

    batches = [events] if args.batch else [[e] for e in events]
    failed = False
    for batch in batches:
        first = batch[0]
        label = f"{first.get('eventType') or first.get('type')} {first.get('subject', '')}".strip()
        try:
            status, body = post_events(args.url, batch, event_type=event_kind(first), timeout=args.timeout,
                                       raise_for_status=False)
        except OSError as e:
            print(f"POST {args.url} -> failed: {e} ({label})", file=sys.stderr)
            failed = True
            continue
        ok = 200 <= status <= 204
        failed |= not ok
        print(f"POST {args.url} -> {status} ({label})")
        text = body.decode("utf-8", "replace").strip()
        if text and (not ok or event_kind(first) == "SubscriptionValidation"):
            print(text[:2000])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
