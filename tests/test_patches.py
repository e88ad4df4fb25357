"""`skyctl patches`: the built binary against the `node` fixture (sandbox,
and real skynet when SKYNET_ROOT is set).  One service: its journal newest
first, as TSV in a pipe and a table on a terminal.  A two-node cluster
where one service missed a batch and another got an extra patch: the
patches × services matrix with the drift flagged, and --json validated."""
import hashlib
import json
import os
import re
import subprocess

import pytest

import nodes
from cli_helpers import skyctl_at, write
from inject_client import Conn

FIX = '_P.lua.CMD.fixed = function() return "fixed" end\n'
EXTRA = '_P.lua.CMD.extra = function() return "extra" end\n'


def test_one_service_journal_newest_first(node, tmp_path, state):
    fix = write(tmp_path, "fix.lua", FIX)
    extra = write(tmp_path, "extra.lua", EXTRA)
    assert skyctl_at(state, "inject", ":a", fix, node=node).returncode == 0
    assert skyctl_at(state, "inject", ":a", extra, node=node).returncode == 0
    assert skyctl_at(state, "rollback", ":a", node=node).returncode == 0
    r = skyctl_at(state, "patches", ":a", node=node)
    assert r.returncode == 0, r.stderr
    rows = [l.split("\t") for l in r.stdout.splitlines()]
    sha = hashlib.sha256(FIX.encode()).hexdigest()
    assert [(x[0], x[1], x[5], x[6]) for x in rows] == [
        ("3", "extra.lua", "1", "rollback of #2"), ("2", "extra.lua", "1", "rolled back"),
        ("1", "fix.lua", "1", "applied")]
    assert rows[2][2] == sha[:12]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", rows[2][3])
    assert re.fullmatch(r"\S+@\S+", rows[2][4])
    assert "patches: 1 service, 1 patch in place, 0 drifting" in r.stderr
    env = dict(os.environ, XDG_STATE_HOME=str(state), SKYCTL_FORCE_TTY="1", NO_COLOR="1")
    t = subprocess.run([nodes.SKYCTL, "-H", node.address, "patches", ":a"], env=env,
                       capture_output=True, text=True, timeout=30)
    lines = t.stdout.splitlines()
    assert re.match(r"^ID +PATCH +SHA256 +WHEN +WHO +CHANGES +STATE$", lines[0]), t.stdout
    assert re.match(r"^ 1 +fix\.lua +%s " % sha[:12], lines[3])


def test_empty_journal_and_exit_codes(node, tmp_path, state):
    r = skyctl_at(state, "patches", ":b", node=node)
    assert r.returncode == 0 and r.stdout == "" and "0 patches in place" in r.stderr
    r = skyctl_at(state, "patches", "@nosuchservice", node=node)
    assert r.returncode == 1 and "no service matches" in r.stderr
    assert skyctl_at(state, "patches", ":a", "extra", node=node).returncode == 2
    r = skyctl_at(state, "patches", ":ff", node=node)
    assert r.returncode == 1


def test_no_patch_anywhere_is_the_summary_alone(node, tmp_path, state):
    """a sweep of services none of which carries a patch has no matrix to
    show (a row of nothing for each); a service that does not answer
    still gets its row"""
    r = skyctl_at(state, "patches", node=node)
    assert r.returncode == 0 and r.stdout == "", (r.stdout, r.stderr)
    assert re.search(r"patches: \d+ services, 0 patches in place, 0 drifting", r.stderr)
    n = nodes.Node(node.backend, agents=2, services=("loopy",)).start(timeout=30)
    con = nodes.Console(n.port)
    try:
        con.banner()
        con.send('call .loopy "spin"\n')
        n.wait_log("loopy: spinning")
        r = skyctl_at(state, "patches", "--timeout", "1", "@agent,@loopy", node=n)
        rows = [l.split("\t") for l in r.stdout.splitlines()]
        assert [x[1] for x in rows] == ["snlua loopy"], (r.stdout, r.stderr)
        assert "no answer" in rows[0][-1], rows
    finally:
        con.close()
        n.stop()


def test_no_target_sweeps_every_lua_service(node, tmp_path, state):
    fix = write(tmp_path, "fix.lua", FIX)
    assert skyctl_at(state, "inject", ":a,:b", fix, node=node).returncode == 0
    r = skyctl_at(state, "patches", node=node)
    assert r.returncode == 0, r.stderr
    rows = {x[0]: x[1:] for x in (l.split("\t") for l in r.stdout.splitlines())}
    assert rows.pop("# P1")[0] == "fix.lua"    # the legend, first
    assert rows[":0000000a"] == ["snlua agent 1", "#1", ""]
    assert rows[":0000000c"] == ["snlua agent 3", "-", "lacks P1 (fix.lua)"]
    assert rows[":00000008"] == ["snlua main", "-", ""]
    assert all(cmd.startswith("snlua ") for cmd, *_ in rows.values())
    assert not any("debug_console" in cmd for cmd, *_ in rows.values())
    # the sweep registered nothing in services that had no agent
    con = Conn(node.port)
    for h in ("8", "c"):
        for cmd in ("SKYCTL1", "SKYCTL", "SKYCTL_ONCE"):
            assert con.cmd("dbgcmd %s %s x" % (h, cmd))[1] == "Error"
    con.close()


