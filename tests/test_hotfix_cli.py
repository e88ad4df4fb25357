"""Hot-fix safety as the command line shows it, against the sandbox and
real skynet: inject shows the checks and refuses an error unless --force;
the same patch again is `already in place` (exit 0) unless --again; a
script changing nothing is not journaled; exec runs a script without a
journal entry, results grouped; patches --show prints exactly the source
a service runs, kept 0600 in a 0700 dir; the audit log keeps arguments;
diff never says "nothing was changed" when the script ran the service's
own code; `skyctl help hotfix` is the guide."""
import json
import os
import re
import stat

import nodes
from cli_helpers import skyctl, skyctl_at, write
from inject_client import Conn, call, journal

FIX = """local balance
hotfix.replace(_P.lua.CMD, "deposit", function(n)
    balance = balance + 2 * n
    return balance
end)
"""

TYPO = """local balanse
hotfix.replace(_P.lua.CMD, "deposit", function(n)
    balanse = balanse + n
    return balanse
end)
"""



def test_inject_refuses_an_error_unless_forced(node, tmp_path, state):
    typo = write(tmp_path, "typo.lua", TYPO)
    r = skyctl_at(state, "inject", ":a", typo, node=node)
    assert r.returncode == 1
    assert ("balanse: no upvalue of that name in deposit (agent.lua:9); did you mean balance? "
            "(refused: nothing applied; --force applies it anyway)") in r.stdout, r.stdout
    assert "    ! error: balanse: no upvalue of that name in deposit" in r.stdout
    assert journal(node, "a") == []
    r = skyctl_at(state, "diff", ":a", typo, node=node)
    assert r.returncode == 1 and "would be refused: balanse" in r.stdout, r.stdout
    r = skyctl_at(state, "inject", "--force", ":a", typo, node=node)
    assert r.returncode == 0 and "patch #1, 1 change" in r.stdout, r.stdout


def test_the_same_patch_again_is_already_in_place(node, tmp_path, state):
    fix = write(tmp_path, "fix.lua", FIX)
    assert skyctl_at(state, "inject", ":a,:b", fix, node=node).returncode == 0
    r = skyctl_at(state, "inject", ":a,:b", fix, node=node)
    assert r.returncode == 0
    assert ":0000000a  ok      already in place (patch #1): nothing changed" in r.stdout, r.stdout
    r = skyctl_at(state, "diff", ":a", fix, node=node)
    assert "already in place (patch #1): inject would change nothing" in r.stdout, r.stdout
    r = skyctl_at(state, "inject", "--again", ":a", fix, node=node)
    assert r.returncode == 0 and "patch #2, 1 change" in r.stdout, r.stdout
    assert [e["id"] for e in journal(node, "a")] == [1, 2]
    con = Conn(node.port)
    assert call(con, "a", '"deposit", 5') == "1\t10\nn\t1"
    con.close()


def test_a_diagnostic_is_not_a_patch(node, tmp_path, state):
    diag = write(tmp_path, "diag.lua", 'print("balance", _P.lua.CMD.balance())\n')
    r = skyctl_at(state, "inject", "@agent", diag, node=node)
    assert r.returncode == 0
    assert ":0000000a  ok      no change: not journaled" in r.stdout, r.stdout
    assert skyctl_at(state, "patches", "--exit-code", "@agent", node=node).returncode == 0


def test_exec_runs_without_a_journal_entry(node, tmp_path, state):
    src = 'local who = ...\nprint("hello", who)\nreturn _P.lua.CMD.balance(), "x"\n'
    r = skyctl_at(state, "exec", "@agent", write(tmp_path, "ask.lua", src), "--", "ops",
                  node=node)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines()[:4] == [":0000000a, :0000000b, :0000000c  ok",
                                         "  | hello\tops", "  = 0", '  = "x"'], r.stdout
    assert "exec: 3 ok" in r.stdout
    for h in "abc":
        assert journal(node, h) == []
    log = [json.loads(l) for l in (state / "skyctl" / "audit.log").read_text().splitlines()]
    assert {(x["op"], x["args"], x["result"]) for x in log if x["target"] == ":0000000a"} == \
        {("exec", "ops", "pending"), ("exec", "ops", "ok")}


