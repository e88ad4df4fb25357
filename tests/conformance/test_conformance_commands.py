"""Normal-mode commands: reply shapes and contents, as real skynet sends them."""
import re

import pytest

import transcript
from cli_helpers import LIST_LINE, launcher_list
from transcript import DBGCMD, INVALID, PREFIX, call_nil, connect, facts, need, pong, reply

ADDR = r":[0-9a-f]{8}"
NUM = r"[0-9][0-9.e+-]*"
INVALID_FF = PREFIX + r"call to invalid address :ff\n<CMD Error>\n"
CALL_FAILED = PREFIX + r"call failed\n<CMD Error>\n"


def base_list(port, agents=3, services=transcript.SERVICES):
    names = ["cdummy", "datacenterd", "service_mgr", "main",
             "debug_console 127.0.0.1 %d" % port]
    names += ["agent %d" % i for i in range(1, agents + 1)]
    names += list(services)
    return "".join(":%08x\tsnlua %s\n" % (h, n)
                   for h, n in zip([4, 6, 7, 8] + list(range(9, 9 + len(names))), names))


def lines_of(out):
    assert out.endswith("\n<CMD OK>\n"), out
    return out[:-len("\n<CMD OK>\n")].split("\n")


# --- list, stat, mem, gc ---------------------------------------------------

def test_list_exact(fresh):
    c = connect(fresh)
    assert reply(c, "list") == base_list(fresh.port) + "<CMD OK>\n"
    c.close()


def test_list_follows_config(backend):
    n = transcript.start(backend, agents=1, services=())
    try:
        c = connect(n)
        assert reply(c, "list") == base_list(n.port, 1, ()) + "<CMD OK>\n"
        c.close()
    finally:
        n.stop()


def test_launcher_list_by_call_is_list_on_one_line(fresh):
    """skyctl reads the services as `call .launcher "LIST"` (LIST_LINE): the
    table `list` prints a line at a time (a socket write each), as one line
    of address:command pairs in the same order, then the packed count --
    what the fake consoles of the tests answer (launcher_list)"""
    c = connect(fresh)
    listed = reply(c, "list")[:-len("<CMD OK>\n")].encode()
    assert reply(c, LIST_LINE.decode().strip()) == launcher_list(listed).decode() + "<CMD OK>\n"
    c.close()


def test_stat_shape(con):
    listed = transcript.addresses(con)
    out = reply(con, "stat")
    rows = lines_of(out)
    assert [r.split("\t")[0] for r in rows] == sorted(listed.values())
    for r in rows:
        assert re.fullmatch(ADDR + r"\tcpu:%s\tmessage:\d+\tmqlen:\d+\ttask:\d+" % NUM, r), r


def test_stat_counts_messages(con):
    before = dict(r.split("\t", 1) for r in lines_of(reply(con, "stat")))
    for _ in range(3):
        reply(con, "ping :c")
    after = dict(r.split("\t", 1) for r in lines_of(reply(con, "stat")))
    msg = lambda s: int(re.search(r"message:(\d+)", s).group(1))
    assert msg(after[":0000000c"]) - msg(before[":0000000c"]) == 4  # 3 pings + 1 stat
    # the console is running this very command: one task
    assert after[":00000009"].endswith("\ttask:1")


def test_stat_with_timeout_arg(con):
    rows = lines_of(reply(con, "stat 100"))
    assert len(rows) == len(transcript.addresses(con))


@pytest.mark.parametrize("line", ["mem", "mem 100", "gc"])
def test_mem_shape(con, line):
    listed = transcript.addresses(con)
    rows = lines_of(reply(con, line))
    assert [r.split("\t")[0] for r in rows] == sorted(listed.values())
    for r in rows:
        addr, rest = r.split("\t", 1)
        launch = {v: k for k, v in listed.items()}[addr]
        assert re.fullmatch(r"\d+\.\d\d Kb \(%s\)" % re.escape(launch), rest), r


def test_mem_agent_line(con):
    out = reply(con, "mem")
    assert re.search(r"(?m)^:0000000a\t\d+\.\d\d Kb \(snlua agent 1\)$", out), out


# --- info, ping ------------------------------------------------------------

def test_info_with_info_func(con):
    assert reply(con, "info :b") == "balance\t0\nid\t2\n<CMD OK>\n"


