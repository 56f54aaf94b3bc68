"""The port `serve --workers` shares: a socket of each worker's own, and one instance."""

import pickle
import socket
from multiprocessing.reduction import ForkingPickler

import pytest

from changeledger.runtime.shared_port import SUPPORTED, PortInUse, shared_port

pytestmark = pytest.mark.skipif(not SUPPORTED, reason="SO_REUSEPORT spreads connections on Linux")


def test_a_worker_receives_a_socket_of_its_own_on_the_same_port() -> None:
    with shared_port("127.0.0.1", 0) as supervisors:
        # As uvicorn's supervisor hands its sockets to a spawned worker.
        worker = pickle.loads(ForkingPickler.dumps(supervisors))
        other = pickle.loads(ForkingPickler.dumps(supervisors))
        try:
            worker.listen()
            other.listen()
            assert worker.getsockname() == other.getsockname() == supervisors.getsockname()
            assert worker.fileno() != other.fileno()
            assert worker.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        finally:
            worker.close()
            other.close()


def test_a_second_instance_on_a_port_in_use_is_refused() -> None:
    with shared_port("127.0.0.1", 0) as first:
        worker = pickle.loads(ForkingPickler.dumps(first))
        try:
            worker.listen()
            with pytest.raises(PortInUse, match=r"cannot listen on 127\.0\.0\.1"):
                shared_port("127.0.0.1", first.getsockname()[1])
        finally:
            worker.close()
