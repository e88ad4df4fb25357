"""Registered names (`.named`) as targets of the commands that need a
service's handle (inject, repl): skyctl looks the name up through debug
mode's prompt and leaves nothing in debug mode."""
import json

import pytest

import nodes
from cli_helpers import skyctl

WHOAMI = """local skynet = require "skynet"
print(string.format(":%08x", skynet.self()))
"""


@pytest.fixture
def named_node(backend):
    n = nodes.Node(backend, agents=1, services=["named"]).start()
    yield n
    n.stop()


def named_addr(node):
    """the handle of .named as `list` shows it"""
    r = skyctl("list", node=node)
    return next(l.split("\t")[0] for l in r.stdout.splitlines() if l.endswith("snlua named"))


def test_inject_into_a_name(named_node, tmp_path):
    script = tmp_path / "whoami.lua"
    script.write_text(WHOAMI)
    addr = named_addr(named_node)
    r = skyctl("inject", ".named", script, node=named_node,
               env={"XDG_STATE_HOME": str(tmp_path / "state")})
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].split()[:2] == [addr, "ok"]
    assert "    " + addr in r.stdout  # the script's own print, from inside the service
    # the service still answers its own protocol: nothing stayed in debug mode
    call = skyctl("call", ".named", '"whoami"', node=named_node)
    assert call.returncode == 0
    assert call.stdout.splitlines()[0] == "1\t%d" % int(addr[1:], 16)


def test_a_name_and_its_address_are_one_target(named_node, tmp_path):
    script = tmp_path / "whoami.lua"
    script.write_text(WHOAMI)
    addr = named_addr(named_node)
    r = skyctl("--json", "inject", ".named," + addr, script, node=named_node,
               env={"XDG_STATE_HOME": str(tmp_path / "state")})
    assert r.returncode == 0, r.stderr
    records = json.loads(r.stdout)["targets"]
    targets = [rec.get("target") for rec in records if rec.get("target")]
    assert targets == [addr]


def test_unknown_name_is_an_error_naming_it(named_node, tmp_path):
    script = tmp_path / "whoami.lua"
    script.write_text(WHOAMI)
    r = skyctl("inject", ".nosuch", script, node=named_node,
               env={"XDG_STATE_HOME": str(tmp_path / "state")})
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and ("no service is registered as .nosuch (a global "
                                          "name, registered without a dot, is %nosuch)"
                                          in r.stderr), r.stderr


def test_repl_on_a_name(named_node, tmp_path):
    addr = named_addr(named_node)
    r = skyctl("repl", ".named", node=named_node, input="string.format(':%08x', require('skynet').self())\n",
               env={"XDG_STATE_HOME": str(tmp_path / "state")})
    assert r.returncode == 0, r.stderr
    assert addr in r.stdout
