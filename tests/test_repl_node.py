"""skyctl repl beyond plain Lua: the node prompt (console commands, their
completion, .target), meta-commands (.help, .inject, .diff and friends,
unknown ones), editing (Ctrl-R, vi keys from ~/.editrc), a dead target, and
the node prompt without a terminal."""
import os
import re

from cli_helpers import ask, complete, leave, prompt, run_stdin, spawn


def node_prompt(c, node):
    c.expect(re.escape("%s> " % node.address))


def test_node_prompt_runs_console_commands(node, env):
    c = spawn(node, env)
    node_prompt(c, node)
    c.send("list\r")
    c.expect(r":0000000a\tsnlua agent 1")
    node_prompt(c, node)
    c.send("nosuchcommand\r")
    c.expect("Invalid command")
    node_prompt(c, node)
    c.send("debug a\r")  # never switches this connection into debug mode
    c.expect("use .target")
    node_prompt(c, node)
    c.send(".target :b\r")
    prompt(c, ":0000000b")
    ask(c, "1+1", r"\r\n2\r\n", service=":0000000b")
    c.send(".target\r")
    node_prompt(c, node)
    assert leave(c) == 0


def test_node_prompt_completion(node, env):
    c = spawn(node, env)
    node_prompt(c, node)
    complete(c, "lis", "t ")
    c.send("\r")
    c.expect(r":0000000c\tsnlua agent 3")
    node_prompt(c, node)
    c.send("ping :0000000\t")  # lists the addresses
    c.expect(":0000000a")
    c.send("b\r")
    c.expect(r"\r\n\d+\r\n")  # ping's round trip
    node_prompt(c, node)
    c.send(".ta\t:0000000c\r")
    prompt(c, ":0000000c")
    assert leave(c) == 0


def test_node_prompt_without_terminal(node, env):
    r = run_stdin(node, env, "list\nnosuch\n")
    assert r.returncode == 1
    assert ":0000000a\tsnlua agent 1" in r.stdout
    assert "Invalid command" in r.stdout + r.stderr


def test_help_and_unknown_meta(node, env):
    c = spawn(node, env, ":a")
    prompt(c)
    ask(c, ".help", r"\.watch +PROTO")
    ask(c, ".frobnicate", r"unknown command \.frobnicate")
    ask(c, ".rollback", r"failed +no patch to roll back")
    assert leave(c) == 0


def test_inject_from_the_prompt(node, env, tmp_path):
    fix = tmp_path / "fix.lua"
    fix.write_text('local CMD, balance = _P.lua.CMD\n'
                   'hotfix.replace(CMD, "balance", function() return balance * 100 end)\n'
                   'print("patched")\n')
    c = spawn(node, env, ":a")
    prompt(c)
    ask(c, "_P.lua.CMD.deposit(3)", r"\r\n3\r\n")
    ask(c, ".inject %s" % fix, r"patched")
    ask(c, "_P.lua.CMD.balance()", r"\r\n300\r\n")
    ask(c, ".inject %s" % (tmp_path / "missing.lua"), r"cannot read")
    assert leave(c) == 0


def test_diff_patches_rollback_from_the_prompt(node, env, tmp_path):
    fix = tmp_path / "fix.lua"
    fix.write_text('local CMD, balance = _P.lua.CMD\n'
                   'hotfix.replace(CMD, "balance", function() return balance * 100 end)\n')
    c = spawn(node, env, ":a")
    prompt(c)
    ask(c, "_P.lua.CMD.deposit(3)", r"\r\n3\r\n")
    ask(c, ".diff %s" % fix, r"~ _P\.lua\.CMD\.balance +function agent\.lua:14 → function fix\.lua:2")
    ask(c, "_P.lua.CMD.balance()", r"\r\n3\r\n")  # the dry run left nothing
    ask(c, ".inject %s" % fix, r"patch #1, 1 change")
    ask(c, ".patches", r"1 +fix\.lua +[0-9a-f]{12} .* applied")
    ask(c, ".diff", r"1 patch in place")
    ask(c, "_P.lua.CMD.balance()", r"\r\n300\r\n")
    ask(c, ".rollback", r"ok +#1 fix\.lua \(1 restored\)")
    ask(c, "_P.lua.CMD.balance()", r"\r\n3\r\n")
    ask(c, ".patches", r"rollback of #1")
    assert leave(c) == 0


def test_rollback_options_from_the_prompt(node, env, tmp_path):
    scripts = []
    for k, factor in ((1, 10), (2, 100)):
        fix = tmp_path / ("fix%d.lua" % k)
        fix.write_text('local CMD, balance = _P.lua.CMD\n'
                       'hotfix.replace(CMD, "balance", function() return balance * %d end)\n'
                       % factor)
        scripts.append(fix)
    b = ":0000000b"
    c = spawn(node, env, b)
    prompt(c, b)
    ask(c, "_P.lua.CMD.deposit(2)", r"\r\n2\r\n", b)
    ask(c, ".inject %s" % scripts[0], r"patch #1, 1 change", b)
    ask(c, ".inject %s" % scripts[1], r"patch #2, 1 change", b)
    ask(c, "_P.lua.CMD.balance()", r"\r\n200\r\n", b)
    ask(c, ".rollback --patch 7", r"no patch #7", b)
    ask(c, ".rollback --all", r"ok +#2 fix2\.lua .*#1 fix1\.lua", b)
    ask(c, "_P.lua.CMD.balance()", r"\r\n2\r\n", b)
    ask(c, ".rollback --bogus", r"unknown option", b)
    assert leave(c) == 0


def test_ctrl_r_searches_history(node, env):
    c = spawn(node, env, ":a")
    prompt(c)
    ask(c, "'needle' .. 1", r'"needle1"')
    ask(c, "2+2", r"\r\n4\r\n")
    c.send("\x12needle")
    c.expect_exact("'needle' .. 1")     # Ctrl-R found it
    ask(c, "", r'"needle1"')
    assert leave(c) == 0


def test_vi_keys_from_editrc(node, env):
    with open(os.path.join(env["HOME"], ".editrc"), "w") as f:
        f.write("bind -v\n")
    c = spawn(node, env, ":a")
    prompt(c)
    c.send("1+5")
    c.send("\x1b")  # command mode: the cursor steps back onto '5'
    c.expect_exact("\b")
    c.send("hx")  # h onto '+', x deletes it
    ask(c, "", r"\r\n15\r\n")
    assert leave(c) == 0


def test_dead_target_is_an_error(node, env):
    r = run_stdin(node, env, "1+1\n", ":ff")
    assert r.returncode == 1 and "does not exist" in r.stderr
    r = run_stdin(node, env, "1+1\n", "@nosuch")
    assert r.returncode != 0 and r.stdout == ""
