"""`skyctl inject`: the built binary against sandbox nodes (and real skynet
when SKYNET_ROOT is set): one service and @selector batches across a 3-node
cluster, state kept across the patch, print output, syntax and runtime
errors with file:line, atomic failure, the journal in the service, the local
audit log, canary and stop/keep-going, a node dying mid-batch, a service
debugged by someone else, and a script the node itself could not read."""
import json
import os
import re
import stat
import subprocess
import time

import pytest

import nodes
from cli_helpers import skyctl_at, write
from inject_client import Conn, agents, bootstrap, call, journal, route

# the CLI entry for inject is wired once the core command table exists
if not os.path.exists(nodes.SKYCTL):
    pytest.skip("no skyctl binary yet", allow_module_level=True)

FIX = """local CMD = _P.lua.CMD
local balance
print("patching", ...)
hotfix.replace(CMD, "deposit", function(n)
    balance = balance + 2 * n
    return balance
end)
print("done")
"""

BAD = """local CMD = _P.lua.CMD
CMD.deposit = function() return "broken" end
CMD.extra = true
hotfix.setupvalue(CMD.balance, "balance", 999)
_G.leaked = 1
error("boom")
"""

FAIL_ON_C = """local skynet = require "skynet"
if skynet.self() & 0xffffff == 0xc then error("no luck in :c") end
_P.lua.CMD.touched = true
"""


def lines_for(out, target):
    return [l for l in out.splitlines() if target in l]



def test_inject_one_service_keeps_state(node, tmp_path, state):
    con = Conn(node.port)
    call(con, "a", '"deposit", 5')
    fix = write(tmp_path, "fix.lua", FIX)
    r = skyctl_at(state, "inject", ":a", fix, "--", "x y", "2", node=node)
    assert r.returncode == 0, r.stderr
    # (what skynet's own state did meanwhile counts too, and is said: on 1.4, 3 changes)
    assert re.search(r"^:0000000a\s+ok\s+patch #1, \d+ changes?$", r.stdout, re.M), r.stdout
    assert "    patching\tx y\t2\n    done\n" in r.stdout
    assert call(con, "a", '"deposit", 1') == "1\t7\nn\t1"  # balance 5 survived, new code
    assert call(con, "b", '"deposit", 1') == "1\t1\nn\t1"  # other services untouched
    con.close()


KEEPS = """local P, U = _P.lua, _U
local function keys()
    local list = {}
    for k in pairs(P) do
        list[#list + 1] = k
    end
    table.sort(list)
    return table.concat(list, ",")
end
print(keys())
hotfix.replace(P.CMD, "echo", function()
    return type(P.CMD), type(U.proto), keys()
end)
"""


def test_what_a_patch_kept_of_p_and_u_reads_the_services_tables(node, tmp_path, state):
    """the _P table and _U a script keeps in a function it installs stand in
    for the service's tables while it runs; afterwards they read them, as a
    stock inject's do"""
    con = Conn(node.port)
    r = skyctl_at(state, "inject", ":a", write(tmp_path, "keeps.lua", KEEPS), node=node)
    assert r.returncode == 0, r.stderr
    seen = re.search(r"^    (\S*CMD\S*)$", r.stdout, re.M)
    assert seen, r.stdout
    assert call(con, "a", '"echo"') == "1\ttable\n2\ttable\n3\t%s\nn\t3" % seen.group(1)
    con.close()


def test_syntax_error_is_local_and_sends_nothing(node, tmp_path, state):
    bad = write(tmp_path, "fix.lua", "local x = 1\n\nlocal = 3\n")
    good = write(tmp_path, "ok.lua", "print(1)\n")
    r = skyctl_at(state, "inject", ":a", good, bad, node=node)
    assert r.returncode == 6
    assert re.match(r"^fix.lua:3: .*near '='", r.stderr), r.stderr
    assert r.stdout == "" and not os.path.exists(state / "skyctl" / "audit.log")
    if nodes.lua_foreign(node):  # Lua 5.5: the node compiled them, with the agent
        return
    assert "debug mode" not in node.log()
    con = Conn(node.port)
    # no agent was ever loaded (a console without dbgcmd: never routed)
    probe = "trace a SKYCTL?" if route(con) == "info" else "dbgcmd a SKYCTL1 x"
    assert con.cmd(probe)[1] == "Error"
    con.close()


