"""What a newcomer and an operator trip over in the first hour (issue 21):
messages that name what went wrong and where to look, a question before a
command destroys several services, the prompt's meta-commands in `help
repl`, and `top --once` that fits a narrow terminal.  (The patches legend
in a pipe: tests/test_patches.py.)"""
import json
import os
import re

import pexpect
import pytest

import nodes
from cli_helpers import A, skyctl


def spawn(node, *args, env, cols=120):
    """skyctl ARGS on a pseudo-terminal of cols columns"""
    return pexpect.spawn(nodes.SKYCTL, ["-H", node.address] + list(args), env=env,
                         encoding="utf-8", timeout=20, dimensions=(40, cols))


def agents(node):
    """the agents the node still runs"""
    return [l.split("\t")[0] for l in skyctl("list", node=node).stdout.splitlines()
            if "agent" in l]


# ---- messages ----

def test_a_failing_call_says_where_the_error_went(node):
    r = skyctl("call", ":a", '"nosuch"', node=node)
    assert r.returncode == 1 and r.stdout == ""
    assert "call failed" in r.stderr
    # where the node logs, as its config says; a console without getenv
    # cannot say, and skyctl does not guess
    where = (r"its console cannot say where \(no getenv before skynet 1\.8\)"
             if nodes.old_console(node) else
             r"the node process's standard output \(no logger in its config\)")
    assert re.search(r"skynet reports only \"call failed\" \(the service raised an error, or "
                     r"is gone\); the error and its traceback are in the node's log: " + where,
                     r.stderr), r.stderr
    # the service's own error is there indeed, and the call ran once
    node.wait_log(r"nosuch")
    assert skyctl("call", ":a", '"balance"', node=node).stdout == "1\t0\nn\t1\n"


def test_getenv_of_a_missing_key_is_an_error(node):
    if nodes.old_console(node):
        pytest.skip("skynet 1.4's console has no getenv, nor dbgcmd (test_env_commands)")
    r = skyctl("getenv", "nosuch", node=node)
    assert (r.returncode, r.stdout) == (1, "")
    assert "getenv nosuch: not set in the node's config" in r.stderr
    doc = json.loads(skyctl("--json", "getenv", "nosuch", node=node).stdout)
    assert doc["rows"] == [{"key": "nosuch", "value": None}] and doc["summary"]["status"] == 1
    r = skyctl("getenv", "agents", node=node)
    assert (r.returncode, r.stdout, r.stderr) == (0, "agents\t3\n", "")


def test_logon_without_logpath_refuses(node):
    if nodes.old_console(node):
        pytest.skip("skynet 1.4's console has no getenv to read logpath with, nor dbgcmd")
    r = skyctl("logon", ":a", node=node)
    assert r.returncode == 1 and r.stdout == ""
    assert "logon: the node has no logpath in its config: nothing would be written" in r.stderr


