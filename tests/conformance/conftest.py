"""Fixtures for the conformance suite: one shared node per backend for the
checks that leave it as they found it, a fresh node for destructive ones."""
import pytest

import nodes
import transcript


@pytest.fixture(scope="module", params=nodes.backends())
def shared(request):
    """A module-wide node (3 agents + loopy, sleeper, named); don't break it."""
    n = transcript.start(request.param)
    yield n
    n.stop()


@pytest.fixture
def fresh(backend):
    """A node of its own for a check that kills, exits, signals or debugs."""
    n = transcript.start(backend)
    yield n
    n.stop()


@pytest.fixture
def con(shared):
    """A console connection to the shared node, closed afterwards."""
    c = transcript.connect(shared)
    yield c
    c.close()