def test_info_passes_args(con):
    out = reply(con, "info .named x y")
    assert re.fullmatch(r"args\tx,y\nhits\t\d+\nname\tnamed\n<CMD OK>\n", out), out


def test_info_without_info_func(con):
    assert reply(con, "info .loopy") == "<CMD OK>\n"


def test_info_dead_address(con):
    assert re.fullmatch(INVALID_FF, reply(con, "info :ff"))


def test_ping(con):
    assert re.fullmatch(r"\d+\n<CMD OK>\n", reply(con, "ping :a"))


@pytest.mark.parametrize("form", [":0000000a", ":a", "a", "0000000a", ".named"])
def test_address_forms(con, form):
    assert pong(reply(con, "ping " + form))


def test_address_form_reaches_same_service(con):
    assert reply(con, "info a") == reply(con, "info :0000000a") == \
        "balance\t0\nid\t1\n<CMD OK>\n"
    out = reply(con, 'call .named "whoami"')
    assert re.fullmatch(r"1\t15\n2\t\d+\nn\t2\n<CMD OK>\n", out), out


def test_ping_dead_address(con):
    assert re.fullmatch(INVALID_FF, reply(con, "ping :ff"))


@pytest.mark.parametrize("line,msg", [
    ("ping .nosuch", "Not a valid name"),
    ("ping zz", "Need an address"),
    ("kill", r"attempt to index a nil value \(local 'address'\)"),
    ("exit", r"attempt to index a nil value \(local 'address'\)"),
])
def test_bad_address(con, line, msg):
    out = reply(con, line)
    assert re.fullmatch(PREFIX + msg + r"\n<CMD Error>\n", out), out


# --- call ------------------------------------------------------------------

def test_call_deposit(fresh):
    c = connect(fresh)
    assert reply(c, 'call :a "deposit", 5') == "1\t5\nn\t1\n<CMD OK>\n"
    assert reply(c, 'call :a "deposit", 5') == "1\t10\nn\t1\n<CMD OK>\n"
    assert reply(c, "info :a") == "balance\t10\nid\t1\n<CMD OK>\n"
    c.close()


@pytest.mark.parametrize("args,out", [
    ('"echo"', "n\t0\n"),
    ('"echo", nil, 2', "2\t2\nn\t2\n"),
    ('"echo", 1.5, true, "s p"', "1\t1.5\n2\ttrue\n3\ts p\nn\t3\n"),
    ('"echo", 10, -3, 0.25, 1e300', "1\t10\n2\t-3\n3\t0.25\n4\t1e+300\nn\t4\n"),
    ('"echo", "a\\tb"', "1\ta\tb\nn\t1\n"),
    ('"echo", {x=1, y="z"}', "1\tx:1\ty:z\nn\t1\n"),
])
def test_call_returns(con, args, out):
    assert reply(con, "call :b " + args) == out + "<CMD OK>\n"


@pytest.mark.parametrize("args,out55,out54", [
    ("2^53", "9007199254740992.0", "9.007199254741e+15"),
    ("1/3", "0.33333333333333331", "0.33333333333333"),
    ("3.0", "3.0", "3.0"),
])
def test_call_float_format(con, args, out55, out54):
    """Floats print as the node's Lua prints them: 5.5 (upstream skynet's
    bundled Lua since 1.9) the shortest of %.7g / %.17g that reads back
    exactly, 5.4 (skynet 1.4 to 1.8) %.14g."""
    out = out55 if facts(con.node)["lua"] == "5.5" else out54
    assert reply(con, 'call :b "echo", ' + args) == "1\t%s\nn\t1\n<CMD OK>\n" % out


def test_call_nested_table(con):
    out = reply(con, 'call :b "echo", {x=1, y={2}}')
    assert re.fullmatch(r"1\tx:1\ty:table: 0x[0-9a-f]+\nn\t1\n<CMD OK>\n", out), out


def test_call_dead_address(con):
    assert re.fullmatch(INVALID_FF, reply(con, 'call :ff "x"'))


def test_call_service_raises(con):
    assert re.fullmatch(CALL_FAILED, reply(con, 'call :b "nope"'))
    assert re.fullmatch(CALL_FAILED, reply(con, 'call .named "fail", "q"'))


def test_call_needs_arguments(con):
    out = reply(con, "call :b")
    assert re.fullmatch(PREFIX + r"need arguments\n<CMD Error>\n", out), out


