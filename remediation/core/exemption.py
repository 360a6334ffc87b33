"""Whether an account is exempt: by setting (without end) or by a tag holding a near date."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from remediation.core.ids import ResourceId, fold
from remediation.core.settings import Settings

EXEMPT_BY_SETTING = "REMEDIATION_EXEMPT_ACCOUNT_IDS"
_VALUE_LIMIT = 64  # characters of a tag value kept in a record (the account's owner writes it)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Exemption:
    """Whether an account is exempt and why; or, when it carries the tag, why the tag does not exempt it.

    An exempt account is still observed and planned (its record holds findings and `before`); nothing is written.
    """

    exempt: bool
    by: str | None = None  # EXEMPT_BY_SETTING or "tag"
    tag: str | None = None
    value: str | None = None  # the tag's value as found (bounded)
    until: str | None = None  # ISO date or time the tag exempts until
    reason: str | None = None  # why the tag does not exempt

    def to_json(self) -> dict[str, Any] | None:
        """The record's `exemption`: None for an account neither exempt nor tagged."""
        if not self.exempt and self.tag is None:
            return None
        data = {"exempt": self.exempt, "by": self.by, "tag": self.tag, "value": self.value, "until": self.until,
                "reason": self.reason}
        return {k: v for k, v in data.items() if v is not None or k == "by"}


NOT_EXEMPT = Exemption(False)


def exemption(settings: Settings, account_id: ResourceId, tags: Mapping[str, str] | object, now: datetime) -> Exemption:
    """The one exemption rule, for `fix` and the sweep alike (DESIGN §4).

    Exempt without end: the account's ID is in REMEDIATION_EXEMPT_ACCOUNT_IDS (only operators set app settings).
    Exempt for a while: its REMEDIATION_EXEMPT_TAG tag holds an ISO date (the whole day, UTC) or date-time that has
    not passed and is no more than REMEDIATION_EXEMPT_MAX_DAYS ahead. Whoever can open an account can also tag it,
    so anything else (`true`, a date years ahead, a typo) does not exempt, and says why.
    """
    if account_id in settings.exempt_account_ids:
        return Exemption(True, by=EXEMPT_BY_SETTING)
    if not isinstance(tags, Mapping):
        return NOT_EXEMPT
    found = next(((str(k), v) for k, v in tags.items() if fold(str(k)) == fold(settings.exempt_tag)), None)
    if found is None:
        return NOT_EXEMPT
    tag, raw = found[0], str(found[1])
    value = raw.strip()
    now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    shown = Exemption(False, tag=tag, value=raw[:_VALUE_LIMIT])
    ahead = _days_ahead(value, now)  # None: unreadable; < 0: passed
    if ahead is None:
        return replace(shown, reason="not an ISO date (YYYY-MM-DD) or date-time")
    if ahead < 0:
        return replace(shown, reason="the date has passed")
    if ahead > settings.exempt_max_days:
        return replace(shown, reason=f"more than {settings.exempt_max_days} days ahead (REMEDIATION_EXEMPT_MAX_DAYS)")
    return replace(shown, exempt=True, by="tag", until=value)


def _days_ahead(value: str, now: datetime) -> float | None:
    """How far ahead the exemption ends, in days (negative once it has passed); None when unreadable.

    A date covers its whole day (UTC): today is 0 days ahead, tomorrow 1. A time without an offset is UTC.
    """
    if len(value) > 40:
        return None
    try:
        if _DATE.fullmatch(value):
            return (date.fromisoformat(value) - now.date()).days
        if "T" not in value.upper():
            return None
        until = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    until = until if until.tzinfo else until.replace(tzinfo=UTC)
    seconds = (until - now).total_seconds()
    return seconds / 86400 if seconds > 0 else -1
