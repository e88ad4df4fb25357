"""skyctl through the ssh transport (-H ssh://[user@]host[:sshport]/[ip:]port):
a real sshd on a free loopback port, run as the current user with a host
key and a client key made for the test, in front of console nodes.  The
core commands over ssh (on real skynet too when SKYNET_ROOT is set), a
node file mixing tcp and ssh nodes, and what a user sees when ssh fails:
remote port closed, key refused, ssh port closed, no answer, no ssh
binary."""
import json
import os
import pwd
import re
import shutil
import socket
import subprocess

import pytest

import nodes
from cli_helpers import (LIST_LINE, FakeServer, launcher_list, read_line, skyctl, sleep_line, tsv,
                         until_closed)
from sshd import SSHD, Sshd, SshdUnavailable

pytestmark = [
    pytest.mark.skipif(not os.path.exists(nodes.SKYCTL), reason="no skyctl binary"),
    pytest.mark.skipif(not os.path.exists(SSHD) or not shutil.which("ssh-keygen"),
                       reason="sshd not installed (openssh-server; tools/install-deps)"),
]


@pytest.fixture(scope="module")
def sshd():
    try:
        s = Sshd().start()
    except SshdUnavailable as e:
        pytest.skip(str(e))
    yield s
    s.stop()


def over(sshd, node, *args, env=None, **kw):
    """skyctl ARGS against node through sshd (the patch journal in sshd's
    temp dir unless env says otherwise)"""
    e = dict(sshd.env(), XDG_STATE_HOME=os.path.join(sshd.dir, "state"))
    e.update(env or {})
    return skyctl("-H", sshd.url(node.port), *args, env=e, **kw)


def no_ssh_left(node_port):
    """no ssh process forwarding to node_port is still running (from /proc:
    a fresh CI container may have no ps)"""
    want = b"-W\x00127.0.0.1:%d\x00" % node_port
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read()
            with open("/proc/%s/stat" % pid) as f:
                zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            continue
        if want in cmd and not zombie:
            return False
    return True


def one_line_error(r):
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_list_stat_ping_over_ssh(sshd, node):
    direct = skyctl("list", node=node)
    r = over(sshd, node, "list")
    assert r.returncode == 0, r.stderr
    assert r.stdout == direct.stdout
    assert [":0000000a", "snlua agent 1"] in tsv(r.stdout)
    assert r.stderr == ""
    r = over(sshd, node, "stat")
    assert r.returncode == 0, r.stderr
    assert [row[:2] for row in tsv(r.stdout)] == [row[:2] for row in tsv(direct.stdout)]
    recs = json.loads(over(sshd, node, "--json", "stat").stdout)["rows"]
    assert {x["address"] for x in recs} >= {":0000000a", ":0000000b", ":0000000c"}
    assert all(isinstance(x["message"], int) for x in recs)
    table = over(sshd, node, "stat", env={"SKYCTL_FORCE_TTY": "1", "NO_COLOR": "1"})
    assert table.stdout.splitlines()[0].split() == ["ADDRESS", "NAME", "CPU", "MESSAGE",
                                                    "MQLEN", "TASK"]
    r = over(sshd, node, "ping", ":a")
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"\d+\.\d+\n", r.stdout)
    assert no_ssh_left(node.port)


def test_explicit_user_ip_and_skyctl_host(sshd, node):
    user = pwd.getpwuid(os.getuid()).pw_name
    url = "ssh://%s@127.0.0.1:%d/127.0.0.1:%d" % (user, sshd.port, node.port)
    r = skyctl("-H", url, "call", ":a", '"deposit", 7', env=sshd.env())
    assert r.returncode == 0, r.stderr
    assert tsv(r.stdout) == [["1", "7"], ["n", "1"]]
    r = skyctl("info", ":a", env=dict(sshd.env(), SKYCTL_HOST=url))
    assert r.returncode == 0, r.stderr
    assert ["balance", "7"] in tsv(r.stdout)