def test_call_invalid_arguments(con):
    out = reply(con, "call :b ((")
    assert re.fullmatch(PREFIX + r"Invalid arguments\n<CMD Error>\n", out), out


def test_call_arguments_see_no_globals(con):
    out = reply(con, "call :b nosuch()")
    assert re.fullmatch(PREFIX + r'\[string "debug console"\]:1: ' + call_nil("nosuch") +
                        r"\n<CMD Error>\n", out), out
    out = reply(con, 'call :b "echo", print')
    assert out == "n\t1\n<CMD OK>\n", out  # print is nil there


# --- dbgcmd ----------------------------------------------------------------

def test_dbgcmd_ping(con):
    need(con, "console", DBGCMD)
    assert reply(con, "dbgcmd :b PING") == "<CMD OK>\n"


def test_dbgcmd_into_the_consoles_own_service(con):
    """The console's service answers a debug command the console sends it
    (a call to itself, answered by another of its coroutines): skyctl's
    getenv and setenv on skynet 1.5 to 1.7 run there (cli/envagent.c)."""
    need(con, "console", DBGCMD)
    own = [l.split("\t")[0] for l in reply(con, "list").splitlines() if "debug_console" in l]
    assert reply(con, "dbgcmd %s PING" % own[0]) == "<CMD OK>\n"
    assert re.fullmatch(r"cpu\t%s\nmessage\t\d+\nmqlen\t0\ntask\t[1-9]\d*\n<CMD OK>\n" % NUM,
                        reply(con, "dbgcmd %s STAT" % own[0]))


def test_dbgcmd_info(con):
    need(con, "console", DBGCMD)
    assert reply(con, "dbgcmd :b INFO") == "balance\t0\nid\t2\n<CMD OK>\n"


def test_dbgcmd_stat(con):
    need(con, "console", DBGCMD)
    out = reply(con, "dbgcmd :b STAT")
    assert re.fullmatch(r"cpu\t%s\nmessage\t\d+\nmqlen\t0\ntask\t0\n<CMD OK>\n" % NUM, out), out


def test_dbgcmd_unknown(con):
    need(con, "console", DBGCMD)
    assert re.fullmatch(CALL_FAILED, reply(con, "dbgcmd :b NOSUCH"))


@pytest.mark.parametrize("line", ["dbgcmd :b MEM", "dbgcmd :b SUPPORT lua"])
def test_dbgcmd_scalar_reply_drops_connection(shared, line):
    """A number or boolean reply can't be printed: the console drops the
    connection without a terminator (the same quirk as `dbgcmd addr RUN`)."""
    need(shared, "console", DBGCMD)
    c = connect(shared)
    c.send(line + "\n")
    assert transcript.closed(c) == ""
    d = connect(shared)
    assert pong(reply(d, "ping :b"))
    d.close()


# --- task, uniqtask, killtask ---------------------------------------------

def test_task_empty(con):
    assert reply(con, "task :b") == "<CMD OK>\n"
    assert reply(con, "uniqtask :b") == "<CMD OK>\n"


def test_task_dead_address(con):
    assert re.fullmatch(INVALID_FF, reply(con, "task :ff"))


TASK_HEAD = r"thread: 0x[0-9a-f]+ session: (\d+)\tstack traceback:"


def parse_tasks(out):
    """task output -> [(head line, [traceback lines])]."""
    tasks = []
    for line in lines_of(out):
        if line.startswith("\t"):
            tasks[-1][1].append(line)
        else:
            tasks.append((line, []))
    return tasks


def test_task_lists_suspended_sessions(fresh):
    c = connect(fresh)
    assert reply(c, 'call .sleeper "park", 2') == "1\t2\nn\t1\n<CMD OK>\n"
    assert re.search(r"(?m)^:0000000e\tcpu:\S+\tmessage:\d+\tmqlen:0\ttask:2$",
                     reply(c, "stat")), "stat counts the two sleeping tasks"
    tasks = parse_tasks(reply(c, "task .sleeper"))
    assert len(tasks) == 2
    heads = [h for h, _ in tasks]
    assert heads == sorted(heads)
    for head, tb in tasks:
        assert re.fullmatch(TASK_HEAD, head), head
        assert tb and all(l.startswith("\t") for l in tb)
        assert any(re.search(r"sleeper\.lua:\d+:", l) for l in tb), tb
    c.close()


