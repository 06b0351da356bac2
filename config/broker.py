"""kombu's filesystem transport (the embedded default broker) with an atomic put.

Upstream writes each message file in place in the queue folder, so a consumer polling the
folder can take it while it is still empty or half written; the empty payload then kills the
worker ("Unrecoverable error: JSONDecodeError"). Here the message is written under a name the
consumer ignores and renamed into place, which is atomic on POSIX file systems.
`config/celery.py` registers this class for `filesystem://` URLs.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: dict, **kwargs: object) -> None:
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        staging = final + ".part"  # not "<queue>.msg": consumers skip it
        try:
            with open(staging, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(staging, final)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