@pytest.mark.parametrize("case", ["missing", "binary", "directory"])
def test_unusable_script_files(node, tmp_path, state, case):
    path = tmp_path / "fix.lua"
    if case == "binary":
        path.write_bytes(b"\x1bLuaT\x00\x19\x93")
    elif case == "directory":
        path.mkdir()
    r = skyctl_at(state, "inject", ":a", str(path), node=node)
    assert r.returncode == 6 and str(path) in r.stderr and r.stdout == "", r.stderr


def test_a_byte_order_mark_and_a_first_hash_line_are_skipped_as_lua_skips_them(
        node, tmp_path, state):
    # what `lua fix.lua` accepts: an editor's UTF-8 BOM, a #! line (the
    # node's load() takes neither); line numbers stay the file's
    path = tmp_path / "fix.lua"
    path.write_bytes(b'\xef\xbb\xbf#!/usr/bin/env lua\r\nprint("ran")\r\nerror("line 3")\r\n')
    r = skyctl_at(state, "inject", ":a", str(path), node=node)
    assert r.returncode == 1, r.stderr
    assert r.stdout.splitlines()[:2] == [
        ":0000000a  failed  fix.lua:3: line 3 (all its changes undone)", "    ran"], r.stdout


def test_runtime_error_is_atomic(node, tmp_path, state):
    con = Conn(node.port)
    call(con, "a", '"deposit", 5')
    bad = write(tmp_path, "bad.lua", BAD)
    r = skyctl_at(state, "inject", ":a", bad, node=node)
    assert r.returncode == 1
    assert re.search(r"^:0000000a\s+failed\s+bad.lua:6: boom \(all its changes undone\)$",
                     r.stdout, re.M), r.stdout
    # the service behaves exactly as before
    assert call(con, "a", '"deposit", 1') == "1\t6\nn\t1"
    assert call(con, "a", '"balance"') == "1\t6\nn\t1"
    out, status = con.cmd('call a "extra"')
    assert status == "Error"
    assert journal(node, "a") == []
    con.close()


def test_a_script_that_never_ends_is_stopped_within_the_wait(node, tmp_path, state):
    """an endless loop in a hot fix: each service stops it after 30% of
    --timeout and undoes what it did, so every target settles failed (a
    fact) within the wait instead of unknown after it, the hub's own turn
    (its first target, :a) and then its peers'"""
    con = Conn(node.port)
    call(con, "a", '"deposit", 5')
    loop = write(tmp_path, "loop.lua", "_P.lua.CMD.deposit = nil\nwhile true do end\n")
    r = skyctl_at(state, "inject", "--timeout", "5", "--keep-going", ":a,:b,:c", loop,
                  node=node)
    assert r.returncode == 1, (r.stdout, r.stderr)
    for t in ("a", "b", "c"):
        assert re.search(r"^:0000000%s\s+failed\s+loop.lua:2: script still running after 1.5 s: "
                         r"stopped; a longer --timeout gives it longer "
                         r"\(all its changes undone\)$" % t, r.stdout, re.M), r.stdout
    assert "0 ok, 3 failed, 0 unknown" in r.stdout
    assert call(con, "a", '"deposit", 1') == "1\t6\nn\t1"
    assert journal(node, "a") == []
    r = skyctl_at(state, "exec", "--timeout", "2", ":a", loop, node=node)
    assert r.returncode == 1 and "script still running after 0.6 s: stopped" in r.stdout, r.stdout
    con.close()


def test_a_script_that_waits_is_timed_only_while_it_runs(node, tmp_path, state):
    """the time limit keeps a service from its other messages: a script
    that waits (skynet.sleep, a call) lets them run, and the time starts
    again once it is back"""
    # (the loop: some work after the waits, where the limit is checked)
    nap = write(tmp_path, "nap.lua", 'local skynet = require "skynet"\nskynet.sleep(100)\n'
                'skynet.sleep(100)\nfor _ = 1, 1000000 do end\n'
                '_P.lua.CMD.rested = function() return "rested" end\n')
    r = skyctl_at(state, "inject", "--timeout", "4", ":a", nap, node=node)
    assert r.returncode == 0, (r.stdout, r.stderr)  # 2 s of waiting, 1.2 s allowed to run
    # (what skynet's own state did meanwhile counts too, and is said: on 1.4, 3 changes)
    assert re.search(r"^:0000000a\s+ok\s+patch #1, \d+ changes?$", r.stdout, re.M), r.stdout
    con = Conn(node.port)
    assert call(con, "a", '"rested"') == "1\trested\nn\t1"
    con.close()
    r = skyctl_at(state, "exec", "--timeout", "4", ":b", nap, node=node)
    assert r.returncode == 0 and re.search(r"^:0000000b\s+ok", r.stdout, re.M), r.stdout


