"""Every way a node can fail skyctl, with its one-line message and exit code
(0 ok, 1 node-side failure, 3 cannot connect, 4 timeout, 5 protocol)."""
import os

import pytest

import nodes
from cli_helpers import FakeServer, launcher_list, read_line, reset, skyctl, tsv, until_closed, wait_sent

pytestmark = pytest.mark.skipif(not os.path.exists(nodes.SKYCTL), reason="no skyctl binary")

BANNER = b"Welcome to skynet console\n"


def one_line(stderr):
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_connection_refused():
    port = nodes.free_port()
    r = skyctl("-H", "127.0.0.1:%d" % port, "list")
    assert r.returncode == 3 and r.stdout == ""
    assert one_line(r.stderr) == "skyctl: 127.0.0.1:%d: list: Connection refused" % port


def test_host_not_found():
    r = skyctl("-H", "nosuchhost.invalid:1", "stat")
    assert r.returncode == 3
    assert one_line(r.stderr).startswith(
        "skyctl: nosuchhost.invalid:1: stat: cannot resolve host 'nosuchhost.invalid'")


def test_skyctl_host_environment_and_default(node):
    r = skyctl("list", env={"SKYCTL_HOST": node.address})
    assert r.returncode == 0 and ":00000008\tsnlua main" in r.stdout
    port = nodes.free_port()
    r = skyctl("list", env={"SKYCTL_HOST": "127.0.0.1:%d" % port})
    assert r.returncode == 3 and str(port) in r.stderr


def test_silent_server_times_out():
    with FakeServer(until_closed) as srv:
        r = skyctl("--timeout", "0.5", "-H", srv.address, "list", timeout=10)
    assert r.returncode == 4
    assert one_line(r.stderr) == "skyctl: %s: list: timed out after 0.5 s" % srv.address


def test_command_that_never_answers_times_out():
    def handler(c):
        c.sendall(BANNER)
        read_line(c)
        until_closed(c)
    with FakeServer(handler) as srv:
        # a name: the node is asked nothing before (a handle needs its harbor)
        r = skyctl("--timeout", "0.3", "-H", srv.address, "ping", ".launcher")
    assert r.returncode == 4
    assert one_line(r.stderr) == "skyctl: %s: ping .launcher: timed out after 0.3 s" % srv.address


@pytest.mark.parametrize("greeting", [b"SSH-2.0-OpenSSH_9.2p1\r\n",
                                      b"HTTP/1.1 400 Bad Request\r\n\r\n",
                                      b"\x00\x01\x02garbage"])
def test_not_a_console(greeting):
    def handler(c):
        c.sendall(greeting)
        until_closed(c)
    with FakeServer(handler) as srv:
        r = skyctl("-H", srv.address, "list")
    assert r.returncode == 5
    assert one_line(r.stderr).startswith("skyctl: %s: list: not a skynet console" % srv.address)


def test_reset_before_the_banner():
    with FakeServer(reset) as srv:
        r = skyctl("-H", srv.address, "list")
    assert r.returncode == 3
    assert "list: connection" in one_line(r.stderr)


def test_closed_before_replying():
    def handler(c):
        c.sendall(BANNER)
        read_line(c)
        c.close()
    with FakeServer(handler) as srv:
        r = skyctl("-H", srv.address, "list")
    assert r.returncode == 3
    assert one_line(r.stderr) == ("skyctl: %s: list: connection closed by the node before replying"
                                  % srv.address)


def test_reset_in_the_middle_of_a_reply():
    def handler(c):
        c.sendall(BANNER)
        read_line(c)
        c.sendall(b"1\t:00000004:snlua cdummy\t:0000000")
        wait_sent(c)
        reset(c)
    with FakeServer(handler) as srv:
        r = skyctl("-H", srv.address, "list")
    assert r.returncode == 5
    assert one_line(r.stderr) == ("skyctl: %s: list: connection closed in the middle of a reply"
                                  % srv.address)


def test_garbage_reply_to_list():
    def handler(c):
        c.sendall(BANNER)
        read_line(c)
        c.sendall(b"this is not a list\n<CMD OK>\n")
        until_closed(c)
    with FakeServer(handler) as srv:
        r = skyctl("-H", srv.address, "ping", "@agent")
    assert r.returncode == 5
    assert ("list: unexpected reply to call .launcher \"LIST\": \"this is not a list\""
            in one_line(r.stderr))


