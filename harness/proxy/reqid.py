"""Request ids in the xid format Toxiproxy sends in ``X-Toxiproxy-Request-Id``.

An xid is 12 bytes (4 time, 3 machine, 2 pid, 3 counter) in lower-case base32hex without
padding: 20 characters, sortable by time.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import socket
import time

_ALPHABET = "0123456789abcdefghijklmnopqrstuv"
_MACHINE = hashlib.md5(socket.gethostname().encode(), usedforsecurity=False).digest()[:3]
_PID = (os.getpid() & 0xFFFF).to_bytes(2, "big")
_COUNTER = itertools.count(int.from_bytes(os.urandom(3), "big"))


def new_request_id() -> str:
    raw = (
        int(time.time()).to_bytes(4, "big")
        + _MACHINE
        + _PID
        + (next(_COUNTER) & 0xFFFFFF).to_bytes(3, "big")
    )
    n = int.from_bytes(raw, "big") << 4  # 96 bits padded to 100 = 20 base32 digits
    return "".join(_ALPHABET[(n >> (5 * i)) & 31] for i in range(19, -1, -1))