def test_json_records_and_journal(node, tmp_path, state):
    before = int(time.time())
    fix = write(tmp_path, "fix.lua", FIX)
    r = skyctl_at(state, "inject", "--json", ":a,:b", fix, node=node)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    recs = doc["targets"]
    assert doc["summary"] == {"ok": 2, "failed": 0, "unknown": 0, "skipped": 0, "targets": 2,
                              "nodes": 1, "seconds": doc["summary"]["seconds"], "status": 0,
                              "errors": []}
    assert [x["target"] for x in recs] == [":0000000a", ":0000000b"]
    for x in recs:
        assert x["status"] == "ok" and x["result"]["ok"] is True
        [s] = x["result"]["scripts"]
        assert s["out"] == ["patching", "done"] and s["id"] == 1
        assert s["changes"] == [{"kind": "field", "what": "changed", "path": "_P.lua.CMD.deposit",
                                 "old": "function agent.lua:9", "new": "function fix.lua:4"}]
    [entry] = journal(node, "b")
    sha = __import__("hashlib").sha256(FIX.encode()).hexdigest()
    assert entry["name"] == "fix.lua" and entry["sha"] == sha and entry["state"] == "applied"
    assert re.fullmatch(r"[^@]+@.+", entry["who"]) and before <= entry["time"] <= time.time()
    assert entry["changes"][0]["path"] == "_P.lua.CMD.deposit"


def test_audit_log_is_private_and_complete(node, tmp_path, state):
    fix = write(tmp_path, "fix.lua", FIX)
    fail = write(tmp_path, "fail.lua", FAIL_ON_C)
    assert skyctl_at(state, "inject", ":a", fix, node=node).returncode == 0
    assert skyctl_at(state, "inject", ":c", fail, node=node).returncode == 1
    log = state / "skyctl" / "audit.log"
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(log.parent).st_mode) == 0o700
    recs = [json.loads(l) for l in log.read_text().splitlines()]
    assert [(r["target"], r["result"].split(" ")[0]) for r in recs] == [
        (":0000000a", "pending"), (":0000000a", "ok:"),
        (":0000000c", "pending"), (":0000000c", "failed:")]
    sha = __import__("hashlib").sha256(FIX.encode()).hexdigest()
    assert recs[1]["script"] == fix and recs[1]["sha256"] == sha
    assert recs[1]["node"] == node.address and "@" in recs[1]["user"]
    assert "no luck in :c" in recs[3]["result"]
    assert recs[0]["batch"] == recs[1]["batch"] != recs[2]["batch"]


def test_stop_at_first_failure_and_keep_going(node, tmp_path, state):
    fail = write(tmp_path, "fail.lua", FAIL_ON_C)
    r = skyctl_at(state, "inject", ":c,:a,:b", fail, node=node)
    assert r.returncode == 1
    assert re.search(r"^:0000000c\s+failed", r.stdout, re.M)
    assert re.search(r"^:0000000a\s+skipped", r.stdout, re.M)
    assert re.search(r"^:0000000b\s+skipped", r.stdout, re.M)
    assert "0 ok, 1 failed, 0 unknown, 2 skipped" in r.stdout
    r = skyctl_at(state, "inject", "--keep-going", ":c,:a,:b", fail, node=node)
    assert r.returncode == 1 and "2 ok, 1 failed, 0 unknown, 0 skipped" in r.stdout


def test_canary(node, tmp_path, state):
    fail = write(tmp_path, "fail.lua", FAIL_ON_C)
    r = skyctl_at(state, "inject", "--canary", "1", ":c,:a,:b", fail, node=node)
    assert r.returncode == 1 and "0 ok, 1 failed, 0 unknown, 2 skipped" in r.stdout
    r = skyctl_at(state, "inject", "--canary", "2", "--keep-going", ":a,:b,:c", fail, node=node)
    assert r.returncode == 1 and "2 ok, 1 failed" in r.stdout
    r = skyctl_at(state, "inject", "--canary", "2", ":a,:b", fail, node=node)
    assert r.returncode == 0 and "2 ok, 0 failed" in r.stdout


