"""Framing: banner, terminators, empty lines, unknown commands, HTTP forms,
long lines, several connections, one connection strictly sequential."""
import threading
import time

from transcript import INVALID, PREFIX, closed, connect, facts, need, pong, reply, silent, until
import re

HELP = """\
call\tcall address ...
clearcache\tclear lua code cache
cmem\tShow C memory info
dbgcmd\trun address debug command
debug\tdebug address : debug a lua service
dumpheap\tdumpheap : dump heap profilling
exit\texit address : kill a lua service
gc\tgc : force every lua service do garbage collect
getenv\tgetenv name : skynet.getenv(name)
help\tThis help message
info\tinfo address : get service infomation
inject\tinject address luascript.lua
jmem\tShow jemalloc mem stats
kill\tkill address : kill service
killtask\tkilltask address threadname : threadname listed by task
list\tList all the service
log\tlaunch a new lua service with log
logoff\tlogoff address
logon\tlogon address
mem\tmem : show memory status
netstat\tnetstat : show netstat
ping\tping address
profactive\tprofactive [on|off] : active/deactive jemalloc heap profilling
service\tList unique service
setenv\tsetenv name value: skynet.setenv(name,value)
signal\tsignal address sig
snax\tlanuch a new snax service
start\tlanuch a new lua service
stat\tDump all stats
task\ttask address : show service task detail
trace\ttrace address [proto] [on|off]
uniqtask\ttask address : show service unique task detail
<CMD OK>
"""


def test_banner(shared):
    c = connect(shared)  # asserts the exact banner line
    assert c.buf == b""
    c.close()


def test_empty_line_no_reply(con):
    con.send("\n\n")
    silent(con, 0.3)
    assert pong(reply(con, "ping .named"))


def test_whitespace_split(con):
    assert pong(reply(con, "   ping    .named   "))


def test_help_exact(con):
    help = HELP
    console = facts(con.node)["console"]
    if console != "1.8+":   # getenv, setenv came in 1.8; dbgcmd in 1.5
        gone = ("getenv\t", "setenv\t") + (("dbgcmd\t",) if console == "1.4" else ())
        help = "".join(l for l in HELP.splitlines(True) if not l.startswith(gone))
    assert reply(con, "help") == help


def test_unknown_command(con):
    assert reply(con, "bogus 1 2") == \
        "Invalid command, type help for command list\n\n<CMD Error>\n"


def test_error_has_source_prefix(con):
    out = reply(con, "ping .nosuch")
    assert re.fullmatch(PREFIX + r"Not a valid name\n<CMD Error>\n", out), out
    out = reply(con, "ping zz")
    assert re.fullmatch(PREFIX + r"Need an address\n<CMD Error>\n", out), out


def test_missing_argument_is_lua_error(con):
    out = reply(con, "ping")
    assert re.fullmatch(PREFIX + r"attempt to index a nil value \(local 'address'\)\n"
                        r"<CMD Error>\n", out), out


def test_session_survives_errors(con):
    assert reply(con, "bogus").endswith("<CMD Error>\n")
    assert reply(con, 'call :ff "x"').endswith("<CMD Error>\n")
    assert pong(reply(con, "ping :a"))


def test_http_get(shared):
    c = connect(shared)
    c.send("GET /ping/.named HTTP/1.0\r\nHost: x\r\n\r\n")
    assert pong(closed(c))


def test_http_get_list(shared):
    c = connect(shared)
    c.send("GET /list HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: t\r\n\r\n")
    out = closed(c)
    assert out.endswith("<CMD OK>\n")
    assert ":0000000a\tsnlua agent 1\n" in out


def test_http_get_unknown(shared):
    c = connect(shared)
    c.send("GET /bogus HTTP/1.0\r\n\r\n")
    assert closed(c) == "Invalid command, type help for command list\n\n<CMD Error>\n"


