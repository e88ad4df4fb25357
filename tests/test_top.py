"""skyctl top for scripts (--once, --iterations, --json, TSV, tables) against
real nodes: a known busy service comes first by cpu, a flooded service
shows its queue, a cluster of three with one node down, TARGET filters,
and the usage errors.  The live screen is in test_top_live.py."""
import json
import os

import pytest

import nodes
from cli_helpers import skyctl, tsv

pytestmark = pytest.mark.skipif(not os.path.exists(nodes.SKYCTL), reason="no skyctl binary")


def json_tables(out):
    """--iterations --json is one document: its rows, table after table
    ("sample" counts the tables from 1)"""
    rows = json.loads(out)["rows"]
    return [[x for x in rows if x["sample"] == k]
            for k in sorted({x["sample"] for x in rows})]


@pytest.fixture
def busy(backend):
    n = nodes.Node(backend, agents=3, services=("busy",)).start(timeout=30)
    yield n
    n.stop()


def by_name(rows):
    return {r["name"]: r for r in rows}


def test_once_json_busy_service_first_by_cpu(busy):
    r = skyctl("top", "--once", "-d", "1", "--json", node=busy)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["rows"]
    assert rows[0]["name"] == "snlua busy", rows[:3]
    assert 15 < rows[0]["cpu"] < 95, rows[0]      # ~half a cpu (20 ms on, 20 ms off)
    names = by_name(rows)
    for i in (1, 2, 3):
        agent = names["snlua agent %d" % i]
        assert agent["cpu"] < 5 and agent["msg"] == 0, agent   # our own probes left out
        assert agent["state"] == "ok" and agent["queue"] == 0 and agent["tasks"] == 0
        assert isinstance(agent["mem"], int) and agent["mem"] > 1000
        # the garbage of our own probes is left out too (it was +143 B a refresh)
        assert isinstance(agent["mem_change"], int) and abs(agent["mem_change"]) < 64, agent
        assert agent["address"] == ":%08x" % int(agent["address"][1:], 16)
    assert "node" not in rows[0]                 # one node: no NODE column
    # the console's work is answering our probes: not counted, nor its garbage
    console = next(r for r in rows if "debug_console" in r["name"])
    assert console["cpu"] is None and console["msg"] is None, console
    assert console["mem_change"] is None and console["mem"] > 1000, console
    cpus = [r["cpu"] for r in rows if r["cpu"] is not None]
    assert cpus == sorted(cpus, reverse=True)


def test_sort_and_target(busy):
    r = skyctl("top", "--once", "-d", "0.3", "--json", "--sort", "mem", "@agent", node=busy)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["rows"]
    assert sorted(x["name"] for x in rows) == ["snlua agent 1", "snlua agent 2", "snlua agent 3"]
    assert [x["mem"] for x in rows] == sorted((x["mem"] for x in rows), reverse=True)
    first = skyctl("top", "--once", "-d", "0.3", "--json", ":a,@busy", node=busy)
    assert {x["name"] for x in json.loads(first.stdout)["rows"]} == {"snlua busy", "snlua agent 1"}


def test_flooded_queue_shows(backend):
    # .flood keeps exactly 20 messages queued until stopped (flood.lua), so
    # its stat is answered, after those 20, with a queue of 20 at least
    with nodes.Node(backend, agents=1, services=("flood",)) as n:
        with nodes.Console(n.port) as con:
            assert con.cmd('call .flood "start", 20')[1] == "OK"
            r = skyctl("top", "--once", "-d", "0.3", "--json", "--sort", "queue", node=n)
            assert con.cmd('call .flood "stop"')[1] == "OK"
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["rows"]
    flood = by_name(rows)["snlua flood"]
    assert rows[0]["name"] == "snlua flood", rows[:2]
    assert flood["queue"] >= 20 and flood["state"] == "ok", flood
    assert flood["msg"] > 0, flood                      # busy handling, still behind
    others = [x["cpu"] for x in rows if x is not flood and x["cpu"] is not None]
    assert flood["cpu"] > max(others), rows[:3]


