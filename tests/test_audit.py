"""The audit log by table flag: every command that changes a service or a
node leaves a "pending" record before it is sent and one with its result
after (same batch id), in $XDG_STATE_HOME/skyctl/audit.log; commands that
only read leave none."""
import json
import os
import subprocess

import nodes

FIX = '_P.lua.CMD.fixed = function() return "fixed" end\n'


def run(tmp_path, *args, node):
    env = dict(os.environ, HOME=str(tmp_path / "home"), XDG_STATE_HOME=str(tmp_path / "state"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    env.pop("SKYCTL_HOST", None)
    return subprocess.run([nodes.SKYCTL, "-H", node.address] + list(args), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)


def records(tmp_path):
    log = tmp_path / "state" / "skyctl" / "audit.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_every_changing_command_is_recorded_before_and_after(node, tmp_path):
    fix = tmp_path / "fix.lua"
    fix.write_text(FIX)
    cases = [  # (command and arguments, targets recorded: None for a node-wide command)
        (["setenv", "skyctl_audit_key", "1"], None), (["clearcache"], None),
        (["logon", ":a,:b"], [":0000000a", ":0000000b"]), (["logoff", ":a"], [":0000000a"]),
        (["trace", ":b", "on"], [":0000000b"]), (["signal", ":a"], [":0000000a"]),
        (["killtask", ":a", "nosuchthread"], [":0000000a"]), (["gc"], None),
        (["call", ":a", '"deposit", 1'], [":0000000a"]), (["raw", "getenv", "agents"], None),
        (["profactive"], None), (["dumpheap"], None), (["snax", "nosuch"], None),
        (["inject", ":a,:b", str(fix)], [":0000000a", ":0000000b"]),
        (["rollback", ":b"], [":0000000b"]), (["uninstall", ":a"], [":0000000a"]),
        (["start", "agent", "x"], None), (["log", "agent", "y"], None),
        (["exit", ":b"], [":0000000b"]), (["kill", ":c"], [":0000000c"]),
    ]
    for args, targets in cases:
        before = len(records(tmp_path))
        run(tmp_path, *args, node=node)
        new = records(tmp_path)[before:]
        assert {r["op"] for r in new} == {args[0]}, (args, new)
        pending = [r for r in new if r["result"] == "pending"]
        done = [r for r in new if r["result"] != "pending"]
        want = targets or [None]
        assert [r["target"] for r in pending] == want, (args, new)
        assert [r["target"] for r in done] == want, (args, new)
        assert {r["batch"] for r in new} == {new[0]["batch"]}
        assert all(r["node"] == node.address and "@" in r["user"] for r in new)
        assert all(r["result"].split(":")[0] in ("ok", "failed", "unknown") for r in done), new
    by_op = {r["op"]: r for r in records(tmp_path) if r["result"] != "pending"}
    # a console without setenv and dbgcmd (skynet 1.4): the failure is what
    # is recorded (1.5 to 1.7's setenv is the agent's)
    setenv = "failed: " if nodes.old_console(node) else "ok"
    assert by_op["setenv"]["args"] == "skyctl_audit_key 1"
    assert by_op["setenv"]["result"].startswith(setenv), by_op["setenv"]
    assert by_op["snax"]["result"].startswith("failed: ")
    assert by_op["inject"]["script"] == str(fix)


def test_commands_that_only_read_leave_no_record(node, tmp_path):
    fix = tmp_path / "fix.lua"
    fix.write_text(FIX)
    for args in (["list"], ["stat"], ["mem"], ["ping", ":a,:b"], ["info", ":a"],
                 ["getenv", "agents"], ["diff", ":a", str(fix)], ["patches", ":a"],
                 ["stuck", ":a"]):
        r = run(tmp_path, *args, node=node)
        assert r.returncode == 0 or (args[0] == "getenv" and nodes.old_console(node)), args
    assert records(tmp_path) == []
