"""`skyctl diff`: the built binary against the `node` fixture (sandbox, and
real skynet when SKYNET_ROOT is set).  A dry run shows replaced functions
with where they were defined, added commands and changed upvalues, and the
service is exactly as before (checked by calling it); identical results
across targets are grouped; a script failing in the service exits 1, one
that does not compile exits 6 with nothing sent; suspended tasks running
replaced code are warned about; big data tables are reported as not
tracked; with no script, the patches in place; --json."""
import json
import os
import re
import socket
import subprocess

import nodes
from cli_helpers import skyctl_at, write
from inject_client import Conn, call, route

FIX = """local CMD = _P.lua.CMD
local balance
hotfix.replace(CMD, "deposit", function(n)
    balance = balance + 2 * n
    return balance
end)
function CMD.withdraw(n)
    return n
end
hotfix.setupvalue(CMD.balance, "balance", 100)
print("fixing")
"""

BOOM = """_P.lua.CMD.echo = nil
error("boom")
"""


DISPATCH = """local skynet = require "skynet"
skynet.dispatch("lua", function(session, source, cmd, ...)
    skynet.ret(skynet.pack("dispatched", cmd))
end)
"""


def diff_lines(out):
    return [l.strip() for l in out.splitlines()]


def test_diff_shows_changes_and_leaves_service_untouched(node, tmp_path, state):
    con = Conn(node.port)
    call(con, "a", '"deposit", 5')
    fix = write(tmp_path, "fix.lua", FIX)
    r = skyctl_at(state, "diff", ":a", fix, node=node)
    assert r.returncode == 0, r.stderr
    lines = diff_lines(r.stdout)
    assert lines[0] == ":0000000a  would apply cleanly, 3 changes"
    assert re.match(r"^~ upvalue balance of _P\.lua\.CMD\.balance +5 -> 100$", lines[1])
    assert re.match(r"^~ _P\.lua\.CMD\.deposit +function agent\.lua:9 -> function fix\.lua:3$",
                    lines[2])
    assert re.match(r"^\+ _P\.lua\.CMD\.withdraw +function fix\.lua:7$", lines[3])
    assert lines[4] == "| fixing"
    assert "nothing was changed" in lines[5]
    # the service runs its old code on its old state, with nothing added
    assert call(con, "a", '"deposit", 1') == "1\t6\nn\t1"
    assert con.cmd('call a "withdraw", 1')[1] == "Error"
    r = skyctl_at(state, "diff", ":a", node=node)
    assert r.returncode == 0 and ":0000000a  runs as it started: no patch in place" in r.stdout
    con.close()


def test_a_replaced_dispatch_is_shown_undone_journaled_and_rolled_back(node, tmp_path,
                                                                         state):
    # skynet.dispatch replaces the protocol's dispatch function, which
    # skynet 1.4-1.6 keeps in _U.proto alone (a dry run left it replaced
    # there, saying nothing was changed)
    con = Conn(node.port)
    fix = write(tmp_path, "dispatch.lua", DISPATCH)
    r = skyctl_at(state, "diff", ":a", fix, node=node)
    assert r.returncode == 0, r.stderr
    lines = diff_lines(r.stdout)
    assert lines[0] == ":0000000a  would apply cleanly, 1 change", lines
    # (where skynet.lua keeps it in skynet._proto too, 1.7 on, it is named there)
    assert re.match(r"^~ (_U\.proto|package\.loaded\.skynet\._proto)(\[10\]|\.lua)\.dispatch"
                    r" +function agent\.lua:\d+ -> "
                    r"function dispatch\.lua:2$", lines[1]), lines
    assert "nothing was changed" in r.stdout
    assert call(con, "a", '"echo", 1') == "1\t1\nn\t1"
    r = skyctl_at(state, "inject", ":a", fix, node=node)
    assert ":0000000a  ok      patch #1, 1 change" in r.stdout, r.stdout
    assert call(con, "a", '"echo", 1') == "1\tdispatched\n2\techo\nn\t2"
    r = skyctl_at(state, "rollback", ":a", node=node)
    assert r.returncode == 0, r.stdout
    assert call(con, "a", '"echo", 1') == "1\t1\nn\t1"
    con.close()


def test_messages_the_script_sends_are_said_not_undone(node, tmp_path, state):
    # a dry run cannot take back what another service did with a message
    src = ('local skynet = require "skynet"\n'
           'skynet.send(skynet.self() + 1, "lua", "deposit", 5)\n')
    fix = write(tmp_path, "send.lua", src)
    r = skyctl_at(state, "diff", ":a", fix, node=node)
    assert r.returncode == 0, r.stderr
    assert ("  ! the script sent messages to other services (skynet.call, skynet.send): what "
            "they did with them stays" in r.stdout.splitlines()), r.stdout
    assert "but for what the ! and ? lines name" in r.stdout
    con = Conn(node.port)
    assert call(con, "b", '"balance"') == "1\t5\nn\t1"
    # a failing script: its tracked changes are undone, that is not
    r = skyctl_at(state, "inject", ":a", write(tmp_path, "boom.lua", src + 'error("boom")\n'),
                  node=node)
    assert r.returncode == 1
    assert ":0000000a  failed  boom.lua:3: boom (its 0 tracked changes undone; what it changed " \
        "elsewhere stays: see the ! lines)" in r.stdout, r.stdout
    assert call(con, "b", '"balance"') == "1\t10\nn\t1"
    con.close()


