"""A record always fits a Table row (remediation/bounds.py): long lists cut to their first entries plus a count."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from remediation.core.bounds import MAX_RECORD_CHARS, bounded, size

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                    lambda inner: st.lists(inner, max_size=8) | st.dictionaries(st.text(max_size=8), inner, max_size=8),
                    max_leaves=40)


def test_a_record_that_fits_is_kept_as_it_is() -> None:
    record = {"id": "1", "findings": [{"code": "X"}] * 60, "before": {"publicNetworkAccess": "Enabled"}}
    assert bounded(record) is record


def test_long_lists_keep_their_first_entries_and_say_how_many_were_cut() -> None:
    connections = [{"name": f"c{i}", "privateEndpoint": "/subscriptions/x/" + "p" * 300, "status": "Disconnected"}
                   for i in range(5000)]
    record = {"id": "1", "outcome": "remediated", "before": {"privateEndpointConnections": connections},
              "findings": [{"code": "PRIVATE_ENDPOINT_MISSING", "actual": ["Disconnected"] * 5000}]}

    cut = bounded(record)

    assert size(cut) <= MAX_RECORD_CHARS
    assert cut["before"]["privateEndpointConnections"] == connections[:50]
    assert cut["before"]["privateEndpointConnectionsOmitted"] == 4950
    assert cut["findings"][0]["actual"] == ["Disconnected"] * 50 and cut["findings"][0]["actualOmitted"] == 4950


def test_very_long_strings_are_cut_too() -> None:
    cut = bounded({"id": "1", "error": "e" * (MAX_RECORD_CHARS + 10)})
    assert size(cut) <= MAX_RECORD_CHARS and cut["error"].startswith("eeee") and "more characters" in cut["error"]


@given(st.dictionaries(st.text(max_size=8), JSON, max_size=6), st.integers(1, 400))
def test_any_record_fits(record: dict[str, Any], copies: int) -> None:
    record = {**record, "many": [record] * copies}
    assert size(bounded(record)) <= MAX_RECORD_CHARS