def test_script_the_node_cannot_read(node, tmp_path, state):
    """stock inject needs the file on the node; skyctl sends it"""
    d = tmp_path / "private"
    d.mkdir()
    (d / "fix.lua").write_text(FIX)
    con = Conn(node.port)
    out, status = con.cmd("inject a fix.lua")  # the node looks in its own cwd
    assert out.startswith("Can't open fix.lua")
    r = skyctl_at(state, "inject", ":a", "fix.lua", node=node, cwd=str(d))
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr
    assert call(con, "a", '"deposit", 1') == "1\t2\nn\t1"
    con.close()


def test_service_debugged_by_someone_else(node, tmp_path, state):
    fix = write(tmp_path, "fix.lua", FIX)
    con = Conn(node.port)
    other = Conn(node.port)
    other.send("debug a\n")
    other.read_until(":0000000a>")
    r = skyctl_at(state, "inject", ":a", fix, node=node, timeout=10)    # not stuck on it
    if route(con) == "dbgcmd":
        # the agent goes in through RUN, not debug mode: a debug session
        # elsewhere does not keep skyctl out
        assert r.returncode == 0 and "1 ok" in r.stdout, r.stdout + r.stderr
    else:   # skynet 1.4: debug mode is the way in
        assert r.returncode == 1
        assert "service :0000000a" in r.stdout and "debugged by another session" in r.stdout
    # with a second target, that one becomes the hub and patches :a from inside the node
    r = skyctl_at(state, "inject", ":a,:b", fix, node=node)
    assert r.returncode == 0 and "2 ok" in r.stdout, r.stdout
    other.send("cont\n")
    con.cmd("ping a")
    other.read_until("<CMD OK>\n")
    assert call(con, "a", '"deposit", 1') == "1\t2\nn\t1"
    other.close(), con.close()


def test_no_agent_leaves_nothing_registered(node, tmp_path, state):
    fix = write(tmp_path, "fix.lua", FIX)
    r = skyctl_at(state, "inject", "--no-agent", ":a,:b", fix, node=node)
    assert r.returncode == 0 and "2 ok" in r.stdout, r.stdout + r.stderr
    con = Conn(node.port)
    # nor a module: the hub (:a) passed :b's reply on with skynet.crypt
    probe = write(tmp_path, "probe.lua", 'print(package.loaded["skynet.crypt"] == nil)\n')
    for h in "ab":
        for cmd in ("SKYCTL1", "SKYCTL", "SKYCTL_ONCE", "SKYCTLP"):
            assert con.cmd("dbgcmd %s %s x" % (h, cmd))[1] == "Error"
        assert call(con, h, '"deposit", 1') == "1\t2\nn\t1"
        assert con.cmd("inject %s %s" % (h, probe)) == ("true", "OK")
    con.close()


def test_uninstall_removes_commands_and_keeps_journals(node, tmp_path, state):
    fix = write(tmp_path, "fix.lua", FIX)
    assert skyctl_at(state, "inject", "@agent", fix, node=node).returncode == 0
    r = skyctl_at(state, "uninstall", ":b,:c", node=node)
    assert r.returncode == 0, r.stdout + r.stderr
    assert lines_for(r.stdout, ":0000000b")[0].split(None, 2)[1:] == \
        ["ok", "no skyctl debug command left; its journal of 1 entry stays"]
    assert "uninstall: 2 ok, 0 failed, 0 unknown" in r.stdout
    con = Conn(node.port)
    for h in "bc":
        for cmd in ("SKYCTL1", "SKYCTL", "SKYCTL_ONCE", "SKYCTLP"):
            assert con.cmd("dbgcmd %s %s x" % (h, cmd))[1] == "Error"
        assert call(con, h, '"deposit", 1') == "1\t2\nn\t1"  # the patch stays in place
    # :a, which reached :b and :c before, puts the engine back where it is gone
    # (a fix of its own: the same one is in place already, a no-op)
    fix2 = write(tmp_path, "fix2.lua", FIX + "-- again\n")
    r = skyctl_at(state, "inject", "@agent", fix2, node=node)
    assert r.returncode == 0 and "3 ok" in r.stdout, r.stdout + r.stderr
    assert [e["name"] for e in journal(node, "b")] == ["fix.lua", "fix2.lua"]
    # a sweep of the node leaves nothing of skyctl's where it had nothing
    out, _ = con.cmd("list")
    other = next(l.split("\t")[0][1:] for l in out.split("\n") if "\tsnlua " in l and
                 "agent" not in l and "debug_console" not in l)
    probe = write(tmp_path, "probe.lua", "print(package.loaded.skyctl == nil)")
    assert skyctl_at(state, "patches", node=node).returncode == 0
    assert con.cmd("inject %s %s" % (other, probe)) == ("true", "OK")
    # no TARGET: every Lua service of the node, the one reaching them included
    r = skyctl_at(state, "uninstall", node=node)
    assert r.returncode == 0 and " 0 failed" in r.stdout, r.stdout + r.stderr
    for h in "abc":
        assert con.cmd("dbgcmd %s SKYCTL1 x" % h)[1] == "Error"
    assert con.cmd("inject %s %s" % (other, probe)) == ("true", "OK")
    assert con.cmd("inject b %s" % probe) == ("false", "OK")  # b keeps its journal
    r = skyctl_at(state, "uninstall", ":7777", node=node)
    assert r.returncode == 1 and "no such service" in r.stderr
    con.close()