def test_modules_globals_and_removals(node, tmp_path, state):
    src = ("package.loaded.string.shout = string.upper\n"
           "_G.motd = 'hello'\n"
           "_P.lua.CMD.echo = nil\n")
    r = skyctl_at(state, "diff", ":a", write(tmp_path, "more.lua", src), node=node)
    assert r.returncode == 0, r.stderr
    lines = diff_lines(r.stdout)
    assert lines[0] == ":0000000a  would apply cleanly, 3 changes"
    assert re.match(r'^\+ _G\.motd +"hello"$', lines[1]), lines
    assert re.match(r"^- _P\.lua\.CMD\.echo +function agent\.lua:18$", lines[2]), lines
    assert re.match(r"^\+ package\.loaded\.string\.shout +function \(builtin\)$", lines[3])
    con = Conn(node.port)
    assert call(con, "a", '"echo", "x"') == "1\tx\nn\t1"
    con.close()


def test_identical_results_are_grouped(node, tmp_path, state):
    con = Conn(node.port)
    call(con, "c", '"deposit", 7')
    fix = write(tmp_path, "fix.lua", FIX)
    r = skyctl_at(state, "diff", ":a,:b,:c", fix, node=node)
    assert r.returncode == 0, r.stderr
    heads = [l for l in r.stdout.splitlines() if l.startswith(":")]
    assert heads == [":0000000a, :0000000b  would apply cleanly, 3 changes",
                     ":0000000c  would apply cleanly, 3 changes"]
    assert len(re.findall(r"upvalue balance of _P\.lua\.CMD\.balance +0 -> 100", r.stdout)) == 1
    assert len(re.findall(r"upvalue balance of _P\.lua\.CMD\.balance +7 -> 100", r.stdout)) == 1
    assert "diff: 3 would apply cleanly, 0 failed, 0 unknown; nothing was changed " \
        "(3 targets on 1 node, " in r.stdout
    con.close()


def test_script_failing_in_the_service_exits_1(node, tmp_path, state):
    con = Conn(node.port)
    boom = write(tmp_path, "boom.lua", BOOM)
    r = skyctl_at(state, "diff", ":a,:b", boom, node=node)
    assert r.returncode == 1
    assert ":0000000a, :0000000b  would fail: boom.lua:2: boom" in r.stdout
    assert "0 would apply cleanly, 2 failed" in r.stdout
    assert call(con, "a", '"echo", "still here"') == "1\tstill here\nn\t1"
    con.close()


def test_syntax_error_is_local_and_sends_nothing(node, tmp_path, state):
    bad = write(tmp_path, "bad.lua", "local x =\n")
    r = skyctl_at(state, "diff", ":a", bad, node=node)
    assert r.returncode == 6 and r.stdout == ""
    assert re.match(r"^bad.lua:2: unexpected symbol near <eof>", r.stderr), r.stderr
    if nodes.lua_foreign(node):  # Lua 5.5: the node compiled it, with the agent
        return
    con = Conn(node.port)
    # no agent was ever loaded (a console without dbgcmd: never routed)
    probe = "trace a SKYCTL?" if route(con) == "info" else "dbgcmd a SKYCTL1 x"
    assert con.cmd(probe)[1] == "Error"
    con.close()


def test_usage_and_unknown_target(node, tmp_path, state):
    assert skyctl_at(state, "diff", node=node).returncode == 2
    r = skyctl_at(state, "diff", ":a", "--", "x", node=node)
    assert r.returncode == 2 and "need a SCRIPT" in r.stderr
    fix = write(tmp_path, "fix.lua", FIX)
    r = skyctl_at(state, "diff", "@nosuchservice", fix, node=node)
    assert r.returncode == 1 and "no service matches" in r.stderr


def test_json(node, tmp_path, state):
    fix = write(tmp_path, "fix.lua", FIX)
    r = skyctl_at(state, "diff", "--json", ":a,:b", fix, node=node)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    recs = doc["targets"]
    assert [x["target"] for x in recs] == [":0000000a", ":0000000b"]
    for x in recs:
        assert x["status"] == "ok" and x["result"]["ok"] is True
        [s] = x["result"]["scripts"]
        assert s["out"] == ["fixing"] and "id" not in s
        changes = {c["path"]: c for c in s["changes"]}
        assert changes["_P.lua.CMD.deposit"]["old"] == "function agent.lua:9"
        assert changes["_P.lua.CMD.withdraw"]["what"] == "added"
        assert changes["_P.lua.CMD.balance"]["upvalue"] == "balance"
        assert x["result"]["untracked"]["nlarge"] == 0
    assert doc["summary"]["dry_run"] is True and doc["summary"]["ok"] == 2


