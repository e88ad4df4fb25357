"""Debug mode (`debug addr`): prompt without newline, `return <line>` then
statement, print, errors, watch/s/n/c, cont, leaving by closing, the helper
debug_agent, reg_debugcmd + dbgcmd, and the quirks."""
import os
import re

import pytest

import nodes
from transcript import (DBGCMD, PREFIX, call_nil, closed, connect, facts, need, pong, reply,
                        silent, until, wait_for)

AGENT_LUA = os.path.join(nodes.SERVICES, "agent.lua")
TIMEOUT = 10  # generous: a debug-mode line is polled every 0.1 s


def agent_line(text):
    """The line number of the first agent.lua line containing text."""
    with open(AGENT_LUA) as f:
        for i, line in enumerate(f, 1):
            if text in line:
                return i
    raise AssertionError("agent.lua has no line with %r" % text)


def prompt(hexaddr):
    return ":%08x>" % int(hexaddr, 16)


def enter(c, hexaddr):
    """`debug <bare hex>`: the reply is the prompt alone, no newline."""
    c.send("debug %s\n" % hexaddr)
    out = until(c, re.escape(prompt(hexaddr)), timeout=TIMEOUT)
    assert out == prompt(hexaddr)
    return out


def line(c, text, hexaddr="c", end=None):
    """Send a debug-mode line; return what came before the next prompt."""
    end = end or re.escape(prompt(hexaddr))
    c.send(text + "\n")
    out = until(c, end, timeout=TIMEOUT)
    m = re.search(end + r"\Z", out)
    assert m, out
    return out[:m.start()]


def leave(c):
    assert reply(c, "cont", timeout=TIMEOUT) == "<CMD OK>\n"


def debug_agents(c):
    return re.findall(r"(?m)^(:[0-9a-f]{8})\tsnlua debug_agent$", reply(c, "list"))


@pytest.fixture
def dbg(shared):
    """A connection in debug mode on :0000000c of the module's node; leaves
    debug mode afterwards."""
    c = connect(shared)
    enter(c, "c")
    yield c
    try:
        c.send("cont\n")
        until(c, r"<CMD OK>\n", timeout=TIMEOUT)
    finally:
        c.close()


# --- the REPL ----------------------------------------------------------------

def test_prompt_has_no_newline(shared):
    c = connect(shared)
    enter(c, "c")
    silent(c, 0.4)  # nothing follows the prompt
    leave(c)
    assert pong(reply(c, "ping :c"))
    c.close()


def test_expression(dbg):
    assert line(dbg, "1+1") == "2\t\n"


def test_several_values(dbg):
    assert line(dbg, '1, nil, "s"') == "1\tnil\ts\t\n"
    assert line(dbg, "return 1, 2") == "1\t2\t\n"


def test_print(dbg):
    assert line(dbg, 'print("aaa")') == "aaa\t\n\n"
    assert line(dbg, "print(1, nil, 3)") == "1\tnil\t3\t\n\n"


def test_statement(dbg):
    assert line(dbg, "do local z = 1 end") == "\n"


def test_empty_line_gives_prompt_only(dbg):
    assert line(dbg, "") == ""


def test_runtime_error(dbg):
    out = line(dbg, "nosuch()")
    assert re.fullmatch(r"\(debug\):3: %s\t\n" % call_nil("nosuch"), out), out
    assert line(dbg, 'error("x")') == "(debug):3: x\t\n"


def test_syntax_error(dbg):
    assert line(dbg, "local x = ") == "(debug):4: unexpected symbol near 'end'\t\n"


def test_failing_expression_runs_twice(dbg):
    """A line that compiles as an expression but fails at run time is run a
    second time as a statement: its side effect happens twice."""
    assert line(dbg, '(function() dbg_twice = (dbg_twice or 0) + 1 error("x") end)()') == \
        "(debug):3: x\t\n"
    assert line(dbg, "dbg_twice") == "2\t\n"
    assert line(dbg, "do dbg_once = (dbg_once or 0) + 1 end") == "\n"
    assert line(dbg, "dbg_once") == "1\t\n"


def test_locals_do_not_persist(dbg):
    assert line(dbg, "local y = 5") == "\n"
    assert line(dbg, "y") == "nil\t\n"


def test_globals_and_require(dbg):
    assert line(dbg, 'require("skynet").self()') == "12\t\n"
    assert line(dbg, "type(debug.getupvalue)") == "function\t\n"


def test_state_through_upvalues(dbg):
    src = ('do local f = require("skynet").dispatch("lua") '
           'for i = 1, 20 do local n, v = debug.getupvalue(f, i) '
           'if n == "CMD" then print(type(v.balance), v.balance()) end end end')
    assert line(dbg, src) == "function\t0\t\n\n"


def test_service_serves_between_lines(shared, dbg):
    other = connect(shared)
    assert reply(other, 'call :c "echo", "hi"', timeout=TIMEOUT) == "1\thi\nn\t1\n<CMD OK>\n"
    assert line(dbg, "1") == "1\t\n"
    other.close()


