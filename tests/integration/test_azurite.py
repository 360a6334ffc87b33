"""localdev.azurite against a real Azurite: tables and queues through the SDK clients the app uses."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.data.tables import TableServiceClient, UpdateMode
from azure.storage.queue import QueueClient

from localdev.azurite import Azurite, AzuriteError, port_open


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    with Azurite(tmp_path_factory.mktemp("azurite")) as running:
        yield running


def test_connection_string_names_each_service(azurite: Azurite) -> None:
    conn = dict(part.split("=", 1) for part in azurite.connection_string.rstrip(";").split(";"))
    assert conn["AccountName"] == "devstoreaccount1"
    assert conn["BlobEndpoint"] == f"http://127.0.0.1:{azurite.blob_port}/devstoreaccount1"
    assert conn["QueueEndpoint"] == f"http://127.0.0.1:{azurite.queue_port}/devstoreaccount1"
    assert conn["TableEndpoint"] == f"http://127.0.0.1:{azurite.table_port}/devstoreaccount1"
    assert len(set(azurite.ports)) == 3 and 0 not in azurite.ports


def test_table_upsert_and_query(azurite: Azurite) -> None:
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    table = service.create_table_if_not_exists("audit" + uuid.uuid4().hex[:8])
    table.upsert_entity({"PartitionKey": "acct1", "RowKey": "r1", "outcome": "compliant"})
    table.upsert_entity(
        {"PartitionKey": "acct1", "RowKey": "r1", "durationMs": 12}, mode=UpdateMode.MERGE
    )
    table.upsert_entity({"PartitionKey": "acct2", "RowKey": "r1", "outcome": "failed"})

    rows = list(
        table.query_entities("PartitionKey eq @pk", parameters={"pk": "acct1"})
    )
    assert [(r["RowKey"], r["outcome"], r["durationMs"]) for r in rows] == [("r1", "compliant", 12)]


def test_queue_send_receive_delete(azurite: Azurite) -> None:
    queue = QueueClient.from_connection_string(
        azurite.connection_string, "work-" + uuid.uuid4().hex[:8]
    )
    queue.create_queue()
    queue.send_message('{"resourceId": "/subscriptions/x"}')

    received = queue.receive_message(visibility_timeout=30)
    assert received is not None
    assert received.content == '{"resourceId": "/subscriptions/x"}'
    assert received.dequeue_count == 1
    queue.delete_message(received)
    assert queue.get_queue_properties().approximate_message_count == 0


def test_stop_closes_every_port(tmp_path: Path) -> None:
    azurite = Azurite(tmp_path / "azurite").start()
    ports = azurite.ports
    assert all(port_open("127.0.0.1", port) for port in ports)
    assert (tmp_path / "azurite" / "azurite.log").exists()
    azurite.stop()
    assert not any(port_open("127.0.0.1", port) for port in ports)
    azurite.stop()  # a second stop is harmless


def test_busy_fixed_port_is_a_clear_error(azurite: Azurite, tmp_path: Path) -> None:
    clash = Azurite(tmp_path / "clash", blob_port=azurite.blob_port, queue_port=1, table_port=2)
    with pytest.raises(AzuriteError, match="already in use"):
        clash.start(timeout=5)
    assert clash.process is None