def test_warns_about_suspended_tasks(backend, tmp_path, state):
    with nodes.Node(backend, services=["sleeper"]) as node:
        con = Conn(node.port)
        out, _ = con.cmd("list")
        sleeper = re.search(r"^:(\w+)\tsnlua sleeper", out, re.M).group(1)
        napper = socket.create_connection(("127.0.0.1", node.port), timeout=5)
        napper.sendall(b'call %s "nap"\n' % sleeper.encode())
        node.wait_log("sleeper: napping")  # the task is now asleep inside CMD.nap
        fix = write(tmp_path, "nap.lua", '_P.lua.CMD.nap = function() return "awake" end\n')
        r = skyctl_at(state, "diff", ":" + sleeper, fix, node=node)
        assert r.returncode == 0, r.stderr
        assert re.search(r"! 1 suspended task is running _P\.lua\.CMD\.nap, which would be "
                         r"replaced: it finishes on the old code", r.stdout), r.stdout
        napper.close()
        con.close()


def test_service_code_run_by_the_script_is_named(node, tmp_path, state):
    """a dry run undoes the script's changes to code, not what the service's
    own handlers did when the script called them: diff says so"""
    src = "local CMD = _P.lua.CMD\nCMD.deposit(5)\nprint(CMD.balance())\n"
    r = skyctl_at(state, "diff", ":a", write(tmp_path, "calls.lua", src), node=node)
    assert r.returncode == 0, r.stderr
    assert ("  ! the script ran the service's own code: _P.lua.CMD.balance _P.lua.CMD.deposit; "
            "state that code changed stays (a dry run cannot undo it)") in r.stdout, r.stdout
    con = Conn(node.port)
    assert call(con, "a", '"balance"') == "1\t5\nn\t1"
    con.close()
    r = skyctl_at(state, "diff", ":a", write(tmp_path, "fix.lua", FIX), node=node)
    assert "own code" not in r.stdout


def test_big_data_table_is_reported_not_tracked(node, tmp_path, state):
    fill = write(tmp_path, "fill.lua",
                 "local t = {} for i = 1, 5000 do t[i] = i end _P.lua.CMD.players = t\n")
    assert skyctl_at(state, "inject", ":a", fill, node=node).returncode == 0
    fix = write(tmp_path, "fix.lua", FIX)
    r = skyctl_at(state, "diff", ":a", fix, node=node)
    assert r.returncode == 0, r.stderr
    assert re.search(r"\? not tracked: 1 table of more than 1000 entries \(data, not walked\): "
                     r"_P\.lua\.CMD\.players$", r.stdout, re.M), r.stdout


def test_no_script_shows_the_patches_in_place(node, tmp_path, state):
    fix = write(tmp_path, "fix.lua", FIX)
    assert skyctl_at(state, "inject", ":a,:b", fix, node=node).returncode == 0
    r = skyctl_at(state, "diff", ":a,:b,:c", node=node)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert ":0000000a, :0000000b  1 patch in place" in out
    assert re.search(r"^  #1 fix\.lua  sha256 [0-9a-f]{12}  \d{4}-\d\d-\d\d \d\d:\d\d UTC  by \S+@",
                     out, re.M), out
    assert re.search(r"^    ~ _P\.lua\.CMD\.deposit +function agent\.lua:9 -> function fix\.lua:3$",
                     out, re.M), out
    assert ":0000000c  runs as it started: no patch in place" in out
    r = skyctl_at(state, "diff", "--json", ":a,:c", node=node)
    recs = json.loads(r.stdout)["targets"]
    assert [(x["target"], x["status"]) for x in recs] == [(":0000000a", "ok"), (":0000000c", "ok")]
    [e] = recs[0]["result"]["journal"]
    assert e["name"] == "fix.lua" and e["state"] == "applied" and e["nchanges"] == 3
    assert {c["path"] for c in e["changes"]} == {"_P.lua.CMD.deposit", "_P.lua.CMD.withdraw",
                                                 "_P.lua.CMD.balance"}
    assert recs[1]["result"]["journal"] == []
    assert skyctl_at(state, "rollback", ":a", node=node).returncode == 0
    r = skyctl_at(state, "diff", ":a", node=node)
    assert "runs as it started" in r.stdout


def test_table_output_on_a_terminal(node, tmp_path, state):
    fix = write(tmp_path, "fix.lua", FIX)
    env = dict(os.environ, XDG_STATE_HOME=str(state), SKYCTL_FORCE_TTY="1")
    r = subprocess.run([nodes.SKYCTL, "-H", node.address, "diff", ":a", fix], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0
    assert re.search(r"function agent\.lua:9 → function fix\.lua:3", r.stdout), r.stdout