def test_pipelined_lines_answered_in_order(dbg):
    dbg.send("1\n2\n3\n")
    p = re.escape(prompt("c"))
    assert until(dbg, p, timeout=TIMEOUT) == "1\t\n" + prompt("c")
    assert until(dbg, p, timeout=TIMEOUT) == "2\t\n" + prompt("c")
    assert until(dbg, p, timeout=TIMEOUT) == "3\t\n" + prompt("c")


def test_crlf_line(dbg):
    assert line(dbg, "1+2\r") == "3\t\n"


# --- entering and leaving ----------------------------------------------------

def test_cont_returns_to_normal_mode(shared):
    c = connect(shared)
    enter(c, "c")
    leave(c)
    assert reply(c, "info :c") == "balance\t0\nid\t3\n<CMD OK>\n"
    c.close()


def test_debug_agent_during_session(shared):
    c = connect(shared)
    watcher = connect(shared)
    before = debug_agents(watcher)
    enter(c, "c")
    during = debug_agents(watcher)
    assert len(during) == len(before) + 1
    leave(c)
    assert wait_for(lambda: debug_agents(watcher) == before)
    c.close()
    watcher.close()


def test_close_leaves_debug_mode(shared):
    c = connect(shared)
    watcher = connect(shared)
    before = debug_agents(watcher)
    enter(c, "c")
    c.close()
    assert wait_for(lambda: debug_agents(watcher) == before)
    assert reply(watcher, 'call :c "balance"') == "1\t0\nn\t1\n<CMD OK>\n"
    again = connect(shared)
    enter(again, "c")
    assert line(again, "40+2") == "42\t\n"
    leave(again)
    again.close()
    watcher.close()


@pytest.mark.parametrize("form", ["c", "0000000c"])
def test_bare_hex_forms(shared, form):
    c = connect(shared)
    enter(c, form)
    leave(c)
    c.close()


def test_debug_named_service(shared):
    c = connect(shared)
    c.send("debug .named\n")
    assert until(c, re.escape(":0000000f>"), timeout=TIMEOUT) == ":0000000f>"
    leave(c)
    c.close()


def test_colon_form_quirk(fresh):
    """`debug :b` fails inside debug_agent and leaves the agent behind.
    Its line forwarder goes on reading the connection, racing the console's
    own loop for the next line (skynet's debug_console says as much: the
    loser's readline raises, and if that is the console's, it drops the
    connection), so the bare form is tried on a connection of its own."""
    c = connect(fresh)
    assert debug_agents(c) == []
    out = reply(c, "debug :b", timeout=TIMEOUT)
    assert re.fullmatch(PREFIX + r"call failed\n<CMD Error>\n", out), out
    c.close()
    c = connect(fresh)
    assert len(debug_agents(c)) == 1
    enter(c, "b")  # the bare form still works
    leave(c)
    assert len(debug_agents(c)) == 1  # the stray one stays
    c.close()


def test_second_debug_hangs(fresh):
    """A second `debug` of a service already being debugged gets no reply;
    it gives up only when its client sends another line (which it swallows)."""
    a = connect(fresh)
    b = connect(fresh)
    enter(a, "a")
    b.send("debug a\n")
    silent(b, 1.0)
    assert line(a, "1", "a") == "1\t\n"
    b.send("ping b\n")
    out = until(b, r"<CMD (?:OK|Error)>\n", timeout=TIMEOUT)
    assert re.fullmatch(PREFIX + r"Debugger attach failed\n<CMD Error>\n", out), out
    assert pong(reply(b, "ping b"))
    leave(a)
    enter(b, "a")
    leave(b)
    a.close()
    b.close()


# --- watch, s, n, c ----------------------------------------------------------

def test_watch_step_next_continue(shared, dbg):
    dispatch = agent_line("local f = assert(CMD[cmd], cmd)")
    deposit = agent_line("balance = balance + n")
    at = lambda n: r"[^\n]*agent\.lua\(%d\)>" % n
    assert line(dbg, 'watch("lua")') == "\n"
    other = connect(shared)
    other.send('call :c "deposit", 0\n')
    out = until(dbg, at(dispatch), timeout=TIMEOUT)
    assert re.fullmatch(at(dispatch), out), out
    assert line(dbg, "s", end=at(dispatch + 1)) == ""
    assert line(dbg, "s", end=at(deposit)) == ""
    # lines are evaluated in the paused frame: its locals and upvalues
    old = facts(shared)["release"] in ("1.4", "1.5-1.7")
    if old:   # before 1.8, a line naming the frame's local n does not compile
        assert line(dbg, "n + 1", end=at(deposit)) == "(debug):3: syntax error near '+'\t\n"
    else:
        assert line(dbg, "n + 1", end=at(deposit)) == "1\t\n"
    assert line(dbg, "balance", end=at(deposit)) == "0\t\n"
    if old:
        assert line(dbg, "c") == ""
        assert until(other, r"<CMD OK>\n", timeout=TIMEOUT) == "1\t0\nn\t1\n<CMD OK>\n"
        return
    assert line(dbg, "n", end=at(deposit + 1)) == ""
    assert line(dbg, 'print("x")', end=at(deposit + 1)) == "x\t\n\n"
    silent(other, 0.3)  # the call is held at the breakpoint
    assert line(dbg, "c") == ""
    assert until(other, r"<CMD OK>\n", timeout=TIMEOUT) == "1\t0\nn\t1\n<CMD OK>\n"
    assert line(dbg, "1+1") == "2\t\n"
    other.close()