def test_logon_with_logpath_goes_ahead(backend, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    with nodes.Node(backend, env={"logpath": str(logs)}) as n:
        r = skyctl("logon", ":a", node=n)
        assert r.returncode == 0 and r.stderr == "", r.stderr
        if backend == "skynet":     # skynet opens the file at once
            assert (logs / "0000000a.log").exists()


def test_the_repl_names_the_node_it_lost(backend, env):
    n = nodes.Node(backend).start()
    try:
        p = spawn(n, "repl", ":b", env=env)
        p.expect(":0000000b> ")
        p.sendline("1 + 1")
        p.expect("2")
        p.expect(":0000000b> ")
        n.kill()
        p.sendline("1 + 2")     # the connection breaks
        p.expect("> ")
        p.sendline("1 + 3")     # and no new one can be made
        p.expect("> ")
        assert re.search(r"127\.0\.0\.1:%d: cannot reach the node: Connection refused" % n.port,
                         p.before), p.before
        p.sendeof()
        p.expect(pexpect.EOF)
    finally:
        n.stop()


def test_help_repl_lists_the_meta_commands(node):
    out = skyctl("help", "repl").stdout
    assert "lines starting with '.' are skyctl's own" in out
    for meta in (".help", ".target", ".inject", ".diff", ".rollback", ".patches", ".watch",
                 ".more", ".quit"):
        assert re.search(r"^  %s\b" % re.escape(meta), out, re.M), meta
    assert out == skyctl("repl", "--help").stdout


# ---- a question before destroying several services ----

def test_a_pipe_is_never_asked(node):
    for args in (["kill", "@agent"], ["exit", ":a,:b"], ["signal", "@agent"]):
        r = skyctl(*args, node=node, input="y\n")
        assert r.returncode == 2 and r.stdout == "", args
        assert re.search(r"services selected and no terminal to ask on; nothing done "
                         r"\(give --yes to go ahead\)", r.stderr), r.stderr
    assert len(agents(node)) == 3
    # one service is not asked about; --yes goes ahead
    assert skyctl("signal", ":a", node=node).returncode == 0
    r = skyctl("kill", ":b,:c", "--yes", node=node)
    assert r.returncode == 0, r.stderr
    assert agents(node) == [A]


def test_rollback_all_asks_but_plain_rollback_does_not(node, tmp_path):
    r = skyctl("rollback", "@agent", "--all", node=node)
    assert r.returncode == 2 and "no terminal to ask on" in r.stderr
    r = skyctl("rollback", "@agent", node=node)
    assert "no terminal to ask on" not in r.stderr


def test_a_terminal_is_asked_and_shown_what_goes(node, env):
    p = spawn(node, "kill", "@agent", env=env)
    p.expect(r"skyctl: kill would touch 3 services:\r\n")
    p.expect(r"  :0000000a  snlua agent 1\r\n  :0000000b  snlua agent 2\r\n"
             r"  :0000000c  snlua agent 3\r\n")
    p.expect_exact("Go ahead? [y/N] ")
    p.sendline("n")
    p.expect("skyctl: kill: nothing done")
    p.expect(pexpect.EOF)
    p.close()
    assert p.exitstatus == 1 and len(agents(node)) == 3
    p = spawn(node, "exit", ":b,:c", env=env)
    p.expect_exact("Go ahead? [y/N] ")
    p.sendline("y")
    p.expect(pexpect.EOF)
    p.close()
    assert p.exitstatus == 0 and agents(node) == [A]
    p = spawn(node, "kill", ":a", env=env)     # one service: no question
    p.expect(pexpect.EOF)
    p.close()
    assert p.exitstatus == 0 and "Go ahead" not in p.before and agents(node) == []


# ---- top ----

def test_top_mem_change_has_units(node):
    r = skyctl("top", "--once", "-d", "0.2", node=node, env={"SKYCTL_FORCE_TTY": "1",
                                                          "NO_COLOR": "1", "COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    head = lines[0].split()
    assert head[-3:] == ["MEM", "MEM_CHANGE", "STATE"]
    for line in lines[1:]:
        # MEM and MEM_CHANGE: "12.00 KiB", "-1.25 KiB", "143 B"; the console's
        # change is blank (answering top is all it did)
        change = r"  +" if "debug_console" in line else r"  +-?[\d.]+ (B|KiB|MiB)  +"
        assert re.search(r" -?[\d.]+ (B|KiB|MiB)" + change + r"\w+$", line), line
    # in a pipe, whole bytes
    r = skyctl("top", "--once", "-d", "0.2", node=node)
    assert all(re.fullmatch(r"-?\d+" if "debug_console" not in l else "", l.split("\t")[7])
               for l in r.stdout.splitlines())


def test_top_once_fits_an_80_column_terminal(node, env):
    p = spawn(node, "top", "--once", "-d", "0.2", env=env, cols=80)
    p.expect(pexpect.EOF)
    p.close()
    lines = p.before.replace("\r\n", "\n").splitlines()
    assert p.exitstatus == 0 and lines, p.before
    assert max(len(l) for l in lines) <= 80, p.before
    head = lines[0].split()
    assert head[:3] == ["ADDRESS", "NAME", "CPU"] and "MEM" in head and head[-1] == "STATE"
    assert "TASKS" not in head and "QUEUE" not in head     # the least telling go first
    assert any(":00000009" in l and "debug_console" in l for l in lines[1:])
    # narrower still: names are cut, and the columns an operator needs stay
    r = skyctl("top", "--once", "-d", "0.2", node=node,
               env={"SKYCTL_FORCE_TTY": "1", "NO_COLOR": "1", "COLUMNS": "56"})
    lines = r.stdout.splitlines()
    assert max(len(l) for l in lines) <= 56, r.stdout
    assert lines[0].split() == ["ADDRESS", "NAME", "CPU", "MEM", "STATE"]
    assert any(re.search(r"snlua debug_console\S* *~", l) or "~ " in l for l in lines[1:])
