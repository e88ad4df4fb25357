"""skyctl repl through a real pseudo-terminal (pexpect) and through a pipe,
against every backend: values, tables, print, errors, multi-line chunks,
remote completion, Ctrl-C/Ctrl-D, history across sessions, transcripts,
stdin mode, .watch, and no service left in debug mode after kill -9.
Every test has its own HOME and XDG directories (the env fixture)."""
import os
import re
import signal
import stat
import subprocess
import time

import pexpect

import nodes
from cli_helpers import ask, complete, leave, prompt, run_stdin, sleep_line, spawn

def test_values_tables_print_session_names(node, env):
    c = spawn(node, env, ":a")
    prompt(c)
    ask(c, "1+1", r"\r\n2\r\n")
    ask(c, "{1, 2, a = {b = 3}, [10] = 'x'}", r'\{1, 2, \[10\] = "x", a = \{b = 3\}\}')
    ask(c, 'print("aaa", 2)', r"\r\naaa\t2\r\n")
    ask(c, "x = 41", r"\r\n")
    ask(c, "x + 1", r"\r\n42\r\n")
    ask(c, 'rawget(_G, "x")', r"\r\nnil\r\n")  # a session name, not a global
    ask(c, "t = {} t.self = t return t", r"\{self = <cycle table: 0x[0-9a-f]+>\}")
    ask(c, "_P.lua.CMD", r"deposit = function: agent\.lua:\d+")
    ask(c, 'print("<CMD OK>") print("<CMD Error>")', r"<CMD OK>\r\n<CMD Error>\r\n")
    ask(c, "_G.shared = 7", r"\r\n")
    assert leave(c) == 0
    c = spawn(node, env, ":a")  # a new session: x is gone, the global stays
    prompt(c)
    ask(c, "x, shared", r"\r\nnil\t7\r\n")
    assert leave(c) == 0


def test_errors_with_line_numbers(node, env):
    c = spawn(node, env, ":a")
    prompt(c)
    ask(c, 'error("boom")', r"repl:1: boom\r\n")
    ask(c, "x = = 1", r"repl:1: unexpected symbol near '='\r\n")  # found locally
    c.send("local a = 1 do\r")
    c.expect(">> ")
    ask(c, "return a + nil end", r"repl:2: attempt to perform arithmetic on a nil value")
    assert leave(c) == 0


def test_multiline_chunk(node, env):
    c = spawn(node, env, ":a")
    prompt(c)
    c.send("for i = 1, 3 do\r")
    c.expect(">> ")
    c.send("print(i * 10)\r")
    c.expect(">> ")
    ask(c, "end", r"10\r\n20\r\n30\r\n")
    assert leave(c) == 0


def test_complete_remote_names(node, env):
    c = spawn(node, env, ":a")
    prompt(c)
    complete(c, "_P.lua.CM", "D ")
    ask(c, "", r"deposit = function")  # completed to _P.lua.CMD
    complete(c, "_P.lua.CMD.dep", "osit ")
    ask(c, "(5)", r"\r\n5\r\n")  # _P.lua.CMD.deposit(5): the balance
    complete(c, ".ta", "rget ")
    ask(c, "", r"\r\n", service=None)  # .target alone: the node prompt
    leave(c)


def test_ctrl_c_clears_then_ctrl_d_leaves(node, env):
    c = spawn(node, env, ":a")
    prompt(c)
    c.send("this is not lua")
    c.send("\x03")
    prompt(c)
    c.send("for i = 1, 2 do\r")
    c.expect(">> ")
    c.send("\x03")  # abandons the unfinished chunk too
    prompt(c)
    ask(c, "1+2", r"\r\n3\r\n")
    assert leave(c) == 0


def test_ctrl_c_abandons_a_waiting_line(node, env):
    c = spawn(node, env, ":a")
    prompt(c)
    mark = node.log_mark()
    c.send(sleep_line(300) + "\r")
    node.wait_log("repl: sleeping", after=mark)
    c.send("\x03")
    c.expect("abandoned")   # within expect's 15 s, not the 300 s the line sleeps
    prompt(c)
    ask(c, "2+2", r"\r\n4\r\n")
    assert leave(c) == 0


def test_history_reloaded_private_and_filtered(node, env, tmp_path):
    c = spawn(node, env, ":a")
    prompt(c)
    ask(c, "6*7", r"\r\n42\r\n")
    ask(c, "password = 'hunter2'", r"\r\n")
    c.send("for i = 1, 2 do\r")
    c.expect(">> ")
    ask(c, "end", r"\r\n")
    assert leave(c) == 0
    hist = tmp_path / "state" / "skyctl" / "history" / node.address.replace(":", "_")
    f = hist / "0000000a.hist"
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert stat.S_IMODE(hist.stat().st_mode) == 0o700
    text = f.read_text()
    assert text == "6*7\nfor i = 1, 2 do\\nend\n"  # one entry per chunk; no password
    c = spawn(node, env, ":a")
    prompt(c)
    c.send("\x1b[A\x1b[A")  # up twice: 6*7
    ask(c, "", r"\r\n42\r\n")
    assert leave(c) == 0