def test_watch_unknown_protocol(dbg):
    assert line(dbg, 'watch("nosuch")') == "No nosuch\t\n"


def test_watch_condition_false(shared, dbg):
    assert line(dbg, 'watch("lua", function() return false end)') == "\n"
    other = connect(shared)
    assert reply(other, 'call :c "echo", 1', timeout=TIMEOUT) == "1\t1\nn\t1\n<CMD OK>\n"
    assert line(dbg, "1") == "1\t\n"
    other.close()


# --- reg_debugcmd and dbgcmd -------------------------------------------------

REG = ('do local d = require("skynet.debug") local skynet = require("skynet") '
       'd.reg_debugcmd("T_ECHO", function(...) skynet.ret(skynet.pack(table.concat({...}, "+"))) end) '
       'd.reg_debugcmd("T_LINES", function() skynet.ret(skynet.pack("one\\ntwo")) end) '
       'd.reg_debugcmd("T_BOOM", function() error("kaboom") end) '
       'd.reg_debugcmd("T_RUN", function(src) '
       'local ok, out = skynet.call(0xb, "debug", "RUN", src, "probe") '
       'skynet.ret(skynet.pack(tostring(ok) .. ":" .. out)) end) end')


@pytest.fixture
def registered(shared):
    c = connect(shared)
    enter(c, "c")
    assert line(c, REG) == "\n"
    leave(c)
    yield c
    c.close()


def test_dbgcmd_custom(registered):
    need(registered, "console", DBGCMD)
    assert reply(registered, "dbgcmd c T_ECHO x y  z") == "x+y+z\n<CMD OK>\n"
    assert reply(registered, "dbgcmd :0000000c T_ECHO") == "\n<CMD OK>\n"


def test_dbgcmd_reply_printed_raw(registered):
    need(registered, "console", DBGCMD)
    assert reply(registered, "dbgcmd c T_LINES") == "one\ntwo\n<CMD OK>\n"


def test_dbgcmd_custom_raises(registered):
    need(registered, "console", DBGCMD)
    out = reply(registered, "dbgcmd c T_BOOM")
    assert re.fullmatch(PREFIX + r"call failed\n<CMD Error>\n", out), out


def test_dbgcmd_handler_runs_code_elsewhere(registered):
    need(registered, "console", DBGCMD)
    out = reply(registered, "dbgcmd c T_RUN print(skynet==nil,type(_P.lua.CMD),type(_U))")
    assert out == "true:true\ttable\ttable\n<CMD OK>\n"
    out = reply(registered, 'dbgcmd c T_RUN error("bad")')
    assert out == "false:probe:1: bad\n<CMD OK>\n"


def test_dbgcmd_run_drops_connection(shared):
    need(shared, "console", DBGCMD)
    c = connect(shared)
    c.send("dbgcmd b RUN print(1)\n")
    assert closed(c) == ""
    d = connect(shared)
    assert pong(reply(d, "ping b"))
    d.close()


def test_debug_dead_address(shared):
    c = connect(shared)
    before = debug_agents(c)
    out = reply(c, "debug ff", timeout=TIMEOUT)
    assert re.fullmatch(PREFIX + r"Debugger attach failed\n<CMD Error>\n", out), out
    assert pong(reply(c, "ping b"))
    assert wait_for(lambda: debug_agents(c) == before)
    c.close()


@pytest.mark.parametrize("arg,msg", [
    (" .nosuch", "Not a valid name"),
    (" zz", "Need an address"),
    ("", r"attempt to index a nil value \(local 'address'\)"),
])
def test_debug_bad_address(con, arg, msg):
    out = reply(con, "debug" + arg)
    assert re.fullmatch(PREFIX + msg + r"\n<CMD Error>\n", out), out


def test_fork_from_debug_line_runs(dbg):
    """Work forked from a debug-mode line runs while the session goes on,
    calls and sleeps included."""
    assert line(dbg, 'do local s = require("skynet") s.fork(function() '
                     'dbg_forked = s.call(0xb, "lua", "echo", 42) s.sleep(5) '
                     'dbg_slept = true end) end') == "\n"
    assert wait_for(lambda: line(dbg, "tostring(dbg_forked), tostring(dbg_slept)")
                    == "42\ttrue\t\n", timeout=5, step=0.1)


def test_long_debug_line(dbg):
    s = "x" * 4096
    assert line(dbg, '#"%s"' % s) == "4096\t\n"
