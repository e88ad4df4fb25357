"""The harness's nodes take their console port without a race: port 0 is
read back from the node's log on both backends, and a port taken between
free_port() and the node's bind is given up for another."""
import socket

import nodes
from cli_helpers import skyctl


def test_port_zero_is_read_back(backend):
    with nodes.Node(backend, agents=1, port=0) as n:
        assert n.port > 0
        r = skyctl("ping", ":a", node=n)
    assert r.returncode == 0, r.stderr


def test_a_taken_port_is_given_up_for_another(backend, monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        ports = [taken.getsockname()[1]]
        real = nodes.free_port
        monkeypatch.setattr(nodes, "free_port", lambda: ports.pop() if ports else real())
        with nodes.Node(backend, agents=1) as n:
            assert n.port != taken.getsockname()[1]
            assert "Listen error" in n.log()
            assert skyctl("ping", ":a", node=n).returncode == 0
