"""The port that `serve --workers N` shares: each worker listens on a socket of its own.

With uvicorn's one socket for all its workers, the worker whose event loop runs first
accepts a whole burst of new connections. In the commands benchmark one worker once got
30 of wrk's 32 connections and the other 2: the lone worker's commands shared no commits
(9,572 writes for 9,785 saves), each holding the store's lock for the other, and the pair
did 0.42 of the raw save rate instead of 0.58. With SO_REUSEPORT each worker binds a
socket of its own to the port, and the kernel spreads new connections over them by their
addresses.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

#: Where the kernel spreads connections over sockets sharing a port (elsewhere, macOS
#: say, SO_REUSEPORT exists but hands every connection to one of them).
SUPPORTED = sys.platform == "linux"


class SharedPort(socket.socket):
    """Held by uvicorn's supervisor: bound (so a port in use fails at once), never
    listening, so it is given no connection. Each worker it starts receives, in its
    place, a fresh socket bound to the same address, which the worker listens on."""

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return (_bound, (self.family, self.getsockname()))


def shared_port(host: str, port: int) -> SharedPort:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = SharedPort(family, socket.SOCK_STREAM)
    _bind(sock, (host, port))
    return sock


def _bound(family: socket.AddressFamily, address: Any) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    _bind(sock, address)
    return sock


def _bind(sock: socket.socket, address: Any) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