def test_inject_over_ssh(sshd, node, tmp_path):
    script = tmp_path / "fix.lua"
    script.write_text('local CMD = _P.lua.CMD\n'
                      'CMD.balance = function() return 4242 end\n'
                      'print("patched", ...)\n')
    for flags in ([], ["--no-agent"]):
        target = ":b" if flags else ":a"
        r = over(sshd, node, "inject", *flags, target, script, "--", "x")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "patched\tx" in r.stdout and "1 ok, 0 failed" in r.stderr + r.stdout
        r = skyctl("call", target, '"balance"', node=node)
        assert tsv(r.stdout) == [["1", "4242"], ["n", "1"]]
    # several services at once: one hub, several console connections over ssh
    r = over(sshd, node, "inject", "@agent", script)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3 ok, 0 failed" in r.stderr + r.stdout
    r = skyctl("call", ":c", '"balance"', node=node)
    assert tsv(r.stdout) == [["1", "4242"], ["n", "1"]]
    assert no_ssh_left(node.port)


def test_names_diff_patches_rollback_over_ssh(sshd, backend, tmp_path):
    """the agent commands through ssh, a registered name as the target (its
    handle read off debug mode, on connections of their own)"""
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    fix = tmp_path / "fix.lua"
    fix.write_text("_G.motd = 'hello'\n")
    with nodes.Node(backend, agents=1, services=["named"]) as n:
        addr = next(row[0] for row in tsv(skyctl("list", node=n).stdout)
                    if row[1] == "snlua named")
        r = over(sshd, n, "diff", ".named", fix, env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert re.search(r'^%s  would apply cleanly, 1 change\n +\+ _G\.motd +"hello"$' % addr,
                         r.stdout, re.M), r.stdout
        r = over(sshd, n, "inject", ".named", fix, env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.split()[:2] == [addr, "ok"]
        r = over(sshd, n, "patches", ".named", env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "fix.lua" in r.stdout
        r = over(sshd, n, "rollback", ".named", env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert re.search(r"^%s  ok +#1 fix\.lua" % addr, r.stdout, re.M), r.stdout
        r = over(sshd, n, "patches", ".named", env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert [row[-1] for row in tsv(r.stdout)] == ["rollback of #1", "rolled back"]
        assert "0 patches in place" in r.stderr
        assert no_ssh_left(n.port)


def test_repl_from_stdin_over_ssh(sshd, node):
    r = over(sshd, node, "repl", ":a", input="1+1\nreturn 'x' .. 2\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == '2\n"x2"\n'
    r = over(sshd, node, "repl", input="ping :a\n")    # the node prompt
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"\d+\n", r.stdout)               # 1/100 s, as the console says
    assert no_ssh_left(node.port)


def test_repl_terminal_ctrl_c_spares_ssh(sshd, sandbox_node, tmp_path):
    """Ctrl-C on the terminal interrupts skyctl's line, not its ssh child
    (which runs in a session of its own): the connection stays usable."""
    pexpect = pytest.importorskip("pexpect")
    env = dict(os.environ, HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), TERM="xterm", NO_COLOR="1",
               **sshd.env())
    c = pexpect.spawn(nodes.SKYCTL, ["-H", sshd.url(sandbox_node.port), "repl", ":a"], env=env,
                      encoding="utf-8", timeout=15, dimensions=(40, 200))
    c.expect(":0000000a> ")
    c.send("1+1\r")
    c.expect(r"\r\n2\r\n")
    c.expect(":0000000a> ")
    mark = sandbox_node.log_mark()
    c.send(sleep_line(300) + "\r")
    sandbox_node.wait_log("repl: sleeping", after=mark)
    c.send("\x03")
    c.expect("abandoned")
    c.expect(":0000000a> ")
    c.send("\x03")
    c.expect(":0000000a> ")
    c.send("2+2\r")
    c.expect(r"\r\n4\r\n")
    c.expect(":0000000a> ")
    c.send("\x04")
    c.expect(pexpect.EOF)
    c.close()
    assert c.exitstatus == 0
    assert no_ssh_left(sandbox_node.port)


def test_repl_watch_over_ssh(sshd, node, tmp_path):
    """.watch (stock debug mode on a connection of its own) through ssh:
    the breakpoint comes, steps, continues; no debug_agent is left."""
    pexpect = pytest.importorskip("pexpect")
    env = dict(os.environ, HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), TERM="xterm", NO_COLOR="1",
               **sshd.env())
    c = pexpect.spawn(nodes.SKYCTL, ["-H", sshd.url(node.port), "repl", ":c"],
                      env=env, encoding="utf-8", timeout=15, dimensions=(40, 200))
    c.expect(":0000000c> ")
    c.send(".watch lua\r")
    c.expect("waiting for its next message")
    with nodes.Console(node.port) as con:
        con.send('call :c "deposit", 5\n')
        c.expect(r"agent\.lua\(\d+\)> ")
        c.send("s\r")
        c.expect(r"agent\.lua\(\d+\)> ")
        c.send("c\r")
        c.expect(":0000000c> ")
        assert "5" in con.read_until("<CMD OK>\n", timeout=10)
        c.send("\x04")
        c.expect(pexpect.EOF)
        c.close()
        assert c.exitstatus == 0
        lines, _ = con.cmd("list")
        assert not [l for l in lines if "debug_agent" in l], lines
    assert no_ssh_left(node.port)


def split_reply_console(nudges, wait):
    """A console that answers the list of services as a node does, in two
    writes (output, then terminator), and notes in nudges what skyctl sent
    in between (waiting up to wait seconds for it)."""
    def handler(c):
        c.settimeout(10)
        c.sendall(b"Welcome to skynet console\n")
        assert read_line(c) == LIST_LINE
        c.sendall(launcher_list(b":0000000a\tsnlua agent 1\n"))
        c.settimeout(wait)
        try:
            nudges.append(c.recv(64))
        except socket.timeout:
            nudges.append(b"")
        c.sendall(b"<CMD OK>\n")
        c.settimeout(10)
        c.recv(64)
    return handler


def test_nudge_releases_the_rest_of_a_reply(sshd):
    """Over ssh, nothing re-arms TCP_QUICKACK between ssh and the node, so
    a reply's terminator waits ~40 ms (Nagle meeting delayed ACK) unless
    skyctl answers its first part with an empty line, whose ACKs release
    it: the console must see exactly one.  Over TCP, QUICKACK does that
    job and nothing extra is sent."""
    nudges = []
    with FakeServer(split_reply_console(nudges, 2)) as fake:
        r = skyctl("-H", sshd.url(fake.port), "list", env=sshd.env())
        assert r.returncode == 0, r.stderr
        assert r.stdout == ":0000000a\tsnlua agent 1\n"
        assert nudges == [b"\n"]
    nudges = []
    with FakeServer(split_reply_console(nudges, 0.5)) as fake:
        r = skyctl("-H", fake.address, "list")
        assert r.returncode == 0, r.stderr
        assert nudges == [b""]


def test_ssh_connection_sharing(sshd, sandbox_node, tmp_path):
    """ControlMaster/ControlPersist from SKYCTL_SSH: the first run leaves a
    master behind, the next ones (several connections each: inject) go
    through it, and skyctl's ssh children still end with each run."""
    cm = os.path.join(sshd.dir, "cm-%C")        # tmp_path is too long for a socket
    opts = " -o ControlMaster=auto -o ControlPath=%s -o ControlPersist=30" % cm
    env = {"SKYCTL_SSH": sshd.env()["SKYCTL_SSH"] + opts}
    script = tmp_path / "fix.lua"
    script.write_text("print('shared', ...)\n")
    try:
        for _ in range(2):
            r = over(sshd, sandbox_node, "list", env=env)
            assert r.returncode == 0 and [":0000000a", "snlua agent 1"] in tsv(r.stdout), r.stderr
            r = over(sshd, sandbox_node, "inject", "@agent", script, "--", "x", env=env)
            assert r.returncode == 0 and r.stdout.count("shared\tx") == 3, r.stdout + r.stderr
        assert [f for f in os.listdir(sshd.dir) if f.startswith("cm-")], "no master: not shared"
    finally:
        subprocess.run(["ssh"] + env["SKYCTL_SSH"].split() + ["-p", str(sshd.port), "-O", "exit",
                       "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=10)
    assert no_ssh_left(sandbox_node.port)


def test_top_once_over_ssh(sshd, node):
    r = over(sshd, node, "top", "--once")
    assert r.returncode == 0, r.stderr
    rows = tsv(r.stdout)
    assert {row[0] for row in rows} >= {":0000000a", ":0000000b", ":0000000c"}
    assert all(row[-1] == "ok" for row in rows), rows


# stuck's --timeout over ssh: a fresh channel for each probe and the
# node's two stat samples must fit in it; 3 s did not, at times, with
# other nodes busy on the same 2 cores
STUCK_WAIT = "5"


def test_stuck_and_signal_over_ssh(sshd, backend):
    with nodes.Node(backend, agents=1, services=("loopy",)) as n:
        r = over(sshd, n, "stuck", "--timeout", STUCK_WAIT)
        assert r.returncode == 0, r.stderr
        assert r.stdout == "" and "did not answer" in r.stderr
        con = nodes.Console(n.port)
        try:
            con.banner()
            con.send('call .loopy "spin"\n')
            n.wait_log("loopy: spinning")
            r = over(sshd, n, "stuck", "--timeout", STUCK_WAIT)
            assert r.returncode == 1, r.stderr
            assert [row[1] for row in tsv(r.stdout)] == ["snlua loopy"]
            r = over(sshd, n, "stuck", "--timeout", STUCK_WAIT, "--signal", "--json")
            assert r.returncode == 0, r.stderr
            (row,) = json.loads(r.stdout)["rows"]
            assert row["name"] == "snlua loopy" and row["unstuck"] is True
        finally:
            con.close()
        r = skyctl("ping", ".loopy", node=n)
        assert r.returncode == 0, r.stderr
        assert no_ssh_left(n.port)


def test_node_file_mixes_tcp_and_ssh(sshd, backend, tmp_path):
    with nodes.Node(backend, agents=2) as n1, nodes.Node(backend, agents=1) as n2:
        xdg = tmp_path / "xdg"
        (xdg / "skyctl").mkdir(parents=True)
        (xdg / "skyctl" / "config.lua").write_text(
            'nodes = { tcp1 = "%s", ssh2 = "%s" }\n' % (n1.address, sshd.url(n2.port)))
        env = dict(sshd.env(), XDG_CONFIG_HOME=str(xdg), XDG_STATE_HOME=str(tmp_path / "state"))
        r = skyctl("-a", "list", env=env)
        assert r.returncode == 0, r.stderr
        rows = tsv(r.stdout)
        assert ["ssh2", ":0000000a", "snlua agent 1"] in rows
        assert ["tcp1", ":0000000b", "snlua agent 2"] in rows
        r = skyctl("ping", "*/@agent", env=env)
        assert r.returncode == 0, r.stderr
        assert [row[:2] for row in tsv(r.stdout)] == [
            ["ssh2", ":0000000a"], ["tcp1", ":0000000a"], ["tcp1", ":0000000b"]]
        r = skyctl("-n", "ssh2", "stat", env=env)
        assert r.returncode == 0 and len(tsv(r.stdout)) == len(tsv(skyctl("stat", node=n2).stdout))
        script = tmp_path / "fix.lua"
        script.write_text("print('hello from', ...)\n")
        r = skyctl("inject", "*/@agent", script, "--", "fix", env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "3 ok, 0 failed" in r.stdout + r.stderr


def test_cluster_with_an_ssh_node_down(sshd, tmp_path):
    """-a over a tcp node and an ssh node whose console is gone: the tcp
    node's rows, one line naming the ssh node, exit 3"""
    down = nodes.free_port()
    with nodes.Node("sandbox", agents=1) as n1:
        xdg = tmp_path / "xdg"
        (xdg / "skyctl").mkdir(parents=True)
        (xdg / "skyctl" / "config.lua").write_text(
            'nodes = { tcp1 = "%s", ssh2 = "%s" }\n' % (n1.address, sshd.url(down)))
        r = skyctl("-a", "list", env=dict(sshd.env(), XDG_CONFIG_HOME=str(xdg)))
        assert r.returncode == 3
        assert ["tcp1", ":0000000a", "snlua agent 1"] in tsv(r.stdout)
        assert {row[0] for row in tsv(r.stdout)} == {"tcp1"}
        assert one_line_error(r).startswith("skyctl: ssh2: ")
        assert "Connection refused" in r.stderr


def test_remote_port_closed(sshd):
    port = nodes.free_port()
    r = skyctl("-H", sshd.url(port), "list", env=sshd.env())
    assert r.returncode == 3
    msg = one_line_error(r)
    assert msg.startswith("skyctl: %s: " % sshd.url(port))
    assert "Connection refused" in msg and "open failed" in msg


def test_key_refused(sshd, sandbox_node, tmp_path):
    bad = str(tmp_path / "other_key")
    sshd.keygen(bad)
    r = skyctl("-H", sshd.url(sandbox_node.port), "list", env=sshd.env(key=bad))
    assert r.returncode == 3
    msg = one_line_error(r)
    assert "Permission denied (publickey)" in msg and sshd.url(sandbox_node.port) in msg


def test_ssh_port_closed_and_unknown_host(sshd):
    port = nodes.free_port()
    r = skyctl("-H", "ssh://127.0.0.1:%d/8000" % port, "list", env=sshd.env())
    assert r.returncode == 3
    assert re.search(r"ssh: connect to host 127.0.0.1 port %d: Connection refused$" % port,
                     one_line_error(r))
    r = skyctl("-H", "ssh://no-such-host.invalid/8000", "list", env=sshd.env())
    assert r.returncode == 3
    assert "Could not resolve hostname no-such-host.invalid" in one_line_error(r)


def test_ssh_server_that_never_answers(sshd):
    """an ssh server that accepts and says nothing: --timeout ends it (4),
    and the ssh still connecting is killed"""
    node_port = nodes.free_port()
    with FakeServer(until_closed) as silent:
        url = "ssh://127.0.0.1:%d/%d" % (silent.port, node_port)
        r = skyctl("-H", url, "--timeout", "1", "list", env=sshd.env(), timeout=10)
        assert r.returncode == 4
        assert "timed out" in one_line_error(r)
        assert no_ssh_left(node_port)


def test_no_ssh_binary(sandbox_node, sshd, tmp_path):
    r = skyctl("-H", sshd.url(sandbox_node.port), "list",
               env=dict(sshd.env(), PATH=str(tmp_path)))
    assert r.returncode == 3
    assert one_line_error(r) == ("skyctl: %s: list: cannot run ssh: not found in PATH "
                                 "(install openssh-client)" % sshd.url(sandbox_node.port))


def test_bad_ssh_addresses():
    for bad in ("ssh://host", "ssh://host/", "ssh://host/0", "ssh://:22/8000",
                "ssh://host:x/8000", "ssh://-oProxyCommand=x/8000", "ssh://host/1.2.3.4"):
        r = skyctl("-H", bad, "list")
        assert r.returncode == 2, bad
        assert "want ssh://[USER@]HOST[:SSHPORT]/[IP:]PORT" in one_line_error(r)