def test_reply_split_into_tiny_pieces_is_read_whole():
    def handler(c):
        c.sendall(BANNER)
        read_line(c)
        for b in launcher_list(b":0000000a\tsnlua agent 1\n:0000000b\tsnlua agent 2\n") + b"<CMD OK>\n":
            c.sendall(bytes([b]))
        until_closed(c)
    with FakeServer(handler) as srv:
        r = skyctl("-H", srv.address, "list")
    assert r.returncode == 0, r.stderr
    assert tsv(r.stdout) == [[":0000000a", "snlua agent 1"], [":0000000b", "snlua agent 2"]]


# --- failures reported by a real node ----------------------------------------

@pytest.mark.parametrize("args,msg", [
    (["ping", ":ff"], "ping :000000ff: "),
    (["kill", ":ff"], "kill :000000ff: no such service"),
    (["exit", "ff"], "exit :000000ff: no such service"),
    (["raw", "inject :a /nonexistent/x.lua"], "inject :a /nonexistent/x.lua: Can't open /nonexistent/x.lua"),
    (["raw", "nosuchcommand"], "nosuchcommand: Invalid command"),
    (["setenv", "thread", "9"], "setenv thread 9: "),
    (["snax", "nosuchservice"], "snax nosuchservice: Failed"),
    (["call", ":a", '"nosuchcmd"'], 'call :0000000a "nosuchcmd": '),
])
def test_node_side_failures_exit_1(node, args, msg):
    r = skyctl(*args, node=node)
    assert r.returncode == 1, (r.stdout, r.stderr)
    err = r.stderr
    if args[0] == "call":   # a second line says where the error went (test_first_hour.py)
        err, hint = err.splitlines(True)
        assert "node's log" in hint
    assert one_line(err).startswith("skyctl: %s: %s" % (node.address, msg))
    assert r.stdout == ""


def test_selector_matching_nothing_sends_nothing(node):
    r = skyctl("kill", "@agent,@nosuch*", node=node)
    assert r.returncode == 1 and r.stdout == ""
    assert one_line(r.stderr) == "skyctl: kill: @nosuch*: no service matches"
    r = skyctl("list", node=node)
    assert r.stdout.count("snlua agent") == 3  # no agent was killed


def test_some_targets_failing(node):
    r = skyctl("ping", ":a,:ff,:b", node=node)
    assert r.returncode == 1
    assert [row[0] for row in tsv(r.stdout)] == [":0000000a", ":0000000b"]
    assert "ping :000000ff" in one_line(r.stderr)
    r = skyctl("--json", "ping", ":a,:ff", node=node)
    import json
    recs = json.loads(r.stdout)["rows"]
    assert [x["ok"] for x in recs] == [True, False]
    assert recs[1]["error"] and recs[1]["time"] is None


@pytest.fixture
def loopy_node(backend):
    n = nodes.Node(backend, agents=1, services=("loopy",)).start()
    yield n
    n.stop()


def test_stuck_service_times_out_and_signal_unsticks_it(loopy_node):
    n = loopy_node
    r = skyctl("call", ".loopy", '"count"', node=n)
    assert r.returncode == 0 and r.stdout == "1\t1\nn\t1\n"
    con = nodes.Console(n.port)
    con.banner()
    con.send('call .loopy "spin"\n')  # never answers
    n.wait_log("loopy: spinning")
    r = skyctl("--timeout", "0.5", "ping", ".loopy", node=n, timeout=10)
    assert r.returncode == 4
    assert one_line(r.stderr) == "skyctl: %s: ping .loopy: timed out after 0.5 s" % n.address
    r = skyctl("signal", ".loopy", node=n)
    assert r.returncode == 0, r.stderr
    r = skyctl("call", ".loopy", '"count"', node=n)
    assert r.returncode == 0 and r.stdout.startswith("1\t3")
    con.close()


def test_stat_with_a_stuck_service_still_answers(loopy_node):
    n = loopy_node
    con = nodes.Console(n.port)
    con.banner()
    con.send('call .loopy "spin"\n')
    n.wait_log("loopy: spinning")
    r = skyctl("--json", "--timeout", "2", "stat", node=n)
    assert r.returncode == 0, r.stderr
    import json
    recs = {x["name"]: x for x in json.loads(r.stdout)["rows"]}
    assert recs["snlua loopy"]["cpu"] is None
    assert isinstance(recs["snlua agent 1"]["cpu"], float)
    skyctl("signal", ".loopy", node=n)
    con.close()