def test_exec_failure_exits_1(node, tmp_path, state):
    r = skyctl_at(state, "exec", ":a", write(tmp_path, "bad.lua", 'error("nope")\n'), node=node)
    assert r.returncode == 1 and ":0000000a  failed: bad.lua:1: nope" in r.stdout, r.stdout


def test_patches_show_prints_the_source_a_service_runs(node, tmp_path, state):
    fix = write(tmp_path, "fix.lua", FIX)
    r = skyctl_at(state, "inject", ":a", fix, "--", "500", node=node)
    assert r.returncode == 0
    r = skyctl_at(state, "patches", "--show", "1", ":a", node=node)
    assert r.returncode == 0 and r.stdout == FIX, r.stdout + r.stderr
    store = state / "skyctl" / "scripts"
    [f] = list(store.iterdir())
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    assert stat.S_IMODE(f.stat().st_mode) == 0o600 and f.read_text() == FIX
    log = [json.loads(l) for l in (state / "skyctl" / "audit.log").read_text().splitlines()]
    assert {x["args"] for x in log if x["op"] == "inject"} == {"500"}
    assert all(re.match(r"^\S+@\S+$", x["user"]) for x in log)
    r = skyctl_at(state, "patches", "--show", "7", ":a", node=node)
    assert r.returncode == 1 and "no patch #7" in r.stderr
    os.unlink(f)
    r = skyctl_at(state, "patches", "--show", "1", ":a", node=node)
    assert r.returncode == 6 and "is not kept on this machine" in r.stderr


def test_a_dry_run_running_service_code_never_says_nothing_changed(node, tmp_path, state):
    src = "_P.lua.CMD.deposit(5)\n"
    r = skyctl_at(state, "diff", ":a", write(tmp_path, "calls.lua", src), node=node)
    assert r.returncode == 0
    assert "nothing was changed" not in r.stdout
    assert "its changes were undone, but for what the ! and ? lines name" in r.stdout


def test_inject_warns_about_suspended_tasks(backend, tmp_path, state):
    with nodes.Node(backend, services=["sleeper"]) as node:
        con = Conn(node.port)
        out, _ = con.cmd("list")
        sleeper = re.search(r"^:(\w+)\tsnlua sleeper", out, re.M).group(1)
        r = skyctl_at(state, "call", ":" + sleeper, '"park", 1', node=node)
        assert r.returncode == 0
        held = Conn(node.port)
        held.send(b'call %s "hold"\n' % sleeper.encode())
        fix = write(tmp_path, "hold.lua", '_P.lua.CMD.hold = function() return "x" end\n')
        deadline = 50
        while deadline:
            r = skyctl_at(state, "inject", "--dry-run", ":" + sleeper, fix, node=node)
            if "suspended task" in r.stdout:
                break
            deadline -= 1
        assert ("! 1 suspended task is running _P.lua.CMD.hold, which would be replaced: "
                "it finishes on the old code") in r.stdout, r.stdout
        r = skyctl_at(state, "inject", ":" + sleeper, fix, node=node)
        assert ("! 1 suspended task is running _P.lua.CMD.hold, which was replaced: "
                "it finishes on the old code") in r.stdout, r.stdout
        assert call(con, sleeper, '"release"') == "1\t1\nn\t1"
        held.close()
        con.close()


def test_help_hotfix_is_the_guide():
    r = skyctl("help", "hotfix")
    assert r.returncode == 0
    with open(os.path.join(nodes.ROOT, "docs", "hotfix.md")) as f:
        assert r.stdout == f.read()
    assert "hotfix.replace(tbl, key, newfn)" in r.stdout and "_P.snax.func" in r.stdout
