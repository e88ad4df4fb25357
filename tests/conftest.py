import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nodes  # noqa: E402  (importing it isolates HOME and XDG_*)


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


@pytest.fixture
def state(tmp_path):
    """skyctl's state dir (audit log, history) for one test: see skyctl_at"""
    return tmp_path / "state"


@pytest.fixture
def env(tmp_path):
    """An environment of the test's own for the repl: HOME, XDG dirs, a terminal."""
    e = {k: v for k, v in os.environ.items() if not k.startswith(("SKYCTL_", "XDG_"))}
    e.update(HOME=str(tmp_path / "home"), XDG_STATE_HOME=str(tmp_path / "state"),
             XDG_CONFIG_HOME=str(tmp_path / "config"), TERM="xterm", NO_COLOR="1")
    os.makedirs(e["HOME"])
    return e
