"""skyctl stuck: finds a service spinning in a loop (and nothing when none
is), in table, TSV and JSON; --signal interrupts it, checks it answers
again, and points at the node's log; TARGET narrows the search; a cluster
with a stuck service on one node; exit codes."""
import json
import os
import re

import pytest

import nodes
from cli_helpers import (LIST_LINE, FakeServer, launcher_list, read_line, skyctl, tsv,
                         until_closed)

pytestmark = pytest.mark.skipif(not os.path.exists(nodes.SKYCTL), reason="no skyctl binary")


@pytest.fixture
def loopy(backend):
    n = nodes.Node(backend, agents=3, services=("loopy",)).start(timeout=30)
    yield n
    n.stop()


class Spin:
    """.loopy spinning from a connection of its own until signalled"""

    def __init__(self, node):
        self.con = nodes.Console(node.port)
        self.con.banner()
        assert self.con.cmd('call .loopy "count"')[1] == "OK"
        self.con.send('call .loopy "spin"\n')
        node.wait_log("loopy: spinning")

    def close(self):
        self.con.close()


def test_nothing_stuck(loopy):
    r = skyctl("stuck", "--timeout", "1", node=loopy)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert re.search(r"stuck: 0 of \d+ services did not answer within 1 s", r.stderr)


def test_finds_and_unsticks_a_spinning_service(loopy):
    spin = Spin(loopy)
    try:
        r = skyctl("stuck", "--timeout", "1", node=loopy, timeout=10)
        assert r.returncode == 1, r.stderr
        rows = tsv(r.stdout)
        assert len(rows) == 1 and rows[0][1] == "snlua loopy", rows
        assert "no ping answer in 1 s" in rows[0][2]
        assert "--signal" in r.stderr and "1 of" in r.stderr
        r = skyctl("stuck", "--timeout", "1", "--json", node=loopy)
        (row,) = json.loads(r.stdout)["rows"]
        assert row["name"] == "snlua loopy" and re.fullmatch(r":[0-9a-f]{8}", row["address"])
        r = skyctl("stuck", "--timeout", "1", "--signal", "--json", node=loopy)
        assert r.returncode == 0, r.stderr
        (row,) = json.loads(r.stdout)["rows"]
        assert row["name"] == "snlua loopy" and row["unstuck"] is True
        assert "traceback of each interrupted loop is in the node's log" in r.stderr
        # no `logger` file in the test config; skynet 1.4 has no getenv (nor
        # dbgcmd, for the agent's) to say where the node logs
        where = "" if nodes.old_console(loopy) else ": its standard output"
        assert "interrupted loop is in the node's log%s\n" % where in r.stderr, r.stderr
        # the loop really was interrupted: it answers, its state survived
        with nodes.Console(loopy.port) as con:
            assert con.cmd('call .loopy "count"') == (["1\t3", "n\t1"], "OK")
        assert skyctl("stuck", "--timeout", "1", node=loopy).returncode == 0
    finally:
        spin.close()


def test_target_narrows_the_search(loopy):
    spin = Spin(loopy)
    try:
        r = skyctl("stuck", "@agent", "--timeout", "1", node=loopy)
        assert r.returncode == 0 and r.stdout == "", r.stderr
        r = skyctl("stuck", ".loopy", "--timeout", "1", node=loopy)
        assert r.returncode == 1
        assert tsv(r.stdout)[0][0] == ".loopy"
        r = skyctl("stuck", "@loopy", "--timeout", "1", "--signal", node=loopy)
        assert r.returncode == 0, r.stderr
    finally:
        spin.close()


def test_cluster_one_node_stuck(backend, tmp_path):
    ns = [nodes.Node(backend, agents=1, services=("loopy",)).start(timeout=30) for _ in range(2)]
    xdg = tmp_path / "xdg"
    (xdg / "skyctl").mkdir(parents=True)
    (xdg / "skyctl" / "config.lua").write_text(
        'nodes = { n1 = "%s", n2 = "%s" }\n' % (ns[0].address, ns[1].address))
    env = {"XDG_CONFIG_HOME": str(xdg)}
    spin = Spin(ns[1])
    try:
        r = skyctl("-a", "stuck", "--timeout", "1", "--json", env=env)
        assert r.returncode == 1, r.stderr
        (row,) = json.loads(r.stdout)["rows"]
        assert row["node"] == "n2" and row["name"] == "snlua loopy"
        r = skyctl("stuck", "*/@loopy", "--timeout", "1", "--signal", env=env)
        assert r.returncode == 0, r.stderr
        assert tsv(r.stdout)[0][:2] == ["n2", row["address"]]
    finally:
        spin.close()
        for n in ns:
            n.stop()


def test_node_down_and_usage():
    port = nodes.free_port()
    r = skyctl("-H", "127.0.0.1:%d" % port, "stuck", "--timeout", "1")
    assert r.returncode == 3 and "refused" in r.stderr
    r = skyctl("stuck", "--signal", "--once")
    assert r.returncode == 2
    r = skyctl("stuck", ":zz")
    assert r.returncode == 2


def test_a_probe_the_console_does_not_open_in_time_fails_the_run():
    """a suspect (here: no stat row) whose probe gets no console banner in
    time: the error is said, and the exit code says it too (it was 0)"""
    conns = []

    def handler(c):
        conns.append(c)
        if len(conns) > 1:  # the probes' own connections: up, but no banner
            return until_closed(c)
        c.sendall(b"Welcome to skynet console\n")
        while True:
            line = read_line(c)
            if not line:
                return
            if line == LIST_LINE:
                c.sendall(launcher_list(b":0000000a\tsnlua agent 1\n") + b"<CMD OK>\n")
            elif line.strip():  # stat, getenv: nothing of :0000000a
                c.sendall(b"<CMD OK>\n")
    with FakeServer(handler) as srv:
        r = skyctl("-H", srv.address, "stuck", "--timeout", "1")
    assert r.returncode == 4, r.stderr
    assert re.search(r"stuck: :0000000a: .*timed out", r.stderr), r.stderr