@pytest.fixture
def cluster(backend, tmp_path):
    ns = [nodes.Node(backend).start(timeout=60) for _ in range(2)]
    conf = nodes.node_file(tmp_path / "nodes.lua", ns)
    yield ns, conf
    for n in ns:
        n.stop()


def test_drift_in_a_cluster(cluster, tmp_path, state):
    ns, conf = cluster
    fix = write(tmp_path, "fix.lua", FIX)
    extra = write(tmp_path, "extra.lua", EXTRA)
    # n2/:c missed the batch; n1/:a got a patch no sibling has
    assert skyctl_at(state, "inject", "n1/@agent,n2/:a,n2/:b", fix, config=conf).returncode == 0
    assert skyctl_at(state, "inject", "n1/:a", extra, config=conf).returncode == 0
    r = skyctl_at(state, "patches", "*/@agent", config=conf)
    assert r.returncode == 0, r.stderr
    legend = [l.split("\t") for l in r.stdout.splitlines() if l.startswith("# ")]
    rows = {(x[0], x[1]): x[2:] for x in (l.split("\t") for l in r.stdout.splitlines()
                                          if not l.startswith("# "))}
    assert len(rows) == 6
    # in a pipe the legend comes first on stdout: column, name, sha256, carriers, services
    assert [x[:2] + x[3:] for x in legend] == [["# P1", "extra.lua", "1", "6"],
                                               ["# P2", "fix.lua", "5", "6"]]
    assert all(re.fullmatch("[0-9a-f]{64}", x[2]) for x in legend)
    # columns: service, P1 (extra.lua, the newest), P2 (fix.lua), drift
    assert rows[("n1", ":0000000a")] == ["snlua agent 1", "#2", "#1", "extra P1 (extra.lua)"]
    assert rows[("n1", ":0000000b")] == ["snlua agent 2", "-", "#1", ""]
    assert rows[("n2", ":0000000c")] == ["snlua agent 3", "-", "-", "lacks P2 (fix.lua)"]
    assert rows[("n2", ":0000000a")] == ["snlua agent 1", "-", "#1", ""]
    assert "P1" not in r.stderr
    assert "patches: 6 services, 2 patches in place, 2 drifting" in r.stderr
    env = dict(os.environ, XDG_STATE_HOME=str(state), SKYCTL_FORCE_TTY="1", NO_COLOR="1")
    t = subprocess.run([nodes.SKYCTL, "--config", str(conf), "patches", "*/@agent"], env=env,
                       capture_output=True, text=True, timeout=30)
    lines = t.stdout.splitlines()
    assert re.match(r"^P1  extra\.lua  sha256 [0-9a-f]{12}  in place on 1 of 6 services$", lines[0])
    assert re.match(r"^P2  fix\.lua  sha256 [0-9a-f]{12}  in place on 5 of 6 services$", lines[1])
    assert lines[2].split() == ["NODE", "ADDRESS", "SERVICE", "P1", "P2", "DRIFT"]
    assert re.match(r"^n2 +:0000000c +snlua agent 3 +- +- +lacks P2 \(fix\.lua\)$", lines[-1])
    # --exit-code turns drift into exit status 1, for a deploy check
    r = skyctl_at(state, "patches", "--exit-code", "*/@agent", config=conf)
    assert r.returncode == 1 and "2 drifting" in r.stderr, r.stderr
    # after the missing service gets the patch, only the extra one drifts
    assert skyctl_at(state, "inject", "n2/:c", fix, config=conf).returncode == 0
    r = skyctl_at(state, "patches", "*/@agent", config=conf)
    assert "1 drifting" in r.stderr and "lacks" not in r.stdout
    # once n1/:a's extra patch is rolled back, nothing drifts: --exit-code is 0
    assert skyctl_at(state, "rollback", "n1/:a", config=conf).returncode == 0
    r = skyctl_at(state, "patches", "--exit-code", "*/@agent", config=conf)
    assert r.returncode == 0 and "0 drifting" in r.stderr, r.stderr


def test_json(cluster, tmp_path, state):
    ns, conf = cluster
    fix = write(tmp_path, "fix.lua", FIX)
    assert skyctl_at(state, "inject", "n1/@agent,n2/:a,n2/:b", fix, config=conf).returncode == 0
    r = skyctl_at(state, "patches", "--json", "*/@agent", config=conf)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    sha = hashlib.sha256(FIX.encode()).hexdigest()
    assert doc["patches"] == [{"column": "P1", "name": "fix.lua", "sha256": sha, "services": 5}]
    svc = {(s["node"], s["target"]): s for s in doc["services"]}
    assert len(svc) == 6
    c = svc[("n2", ":0000000c")]
    assert c["ok"] is True and c["journal"] == [] and c["drift"] == ["lacks P1 (fix.lua)"]
    assert c["command"] == "snlua agent 3" and c["error"] is None
    [e] = svc[("n1", ":0000000b")]["journal"]
    assert e["id"] == 1 and e["sha"] == sha and e["state"] == "applied" and e["nchanges"] == 1
    assert "changes" not in e and svc[("n1", ":0000000b")]["drift"] == []