def test_http_post_body(shared):
    need(shared, "console", "1.8+")
    c = connect(shared)
    body = "ping .named"
    c.send("POST / HTTP/1.0\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    assert pong(closed(c))


def test_http_post_is_a_command_before_1_8(shared):
    need(shared, "console", ("1.4", "1.5-1.7"))
    c = connect(shared)
    assert reply(c, "POST / HTTP/1.0") == INVALID
    assert pong(reply(c, "ping .named"))
    c.close()


def test_http_only_after_commands(shared):
    c = connect(shared)
    assert pong(reply(c, "ping :a"))
    c.send("GET /ping/b HTTP/1.0\r\n\r\n")
    assert pong(closed(c))


def test_long_line(con):
    arg = "x" * (1 << 20)
    out = reply(con, 'call :a "echo", "%s"' % arg, timeout=20)
    assert out == "1\t%s\nn\t1\n<CMD OK>\n" % arg


def test_a_line_past_128_kb_pauses_the_socket_and_says_so(shared):
    """skynet's socket.lua pauses a connection holding more than 128 KB
    once the line it waits for is in, logging it, and logs the resume when
    the console next waits: what a long line leaves in the node's log (and
    why skyctl keeps its lines under 128 KB)"""
    mark = shared.log_mark()
    c = connect(shared)
    try:
        for kb in (100, 200):
            arg = "x" * (kb * 1024)
            out = reply(c, 'call :a "echo", "%s"' % arg, timeout=20)
            assert out == "1\t%s\nn\t1\n<CMD OK>\n" % arg
        m = shared.wait_log(r"\] Pause socket \((\d+)\) size : (\d+)$", after=mark)
        assert 200 * 1024 < int(m.group(2)) < 201 * 1024, m.group(0)
        shared.wait_log(r"\] Resume socket \(%s\)$" % m.group(1), after=mark)
    finally:
        c.close()
    pauses = [l for l in shared.log_lines[mark:] if "Pause socket" in l]
    assert len(pauses) == 1, pauses   # not for the 100 KB line


def test_pipelined_commands_answer_in_order(con):
    con.send("ping :a\nbogus\ninfo .named q\nping :b\n")
    assert pong(until(con, r"<CMD OK>\n"))
    assert until(con, r"<CMD Error>\n") == \
        "Invalid command, type help for command list\n\n<CMD Error>\n"
    out = until(con, r"<CMD OK>\n")
    assert out.startswith("args\tq\nhits\t") and out.endswith("name\tnamed\n<CMD OK>\n"), out
    assert pong(until(con, r"<CMD OK>\n"))


def test_several_connections(shared):
    cons = [connect(shared) for _ in range(5)]
    try:
        for i, c in enumerate(cons):
            c.send('call :a "echo", %d\n' % i)
        for i, c in enumerate(cons):
            assert until(c, r"<CMD OK>\n") == "1\t%d\nn\t1\n<CMD OK>\n" % i
    finally:
        for c in cons:
            c.close()


def test_blocked_connection_blocks_only_itself(shared):
    """A command waiting on a busy service holds back later commands on the
    same connection, but not on another."""
    a = connect(shared)
    b = connect(shared)
    try:
        a.send('call .sleeper "nap", 150\nping .named\n')
        silent(a, 0.5)  # nap not over: the ping behind it waits too
        assert pong(reply(b, "ping .named"))
        assert until(a, r"<CMD OK>\n", timeout=5) == "1\trested\nn\t1\n<CMD OK>\n"
        assert pong(until(a, r"<CMD OK>\n"))
    finally:
        a.close()
        b.close()


def test_threads_many_connections_concurrently(shared):
    errors = []

    def worker(i):
        try:
            c = connect(shared)
            for j in range(20):
                out = reply(c, 'call :b "echo", %d' % (i * 100 + j))
                if out != "1\t%d\nn\t1\n<CMD OK>\n" % (i * 100 + j):
                    errors.append(out)
            c.close()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(repr(e))

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert not errors


def test_close_mid_command_leaves_node_serving(shared):
    c = connect(shared)
    c.send('call .sleeper "nap", 50\n')
    time.sleep(0.1)
    c.close()
    d = connect(shared)
    assert pong(reply(d, "ping .sleeper"))
    d.close()


def test_blank_line_of_spaces_is_a_command(con):
    """Only a truly empty line is skipped; spaces make an empty command."""
    assert reply(con, "   ") == \
        "Invalid command, type help for command list\n\n<CMD Error>\n"


def test_crlf_line(con):
    assert pong(reply(con, "ping :a\r"))


def test_keys_sorted_as_strings(con):
    out = reply(con, 'call :b "echo", ' + ",".join(str(i) for i in range(1, 12)))
    keys = [1, 10, 11, 2, 3, 4, 5, 6, 7, 8, 9]
    assert out == "".join("%d\t%d\n" % (k, k) for k in keys) + "n\t11\n<CMD OK>\n"


def test_http_get_path_words(shared):
    c = connect(shared)
    c.send("GET /info/.named/x/y HTTP/1.0\r\n\r\n")
    out = closed(c)
    assert re.fullmatch(r"args\tx,y\nhits\t\d+\nname\tnamed\n<CMD OK>\n", out), out


def test_http_get_root(shared):
    c = connect(shared)
    c.send("GET / HTTP/1.0\r\n\r\n")
    assert closed(c) == "Invalid command, type help for command list\n\n<CMD Error>\n"


def test_http_is_case_sensitive(con):
    assert reply(con, "get /list") == \
        "Invalid command, type help for command list\n\n<CMD Error>\n"
