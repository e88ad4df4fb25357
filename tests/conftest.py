import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nodes  # noqa: E402


@pytest.fixture(params=nodes.backends())
def backend(request):
    """Each test using this runs against the sandbox, and real skynet if set."""
    return request.param


@pytest.fixture
def node(backend):
    """A fresh node with three agents (:a :b :c on real skynet's numbering)."""
    n = nodes.Node(backend).start()
    yield n
    n.stop()


@pytest.fixture
def sandbox_node():
    n = nodes.Node("sandbox").start()
    yield n
    n.stop()
