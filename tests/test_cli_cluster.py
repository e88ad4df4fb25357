"""Three nodes from a node file: -a, node prefixes, */@agent, a NODE column,
nodes in parallel, one node down."""
import json
import os
import threading

import pytest

import nodes
from cli_helpers import FakeServer, skyctl, tsv, until_closed

pytestmark = pytest.mark.skipif(not os.path.exists(nodes.SKYCTL), reason="no skyctl binary")


@pytest.fixture
def cluster(backend, tmp_path):
    ns = [nodes.Node(backend, agents=k).start(timeout=30) for k in (3, 2, 1)]
    xdg = tmp_path / "xdg"
    nodes.node_file(xdg / "skyctl" / "config.lua", ns)
    yield ns, {"XDG_CONFIG_HOME": str(xdg)}
    for n in ns:
        n.stop()


def run(env, *args):
    return skyctl(*args, env=env)


def test_all_nodes_list_has_node_column(cluster):
    ns, env = cluster
    r = run(env, "-a", "list")
    assert r.returncode == 0, r.stderr
    rows = tsv(r.stdout)
    assert {row[0] for row in rows} == {"n1", "n2", "n3"}
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)  # node order
    assert ["n2", ":0000000b", "snlua agent 2"] in rows
    table = run(dict(env, NO_COLOR="1", SKYCTL_FORCE_TTY="1"), "-a", "stat").stdout
    assert table.splitlines()[0].split() == ["NODE", "ADDRESS", "NAME", "CPU", "MESSAGE",
                                             "MQLEN", "TASK"]
    recs = json.loads(run(env, "-a", "--json", "mem").stdout)["rows"]
    assert {x["node"] for x in recs} == {"n1", "n2", "n3"}
    assert all(isinstance(x["mem"], int) for x in recs)


def test_every_agent_of_every_node(cluster):
    ns, env = cluster
    r = run(env, "ping", "*/@agent")
    assert r.returncode == 0, r.stderr
    rows = tsv(r.stdout)
    assert [(x[0], x[1]) for x in rows] == [
        ("n1", ":0000000a"), ("n1", ":0000000b"), ("n1", ":0000000c"),
        ("n2", ":0000000a"), ("n2", ":0000000b"), ("n3", ":0000000a")]
    recs = json.loads(run(env, "--json", "call", "*/@agent", '"deposit", 2').stdout)["rows"]
    assert len(recs) == 6 and all(x["output"] == ["1\t2", "n\t1"] for x in recs)


def test_node_prefixes_and_names(cluster):
    ns, env = cluster
    r = run(env, "-n", "n2", "info", ":b")
    assert r.returncode == 0 and r.stdout == "balance\t0\nid\t2\n"
    r = run(env, "info", "n3/:a")
    assert r.stdout == "balance\t0\nid\t1\n"  # one node: no NODE column
    r = run(env, "ping", "n1/:a,n3/@agent")
    assert [(x[0], x[1]) for x in tsv(r.stdout)] == [("n1", ":0000000a"), ("n3", ":0000000a")]
    r = run(env, "ping", "n9/:a")
    assert r.returncode == 2 and "unknown node 'n9'" in r.stderr
    r = run(env, "-n", "n3", "ping", "@agent,n1/@agent")
    assert [x[0] for x in tsv(r.stdout)] == ["n3"] + ["n1"] * 3  # default node first


def test_selector_matching_nothing_anywhere(cluster):
    ns, env = cluster
    r = run(env, "ping", "*/@nosuch")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == "skyctl: ping: */@nosuch: no service matches\n"


def test_one_node_down(cluster):
    ns, env = cluster
    ns[1].stop()
    r = run(env, "-a", "list")
    assert r.returncode == 3
    assert {row[0] for row in tsv(r.stdout)} == {"n1", "n3"}
    assert r.stderr.startswith("skyctl: n2: list: Connection refused")


def test_nodes_run_in_parallel(cluster, tmp_path):
    ns, env = cluster
    lock, open_now, most = threading.Lock(), [0], [0]

    def silent(c):      # count connections open at once: 2 if both nodes are asked together
        with lock:
            open_now[0] += 1
            most[0] = max(most[0], open_now[0])
        until_closed(c)
        with lock:
            open_now[0] -= 1

    with FakeServer(silent) as a, FakeServer(silent) as b:
        conf = tmp_path / "slow.lua"
        conf.write_text('nodes = { s1 = "%s", s2 = "%s", ok = "%s" }\n'
                        % (a.address, b.address, ns[0].address))
        r = skyctl("--config", conf, "--timeout", "1", "-a", "list", timeout=10)
    assert r.returncode == 4 and most[0] == 2, most
    assert sorted(r.stderr.splitlines()) == [
        "skyctl: s1: list: timed out after 1.0 s", "skyctl: s2: list: timed out after 1.0 s"]
    assert {row[0] for row in tsv(r.stdout)} == {"ok"}