def test_task_shows_waiting_caller_until_wakeup(fresh):
    a = connect(fresh)
    b = connect(fresh)
    a.send('call .sleeper "hold"\n')
    assert transcript.wait_for(lambda: reply(b, "task .sleeper") != "<CMD OK>\n")
    tasks = parse_tasks(reply(b, "task .sleeper"))
    assert len(tasks) == 1 and re.fullmatch(TASK_HEAD, tasks[0][0]), tasks
    assert any(re.search(r"sleeper\.lua:\d+:", l) for l in tasks[0][1]), tasks
    assert reply(b, 'call .sleeper "release"') == "1\t1\nn\t1\n<CMD OK>\n"
    assert transcript.until(a, r"<CMD OK>\n") == "1\treleased\nn\t1\n<CMD OK>\n"
    assert reply(b, "task .sleeper") == "<CMD OK>\n"
    a.close()
    b.close()


def test_uniqtask_groups_by_stack(fresh):
    c = connect(fresh)
    reply(c, 'call .sleeper "park", 3')
    out = reply(c, "uniqtask .sleeper")
    rows = lines_of(out)
    m = re.fullmatch(r"3\tsessions:\[(\d+),(\d+),(\d+)\]", rows[0])
    assert m, out
    assert rows[1] == "\tstack traceback:"
    assert all(l.startswith("\t") for l in rows[1:])
    assert any(re.search(r"sleeper\.lua:\d+:", l) for l in rows[2:]), out
    c.close()


def test_killtask(fresh):
    c = connect(fresh)
    reply(c, 'call .sleeper "park", 2')
    tasks = parse_tasks(reply(c, "task .sleeper"))
    thread = re.match(r"thread: (0x[0-9a-f]+)", tasks[0][0]).group(1)
    assert reply(c, "killtask .sleeper " + thread) == "<CMD OK>\n"
    left = parse_tasks(reply(c, "task .sleeper"))
    assert [h for h, _ in left] == [tasks[1][0]]
    assert reply(c, "killtask .sleeper 0xdead") == "Not found\n<CMD OK>\n"
    c.close()


# --- kill, exit, start, log, snax -----------------------------------------

def test_kill_live_bare_hex(fresh):
    c = connect(fresh)
    assert reply(c, "kill c") == ":0000000c\tsnlua agent 3\n<CMD OK>\n"
    assert ":0000000c" not in reply(c, "list")
    assert re.fullmatch(INVALID_FF.replace(":ff", ":0000000c"), reply(c, "ping :0000000c"))
    c.close()


def test_kill_by_name(fresh):
    c = connect(fresh)
    assert reply(c, "kill .named") == ":0000000f\tsnlua named\n<CMD OK>\n"
    assert "named" not in reply(c, "list")
    c.close()


def test_kill_colon_form_quirk(fresh):
    """The colon form is passed through as a string: the service dies, but the
    reply names it as the string and `nil`."""
    c = connect(fresh)
    assert reply(c, "kill :c") == ":c\tnil\n<CMD OK>\n"
    if facts(fresh)["release"] == "1.4":   # skynet 1.4 kills nothing
        assert ":0000000c" in reply(c, "list")
    else:
        assert transcript.wait_for(lambda: ":0000000c" not in reply(c, "list"))
    c.close()


def test_kill_dead_address(shared):
    c = connect(shared)
    assert reply(c, "kill :ff") == ":ff\tnil\n<CMD OK>\n"
    c.close()


def test_exit_dead_address(shared):
    c = connect(shared)
    assert reply(c, "exit :ff") == "<CMD OK>\n"
    c.close()


def test_exit_live(fresh):
    c = connect(fresh)
    assert reply(c, "exit :b") == "<CMD OK>\n"
    assert transcript.wait_for(lambda: ":0000000b" not in reply(c, "list"))
    assert pong(reply(c, "ping :a"))
    c.close()


def test_start(fresh):
    c = connect(fresh)
    out = reply(c, "start agent 9")
    m = re.fullmatch(r"(:[0-9a-f]{8})\tagent\n<CMD OK>\n", out)
    assert m, out
    assert "%s\tsnlua agent 9\n" % m.group(1) in reply(c, "list")
    assert reply(c, "info " + m.group(1)) == "balance\t0\nid\t9\n<CMD OK>\n"
    out = reply(c, "start agent 7 x y")
    m = re.fullmatch(r"(:[0-9a-f]{8})\tagent\n<CMD OK>\n", out)
    assert m, out
    assert "%s\tsnlua agent 7 x y\n" % m.group(1) in reply(c, "list")
    c.close()