def test_histfile_override_and_dev_null(node, env, tmp_path):
    env["SKYCTL_HISTFILE"] = str(tmp_path / "h")
    c = spawn(node, env, ":a")
    prompt(c)
    ask(c, "1", r"\r\n1\r\n")
    leave(c)
    assert (tmp_path / "h").read_text() == "1\n"
    env["SKYCTL_HISTFILE"] = "/dev/null"
    c = spawn(node, env, ":a")
    prompt(c)
    ask(c, "2", r"\r\n2\r\n")
    leave(c)
    assert not (tmp_path / "state" / "skyctl" / "history").exists()


def test_transcript_and_history_command(node, env, tmp_path):
    c = spawn(node, env, ":a")
    prompt(c)
    ask(c, "6*7", r"\r\n42\r\n")
    ask(c, 'error("oops")', r"oops")
    leave(c)
    sessions = tmp_path / "state" / "skyctl" / "sessions"
    logs = list(sessions.iterdir())
    assert len(logs) == 1 and stat.S_IMODE(logs[0].stat().st_mode) == 0o600
    sid = logs[0].name[:-4]
    text = logs[0].read_text()
    assert "# node %s\n# service :0000000a\n" % node.address in text
    assert re.search(r"\n\d{4}-\d\d-\d\dT[\d:.]+Z > 6\*7\n[\dT:.Z-]+ < 42\n", text), text
    assert re.search(r"Z ! repl:1: oops\n", text)
    out = subprocess.run([nodes.SKYCTL, "history"], env=env, capture_output=True, text=True)
    assert out.returncode == 0
    assert re.match(r"%s\t\S+\t%s\t:0000000a\t2 lines\n$" % (sid, re.escape(node.address)),
                    out.stdout), out.stdout
    out = subprocess.run([nodes.SKYCTL, "history", sid], env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0 and "> 6*7" in out.stdout and "< 42" in out.stdout
    out = subprocess.run([nodes.SKYCTL, "history", "--grep", "oops"], env=env,
                         capture_output=True, text=True)
    assert out.stdout.startswith(sid) and "error(\"oops\")" in out.stdout
    assert "6*7" not in out.stdout
    out = subprocess.run([nodes.SKYCTL, "history", "--session", "nosuch"], env=env,
                         capture_output=True, text=True)
    assert out.returncode != 0 and "no session" in out.stderr


def test_stdin_mode_prints_results_and_fails_on_error(node, env):
    r = run_stdin(node, env, "1+1\nprint('x')\nfor i=1,2 do\nprint(i)\nend\n", ":a")
    assert (r.returncode, r.stdout, r.stderr) == (0, "2\nx\n1\n2\n", "")
    r = run_stdin(node, env, "1+1\nerror('bad')\n3\n", ":a")
    assert (r.returncode, r.stdout) == (1, "2\n3\n")
    assert "repl:1: bad" in r.stderr
    r = run_stdin(node, env, "1 +\n", ":a")  # unfinished at end of input
    assert r.returncode == 1 and "repl:1:" in r.stderr


def test_a_line_whose_agent_failed_is_said_and_the_prompt_goes_on(node, env):
    # the first line takes skyctl's command away from the service: the
    # second reaches no agent, which the console says as it says a request
    # failing in one ("call failed"), so it is not sent again (it may have
    # run); the third finds the agent missing, loads it, and runs
    r = run_stdin(node, env, 'require("skynet.debug").reg_debugcmd("SKYCTL1", nil)\n'
                  '1+1\n2+2\n', ":a")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stdout.splitlines() == [
        "(journaled as patch #1: 1 change; skyctl rollback undoes it)", "4"], r.stdout
    assert ":0000000a failed while running the request (it exited, or skyctl's agent in it " \
        "failed)" in r.stderr


def debug_agents(con):
    lines, status = con.cmd("list")
    assert status == "OK"
    return [x for x in lines if "debug_agent" in x]


def test_kill9_leaves_no_debug_mode(node, env):
    with nodes.Console(node.port) as con:
        before = debug_agents(con)
        c = spawn(node, env, ":b")
        prompt(c, ":0000000b")
        ask(c, "1+1", r"\r\n2\r\n", service=":0000000b")
        mark = node.log_mark()
        c.send(sleep_line(200) + "\r")
        node.wait_log("repl: sleeping", after=mark)
        os.kill(c.pid, signal.SIGKILL)
        c.expect(pexpect.EOF)
        c.close()
        deadline = time.time() + 5
        while debug_agents(con) != before and time.time() < deadline:
            time.sleep(0.1)
        assert debug_agents(con) == before
        con.send("debug b\n")
        con.read_until(":0000000b>", timeout=10)
        con.send("cont\n")
        con.read_until("<CMD OK>\n", timeout=10)
        assert con.cmd('call :b "balance"') == (["1\t0", "n\t1"], "OK")


def test_watch_steps_and_continues(node, env):
    c = spawn(node, env, ":c")
    prompt(c, ":0000000c")
    c.send(".watch lua\r")
    c.expect("waiting for its next message")
    with nodes.Console(node.port) as con:
        con.send('call :c "deposit", 5\n')
        c.expect(r"agent\.lua\(\d+\)> ")
        c.send("s\r")
        c.expect(r"agent\.lua\(\d+\)> ")
        c.send("c\r")
        prompt(c, ":0000000c")
        assert "5" in con.read_until("<CMD OK>\n", timeout=10)
        assert debug_agents(con) == []
    ask(c, "1+1", r"\r\n2\r\n", service=":0000000c")
    leave(c)
