"""The embedded broker never hands a worker a half-written message."""

from __future__ import annotations

from queue import Empty

import pytest
from kombu import Connection

from config.settings import filesystem_broker_options


@pytest.fixture
def channel(tmp_path):
    with Connection("filesystem://", transport_options=filesystem_broker_options(tmp_path)) as conn:
        yield conn.default_channel, tmp_path / "queue"


def test_a_message_appears_only_once_it_is_whole(channel) -> None:
    chan, folder = channel
    chan._put("jobs", {"body": "x" * 100_000})
    names = [p.name for p in folder.iterdir()]
    assert len(names) == 1 and names[0].endswith(".jobs.msg")
    assert chan._get("jobs") == {"body": "x" * 100_000}


def test_a_write_cut_short_is_never_taken_for_a_message(channel) -> None:
    chan, folder = channel
    (folder / "1_dead.jobs.msg.part").write_bytes(b"")  # a producer died mid-write
    with pytest.raises(Empty):
        chan._get("jobs")