def test_a_node_refusing_precompiled_chunks_gets_the_engine_as_source(tmp_path, state):
    node = nodes.Node("sandbox", agents=3, env={"run_chunk_mode": "t"}).start()
    try:
        fix = write(tmp_path, "fix.lua", FIX)
        # the engine reaches :b and :c as source
        r = skyctl_at(state, "inject", "@agent", fix, node=node)
        assert r.returncode == 0 and "3 ok" in r.stdout, r.stdout + r.stderr
        con = Conn(node.port)
        for h in "abc":
            assert call(con, h, '"deposit", 1') == "1\t2\nn\t1"
        con.close()
    finally:
        node.stop()


# --- a 3-node cluster ---------------------------------------------------------

@pytest.fixture
def cluster(backend, tmp_path):
    ns = [nodes.Node(backend, agents=n).start(timeout=60) for n in (150, 150, 100)]
    conf = nodes.node_file(tmp_path / "nodes.lua", ns)
    yield ns, conf
    for n in ns:
        n.stop()


def test_selector_batch_across_cluster(cluster, tmp_path, state):
    ns, conf = cluster
    fix = write(tmp_path, "fix.lua", FIX)
    r = skyctl_at(state, "inject", "*/@agent", fix, config=conf)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "400 ok, 0 failed, 0 unknown, 0 skipped (400 targets on 3 nodes" in r.stdout
    for n in ns:
        con = Conn(n.port)
        for h in agents(con)[::37]:
            assert call(con, "%x" % h, '"deposit", 3') == "1\t6\nn\t1"
        con.close()
    r = skyctl_at(state, "inject", "--json", "n2/@agent", fix, config=conf)
    recs = json.loads(r.stdout)["targets"]
    assert len(recs) == 150 and {x["node"] for x in recs} == {"n2"}


def test_selector_matching_nothing(node, tmp_path, state):
    fix = write(tmp_path, "fix.lua", FIX)
    r = skyctl_at(state, "inject", "@nosuchservice", fix, node=node)
    assert r.returncode != 0 and "nosuchservice" in r.stderr
    assert not os.path.exists(state / "skyctl" / "audit.log")


def test_node_dying_mid_batch(cluster, tmp_path, state):
    ns, conf = cluster
    slow = write(tmp_path, "slow.lua", 'local skynet = require("skynet")\n'
                 'skynet.error("slow.lua: sleeping")\nskynet.sleep(100)\n_P.lua.CMD.slow = true\n')
    p = subprocess.Popen([nodes.SKYCTL, "--config", str(conf), "inject", "--keep-going",
                          "n1/:a,n2/:a,n3/:a", slow], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         env=dict(os.environ, XDG_STATE_HOME=str(state)))
    ns[1].wait_log("slow.lua: sleeping", timeout=30)  # n2's patch is under way
    ns[1].kill()
    out, err = p.communicate(timeout=30)
    assert p.returncode not in (0, 1), (out, err)
    assert re.search(r"^n1/:0000000a\s+ok", out, re.M), out
    assert re.search(r"^n3/:0000000a\s+ok", out, re.M), out
    assert re.search(r"^n2/:0000000a\s+unknown\s+.*may or may not be patched", out, re.M), out
    assert "2 ok, 0 failed, 1 unknown" in out