def test_iterations_tsv_and_table(busy):
    r = skyctl("top", "--iterations", "2", "-d", "0.3", node=busy)
    assert r.returncode == 0, r.stderr
    blocks = r.stdout.strip("\n").split("\n\n")
    assert len(blocks) == 2
    for block in blocks:
        rows = tsv(block)
        assert rows[0][1] == "snlua busy" and len(rows[0]) == 9, rows[0]
    r = skyctl("top", "--iterations", "2", "-d", "0.3", "--json", node=busy)
    tables = json_tables(r.stdout)
    assert len(tables) == 2 and all(t[0]["name"] == "snlua busy" for t in tables)
    table = skyctl("top", "--once", "-d", "0.3", node=busy, tty=True,
                   env={"NO_COLOR": "1"}).stdout.splitlines()
    assert table[0].split() == ["ADDRESS", "NAME", "CPU", "MSG", "QUEUE", "TASKS", "MEM",
                                "MEM_CHANGE", "STATE"]
    assert "snlua busy" in table[1]


def test_spinning_service_shows_timeout(backend):
    with nodes.Node(backend, agents=1, services=("loopy",)) as n:
        spin = nodes.Console(n.port)
        spin.banner()
        spin.send('call .loopy "spin"\n')
        try:
            r = skyctl("top", "--once", "-d", "0.5", "--json", node=n)
            assert r.returncode == 0, r.stderr
            loopy = by_name(json.loads(r.stdout)["rows"])["snlua loopy"]
            assert loopy["state"] == "timeout" and loopy["cpu"] is None, loopy
            assert loopy["queue"] is None and loopy["mem"] is None
        finally:
            with nodes.Console(n.port) as con:
                con.cmd("signal .loopy")
            spin.close()


@pytest.fixture
def cluster(backend, tmp_path):
    ns = [nodes.Node(backend, agents=k, services=svc).start(timeout=30)
          for k, svc in ((1, ("busy",)), (2, ()), (1, ()))]
    xdg = tmp_path / "xdg"
    nodes.node_file(xdg / "skyctl" / "config.lua", ns)
    yield ns, {"XDG_CONFIG_HOME": str(xdg)}
    for n in ns:
        n.stop()


def test_cluster_all_nodes_and_one_down(cluster):
    ns, env = cluster
    r = skyctl("-a", "top", "--once", "-d", "0.5", "--json", env=env)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["rows"]
    assert {x["node"] for x in rows} == {"n1", "n2", "n3"}
    assert rows[0]["node"] == "n1" and rows[0]["name"] == "snlua busy"
    agents = sorted((x["node"], x["name"]) for x in rows if x["name"].startswith("snlua agent"))
    assert agents == [("n1", "snlua agent 1"), ("n2", "snlua agent 1"),
                      ("n2", "snlua agent 2"), ("n3", "snlua agent 1")]
    # a node prefix picks the nodes without -a (one node: no NODE column)
    r = skyctl("top", "--once", "-d", "0.3", "--json", "n2/@agent", env=env)
    assert sorted(x["name"] for x in json.loads(r.stdout)["rows"]) == ["snlua agent 1", "snlua agent 2"]
    r = skyctl("top", "--once", "-d", "0.3", "--json", "*/@busy", env=env)
    assert [(x["node"], x["name"]) for x in json.loads(r.stdout)["rows"]] == [("n1", "snlua busy")]
    ns[1].kill()
    r = skyctl("-a", "top", "--once", "-d", "0.3", env=env)
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert "n2: top:" in r.stderr
    assert {row[0] for row in tsv(r.stdout)} == {"n1", "n3"}


def test_usage_errors(tmp_path):
    r = skyctl("top", "-d", "0")
    assert r.returncode == 2 and "-d wants seconds" in r.stderr
    r = skyctl("top", "--iterations", "0")
    assert r.returncode == 2
    r = skyctl("top", "--sort", "colour", "--once")
    assert r.returncode == 2 and "cannot sort by" in r.stderr
    r = skyctl("top", ":a", ":b")
    assert r.returncode == 2
    r = skyctl("top")       # no terminal: the live view cannot start
    assert r.returncode == 2 and "--once" in r.stderr


def test_no_node_answers(tmp_path):
    port = nodes.free_port()
    r = skyctl("-H", "127.0.0.1:%d" % port, "top", "--once", "-d", "0.1")
    assert r.returncode == 3 and "refused" in r.stderr, r.stderr
    assert r.stdout == ""
