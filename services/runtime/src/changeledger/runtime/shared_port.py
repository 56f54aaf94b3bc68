"""The port that `serve --workers N` shares: each worker listens on a socket of its own.

With uvicorn's one socket for all its workers, the worker whose event loop runs first
accepts a whole burst of new connections. In the commands benchmark one worker once got
30 of wrk's 32 connections and the other 2: the worker with 2 wrote each of its saves
alone (9,572 writes for 9,785 saves), each write holding the store's lock against the
other worker, and the pair did 0.42 of the raw save rate instead of 0.58. With
SO_REUSEPORT each worker binds a socket of its own to the port, and the kernel spreads
new connections over them by their addresses.

In the runtime package rather than the command line's: a worker imports this module to
receive its socket, and nothing more.
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import Any

log = logging.getLogger("uvicorn.error")

#: Where the kernel spreads connections over sockets sharing a port (elsewhere, macOS
#: say, SO_REUSEPORT exists but hands every connection to one of them).
SUPPORTED = sys.platform == "linux"

#: The exit code with which uvicorn's supervisor stops restarting a worker.
STARTUP_FAILURE = 3


class PortInUse(OSError):
    pass


class SharedPort(socket.socket):
    """Held by uvicorn's supervisor: bound, never listening, so it is given no
    connection. Each worker it starts receives, in its place, a fresh socket bound to
    the same address, which the worker listens on."""

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return (_bound, (self.family, self.getsockname()))


def shared_port(host: str, port: int) -> SharedPort:
    """The supervisor's socket; PortInUse when anything else listens on the port (another
    instance of the service included: with SO_REUSEPORT alone it would join this one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortInUse(f"cannot listen on {host}:{port}: {error.strerror}") from None
        if port == 0:
            port = probe.getsockname()[1]
    sock = SharedPort(family, socket.SOCK_STREAM)
    _bind(sock, (host, port))
    return sock


def _bound(family: socket.AddressFamily, address: Any) -> socket.socket:
    """In a worker, as it starts: its own socket on the shared port. When the port was
    taken meanwhile (while no worker listened), the worker exits as failed to start, so
    that the supervisor does not start it again and again."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        _bind(sock, address)
    except OSError as error:
        log.error("cannot listen on %s: %s", address, error.strerror)
        sys.exit(STARTUP_FAILURE)
    return sock


def _bind(sock: socket.socket, address: Any) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
