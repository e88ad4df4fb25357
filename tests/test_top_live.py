"""The live screen of skyctl top, driven through a pseudo-terminal: it
draws, sorts and filters on keys, pauses, changes the interval, shows a
stuck service as TIMEOUT, a killed node as DOWN and back when it returns,
and leaves the terminal as it found it (alternate screen left, cursor shown,
same stty settings) on q, Ctrl-C and SIGTERM."""
import os
import shlex
import signal

import pexpect
import pytest

import nodes

pytestmark = pytest.mark.skipif(not os.path.exists(nodes.SKYCTL), reason="no skyctl binary")

LEAVE = "\x1b[?25h\x1b[?1049l"      # cursor shown, alternate screen left


def spawn(args, env=None, rows=30, cols=120):
    """skyctl in a terminal, between two `stty -g` so the settings can be
    compared; the exit status is printed as RC=n."""
    e = dict(os.environ, XDG_CONFIG_HOME="/nonexistent-skyctl-test", TERM="xterm")
    e.pop("NO_COLOR", None)
    e.update(env or {})
    cmd = "stty -g; %s; echo RC=$?; stty -g" % " ".join(
        shlex.quote(a) for a in [nodes.SKYCTL] + [str(a) for a in args])
    child = pexpect.spawn("/bin/sh", ["-c", cmd], env=e, dimensions=(rows, cols),
                          encoding="utf-8", timeout=15)
    child.expect(r"([^\r\n]+)\r\n")
    child.stty_before = child.match.group(1)
    return child


def finish(child):
    """wait for skyctl to end; returns (exit status, output of its screen)"""
    child.expect(r"RC=(\d+)\r\n")
    screen = child.before
    rc = int(child.match.group(1))
    child.expect(r"([^\r\n]+)\r\n")
    assert child.match.group(1) == child.stty_before     # stty settings restored
    child.expect(pexpect.EOF)
    return rc, screen


@pytest.fixture
def busy(backend):
    n = nodes.Node(backend, agents=2, services=("busy", "loopy")).start(timeout=30)
    yield n
    n.stop()


def test_draws_sorts_filters_and_quits(busy):
    child = spawn(["-H", busy.address, "top", "-d", "0.5"])
    child.expect_exact("\x1b[?1049h")                 # the alternate screen
    child.expect_exact("sort: cpu")
    child.expect(r"\+MEM  NAME")
    child.expect(r"\s\d+\.\d\s+\d+\.\d\s+0\s+1\s+\S+\s+\S+  snlua busy")
    child.expect_exact("nodes:  %s up (" % busy.address)
    for key, title in (("m", "sort: mem"), ("l", "sort: queue"), ("r", "sort: msg/s"),
                       ("c", "sort: cpu")):
        child.send(key)
        child.expect_exact(title)
    child.send("/agent 2")
    child.expect_exact("filter by name: agent 2_")
    child.send("\r")
    child.expect_exact("filter: agent 2")
    child.expect_exact("shown: 1 of ")
    child.send("/")
    child.send("\x1b")                                # Esc clears the filter
    child.expect(r"shown: (\d+) of \1 services")
    child.send("p")
    child.expect_exact("PAUSED")
    child.send("+")
    child.expect_exact("every 1 s")
    child.send("q")
    rc, screen = finish(child)
    assert rc == 0
    assert screen.rstrip().endswith(LEAVE)


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_terminal_restored_on_ctrl_c_and_sigterm(busy, how):
    child = spawn(["-H", busy.address, "top", "-d", "0.3"])
    child.expect_exact("snlua busy")
    if how == "ctrl-c":
        child.send("\x03")
    else:       # skyctl traps SIGTERM before it draws anything
        pid = int(pexpect.run("pgrep -P %d -f skyctl" % child.pid).split()[0])
        os.kill(pid, signal.SIGTERM)
    rc, screen = finish(child)
    assert rc == 0
    assert screen.rstrip().endswith(LEAVE)


def test_resize_redraws(busy):
    child = spawn(["-H", busy.address, "top", "-d", "5"], rows=30, cols=120)
    child.expect_exact("snlua busy")
    child.setwinsize(12, 70)
    child.expect_exact("\x1b[2J")                     # a full redraw at the new size
    child.expect_exact("c cpu  m mem  l queue  r msg/s  / filter  p pause  +/- interva")
    child.send("q")
    assert finish(child)[0] == 0


def test_stuck_service_shows_timeout_and_screen_goes_on(busy):
    child = spawn(["-H", busy.address, "top", "-d", "0.5"])
    child.expect_exact("snlua loopy")
    spin = nodes.Console(busy.port)
    spin.banner()
    spin.send('call .loopy "spin"\n')
    try:
        child.expect(r"TIMEOUT\s+TIMEOUT\s+TIMEOUT\s+TIMEOUT\s+TIMEOUT\s+-  snlua loopy")
        # the totals say one service is left out, and under the cpu sort the
        # silent service is the first row, in reverse video
        child.expect_exact("% + 1 NOT ANSWERING (stuck?)")
        child.expect(r"\+MEM  NAME *\x1b\[0m\r+\n\x1b\[7m[^\r]*TIMEOUT[^\r]*snlua loopy")
        child.send("m")                              # keys still work
        child.expect_exact("sort: mem")
        child.expect(r"TIMEOUT +-  snlua loopy")      # and refreshes go on
    finally:
        with nodes.Console(busy.port) as con:
            con.cmd("signal .loopy")
        spin.close()
    child.send("q")
    assert finish(child)[0] == 0


def test_node_killed_and_restarted(backend, tmp_path):
    a = nodes.Node(backend, agents=1, services=("busy",)).start(timeout=30)
    b = nodes.Node(backend, agents=2).start(timeout=30)
    xdg = tmp_path / "xdg"
    (xdg / "skyctl").mkdir(parents=True)
    (xdg / "skyctl" / "config.lua").write_text(
        'nodes = { a = "%s", b = "%s" }\n' % (a.address, b.address))
    child = spawn(["-a", "top", "-d", "0.3"], env={"XDG_CONFIG_HOME": str(xdg)})
    try:
        child.expect(r"a up \(\d+\)  b up \(\d+\)")
        child.expect_exact("NODE  ADDRESS")            # names shorter than the title
        child.expect(r"\r\na     :[0-9a-f]{8} ")
        b.kill()
        child.expect(r"a up \(\d+\)  b DOWN \(")
        child.expect(r"a\s+:[0-9a-f]{8}\s+\d+\.\d.*snlua busy")   # a goes on
        b = nodes.Node(backend, agents=2, port=b.port).start(timeout=30)
        child.expect(r"a up \(\d+\)  b up \(\d+\)", timeout=20)
        child.expect(r"b\s+:[0-9a-f]{8}\s.*snlua agent 2")
        child.send("q")
        assert finish(child)[0] == 0
    finally:
        a.stop()
        b.stop()
