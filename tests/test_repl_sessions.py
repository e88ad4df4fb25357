"""What a prompt leaves in a service: the environments of its last 16
prompts at most (a prompt killed with -9 never says goodbye), and each
prompt has `skynet` at hand."""
import pytest

import nodes
from cli_helpers import skyctl

COUNT = "local n = 0 for _ in pairs(package.loaded.skyctl.sessions) do n = n + 1 end return n\n"


@pytest.fixture
def one_agent(backend):
    n = nodes.Node(backend, agents=1).start()
    yield n
    n.stop()


def test_skynet_is_at_hand(one_agent, tmp_path):
    r = skyctl("repl", ":a", node=one_agent, input="skynet.self()\n",
               env={"XDG_STATE_HOME": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    assert int(r.stdout) & 0xffffff == 0xa  # :a, whatever the harbor bits


def test_old_sessions_are_dropped(one_agent, tmp_path):
    for i in range(20):
        r = skyctl("repl", ":a", node=one_agent, input="mine = %d\nmine\n" % i,
                   env={"XDG_STATE_HOME": str(tmp_path)})
        assert r.returncode == 0 and r.stdout.strip() == str(i), r.stderr
    r = skyctl("repl", ":a", node=one_agent, input=COUNT, env={"XDG_STATE_HOME": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "16"