def test_start_missing_service(fresh):
    c = connect(fresh)
    assert reply(c, "start nosuch") == "Failed\n<CMD OK>\n"
    assert "nosuch" not in reply(c, "list")
    c.close()


def test_log_starts_service(fresh):
    c = connect(fresh)
    out = reply(c, "log agent 7")
    m = re.fullmatch(r"(:[0-9a-f]{8})\tagent\n<CMD OK>\n", out)
    assert m, out
    assert "%s\tsnlua agent 7\n" % m.group(1) in reply(c, "list")
    c.close()


def test_snax_missing(shared):
    c = connect(shared)
    assert reply(c, "snax nosuch") == "Failed\n<CMD OK>\n"
    c.close()


# --- env, service, netstat, memory, misc ----------------------------------

@pytest.mark.parametrize("line", ["dbgcmd :b PING", "dbgcmd"])
def test_console_before_1_5_lacks_dbgcmd(con, line):
    need(con, "console", "1.4")
    assert reply(con, line) == INVALID


@pytest.mark.parametrize("line", ["getenv thread", "setenv k v", "getenv"])
def test_console_before_1_8_lacks_getenv_setenv(con, line):
    need(con, "console", ("1.4", "1.5-1.7"))
    assert reply(con, line) == INVALID


def test_getenv(con):
    need(con, "console", "1.8+")
    assert reply(con, "getenv agents") == "agents\t3\n<CMD OK>\n"
    assert reply(con, "getenv services") == "services\tloopy,sleeper,named\n<CMD OK>\n"
    assert reply(con, "getenv nosuch") == "nosuch\tnil\n<CMD OK>\n"


def test_setenv(con):
    need(con, "console", "1.8+")
    key = "k%d" % con.sock.getsockname()[1]
    assert reply(con, "setenv %s bar" % key) == "<CMD OK>\n"
    assert reply(con, "getenv " + key) == "%s\tbar\n<CMD OK>\n" % key


def test_setenv_existing_key(con):
    need(con, "console", "1.8+")
    out = reply(con, "setenv agents 5")
    assert re.fullmatch(PREFIX + r"Can't setenv exist key : agents\n<CMD Error>\n", out), out
    assert reply(con, "getenv agents") == "agents\t3\n<CMD OK>\n"


def test_service_empty(con):
    assert reply(con, "service") == "<CMD OK>\n"


def test_netstat(con):
    rows = lines_of(reply(con, "netstat"))
    assert [r.split("\t")[0] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
    listen = [r for r in rows if "\ttype:LISTEN" in r]
    assert len(listen) == 1
    assert re.fullmatch(r"\d+\taccept:\d+\taddress::00000009\tid:\d+\trtime:[0-9.:]+s"
                        r"\tsock:127\.0\.0\.1:%d\ttype:LISTEN" % con.sock.getpeername()[1],
                        listen[0]), listen[0]
    me = "peer:127.0.0.1:%d\t" % con.sock.getsockname()[1]
    mine = [r for r in rows if me in r]
    assert len(mine) == 1, rows
    assert re.fullmatch(r"\d+\taddress::00000009\tid:\d+\t" + re.escape(me) +
                        r"read:\d+(?:\.\d+)?[KM]?\treading:true\trtime:[0-9.:]+s\ttype:TCP"
                        r"(?:\twrite:\d+(?:\.\d+)?[KM]?)?\twriting:(?:true|false)"
                        r"(?:\twtime:[0-9.:]+s)?", mine[0]), mine[0]


def test_cmem(con):
    rows = lines_of(reply(con, "cmem"))
    keys = [r.split("\t")[0] for r in rows]
    assert keys == sorted(keys)
    assert "block" in keys and "total" in keys
    for r in rows:
        assert re.fullmatch(r"(?::[0-9a-f]{8}|block|total)\t\d+", r), r


def test_clearcache(con):
    assert reply(con, "clearcache") == "<CMD OK>\n"


@pytest.mark.parametrize("line", ["logon :b", "logoff :b", "logon .named", "logoff b"])
def test_logon_logoff(con, line):
    assert reply(con, line) == "<CMD OK>\n"


@pytest.mark.parametrize("line", ["trace :b", "trace :b on", "trace :b off",
                                  "trace :b lua on", "trace :b lua off"])
def test_trace(con, line):
    assert reply(con, line) == "<CMD OK>\n"


def test_trace_dead_address(con):
    assert re.fullmatch(INVALID_FF, reply(con, "trace :ff on"))


# A node built without jemalloc (the default on Linux is with; our reference
# node and the sandbox are without): the memory profiler is never active.
@pytest.mark.parametrize("line", ["profactive", "profactive on", "profactive off"])
def test_profactive(con, line):
    assert reply(con, line) == "heap profilling is deactive\n<CMD OK>\n"


def test_dumpheap(con):
    assert reply(con, "dumpheap") == "<CMD OK>\n"


def test_jmem(con):
    need(con, "jemalloc", False)
    assert reply(con, "jmem") == "".join(
        "stats.%s\t          0      0.00 Mb\n" % k
        for k in ("active", "allocated", "mapped", "resident", "retained")) + "<CMD OK>\n"


JEMALLOC_STATS = ("active", "allocated", "mapped", "resident", "retained")


def test_jmem_jemalloc(con):
    """skynet's default build: jemalloc's figures, bytes then megabytes"""
    need(con, "jemalloc", True)
    rows = lines_of(reply(con, "jmem"))
    assert [r.split("\t")[0] for r in rows] == ["stats." + k for k in JEMALLOC_STATS]
    for r in rows:
        m = re.fullmatch(r"stats\.\w+\t +(\d+) +(\d+\.\d\d) Mb", r)
        assert m and int(m.group(1)) > 0, r
        assert abs(int(m.group(1)) / 1048576 - float(m.group(2))) < 0.01, r


def test_cmem_jemalloc(con):
    """with jemalloc every service's C memory is counted, and the total
    is about their sum (other threads allocate between the two readings)"""
    need(con, "jemalloc", True)
    rows = dict(r.split("\t") for r in lines_of(reply(con, "cmem")))
    services = {k: int(v) for k, v in rows.items() if k.startswith(":")}
    assert all(":%08x" % a in services for a in (0xa, 0xb, 0xc)), rows
    assert services[":00000001"] > 0, rows   # the logger
    total = sum(services.values())
    assert 0.9 * total <= int(rows["total"]) <= 1.1 * total and int(rows["block"]) > 0, rows


def test_mem_tracks_lua_memory(fresh):
    c = connect(fresh)

    def kb():
        m = re.search(r"(?m)^:0000000b\t(\d+\.\d\d) Kb \(snlua agent 2\)$", reply(c, "mem"))
        assert m
        return float(m.group(1))

    base = kb()
    # a table, not a long string: skynet's Lua 5.5 keeps big strings out of
    # the collector's count
    path = transcript.script("local t = {} for i = 1, 100000 do t[i] = i end _G.mem_probe = t")
    assert reply(c, "inject :b " + path) == "\n<CMD OK>\n"
    grown = kb()
    assert grown > base + 500, (base, grown)
    path = transcript.script("_G.mem_probe = nil")
    assert reply(c, "inject :b " + path) == "\n<CMD OK>\n"
    assert kb() < grown - 500
    c.close()


def test_getenv_config_keys(con):
    need(con, "console", "1.8+")
    assert reply(con, "getenv thread") == "thread\t2\n<CMD OK>\n"
    assert reply(con, "getenv harbor") == "harbor\t0\n<CMD OK>\n"
    assert reply(con, "getenv start") == "start\tmain\n<CMD OK>\n"
    port = con.sock.getpeername()[1]
    assert reply(con, "getenv console_port") == "console_port\t%d\n<CMD OK>\n" % port


def test_getenv_custom_key(backend):
    n = transcript.start(backend, env={"my_key": "some value", "my_num": 42})
    try:
        need(n, "console", "1.8+")
        c = connect(n)
        assert reply(c, "getenv my_key") == "my_key\tsome value\n<CMD OK>\n"
        assert reply(c, "getenv my_num") == "my_num\t42\n<CMD OK>\n"
        c.close()
    finally:
        n.stop()


def test_getenv_needs_name(con):
    need(con, "console", "1.8+")
    out = reply(con, "getenv")
    assert re.fullmatch(PREFIX + r"bad argument #2 to 'command' \(string expected, got nil\)\n"
                        r"<CMD Error>\n", out), out
