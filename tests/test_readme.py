"""The README's tour, run verbatim against a sandbox node started the way
`make demo` starts it, so the README never lies.

Between `<!-- tour -->` and `<!-- /tour -->`, every ```console block is a
terminal session: a line `$ command` runs in bash on a pseudo-terminal, as
a reader types it (a command ending in a heredoc takes the lines through
its terminator), the lines up to the next `$` are what it must print
(stdout and stderr; tables where skyctl writes to the terminal, tab-separated
lines where it writes into a pipe; no colour).  When comparing, runs of blanks count as one and decimal
fractions (timings, cpu seconds) as equal; a line `...` stands for any
number of lines.  Every command must exit 0 (the tour shows a failure's
status with `; echo "exit $?"`)."""
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time

import pytest

import nodes

README = os.path.join(nodes.ROOT, "README.md")


def tour_blocks(text):
    tour = text.split("<!-- tour -->", 1)[1].split("<!-- /tour -->", 1)[0]
    return re.findall(r"```console\n(.*?)```", tour, re.S)


def steps(block):
    """(command, expected lines) pairs of a console block"""
    out, lines, i = [], block.splitlines(), 0
    while i < len(lines):
        assert lines[i].startswith("$ "), "tour output before any command: %r" % lines[i]
        cmd = lines[i][2:]
        i += 1
        heredoc = re.search(r"<<'?(\w+)'?\s*$", cmd)
        if heredoc:
            while lines[i] != heredoc.group(1):
                cmd += "\n" + lines[i]
                i += 1
            cmd += "\n" + lines[i]
            i += 1
        expected = []
        while i < len(lines) and not lines[i].startswith("$ "):
            expected.append(lines[i])
            i += 1
        out.append((cmd, expected))
    return out


def normal(line):
    return re.sub(r"\d+\.\d+", "#", " ".join(line.split()))


def matches(expected, actual):
    """whether actual lines fit expected ones ('...' is any run of lines)"""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and normal(expected[0]) == normal(actual[0]) and \
        matches(expected[1:], actual[1:])


def wait_for(path, text, proc, timeout=20):
    """until the file at path holds text (proc must keep running)"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path) as f:
            if text in f.read():
                return
        assert proc.poll() is None, "the demo exited:\n" + open(path).read()
        time.sleep(0.05)
    raise AssertionError("the demo did not print %r:\n%s" % (text, open(path).read()))


def run_on_terminal(cmd, cwd, env, timeout=60):
    """bash -c cmd with a pseudo-terminal (120 columns) as its stdin, stdout
    and stderr; returns (exit status, output lines)"""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(["bash", "-c", cmd], cwd=cwd, env=env, stdin=slave, stdout=slave,
                            stderr=slave, start_new_session=True)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            assert left > 0, "README tour: `%s` did not end within %d s" % (cmd, timeout)
            if select.select([master], [], [], left)[0]:
                try:
                    chunk = os.read(master, 65536)
                except OSError:     # EIO: every holder of the terminal closed it
                    chunk = b""
                if not chunk:
                    break
                out += chunk
        rc = proc.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return rc, out.decode("utf-8", "replace").replace("\r\n", "\n").splitlines()


@pytest.fixture
def demo_node(tmp_path):
    """the node `make demo` leaves running (tools/demo, on a free port),
    after the demo's own commands: the tour starts from that state"""
    port = nodes.free_port()
    log = tmp_path / "demo.log"
    env = dict(os.environ, SKYCTL_BUILD=nodes.BUILD, XDG_STATE_HOME=str(tmp_path / "state"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), HOME=str(tmp_path))
    with open(log, "w") as out:
        proc = subprocess.Popen([os.path.join(nodes.ROOT, "tools", "demo"), "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    try:
        wait_for(log, "Its log follows; Ctrl-C stops it.", proc)
        yield "127.0.0.1:%d" % port, log.read_text()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def test_demo_echoes_commands_as_typed(demo_node):
    shown = re.findall(r"\$ (skyctl [^\n\x1b]*)", demo_node[1])
    assert "skyctl ping @agent" in shown
    assert not any("deposit" in c or "inject" in c for c in shown)   # it only reads


def test_the_tour_runs_as_written(demo_node, tmp_path):
    with open(README) as f:
        blocks = tour_blocks(f.read())
    assert blocks, "README has no tour"
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, PATH=nodes.BUILD + os.pathsep + os.environ["PATH"],
               SKYCTL_HOST=demo_node[0], NO_COLOR="1", TERM="xterm",
               XDG_STATE_HOME=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               HOME=str(tmp_path))
    for k in ("SKYCTL_SSH", "SKYCTL_FORCE_TTY"):
        env.pop(k, None)
    ran = 0
    for block in blocks:
        for cmd, expected in steps(block):
            rc, actual = run_on_terminal(cmd, work, env)
            assert rc == 0, "README tour: `%s` exited %d:\n%s" % (cmd, rc, "\n".join(actual))
            assert matches(expected, actual), \
                "README tour: `%s` printed\n%s\nbut the README shows\n%s" % (
                    cmd, "\n".join(actual), "\n".join(expected))
            ran += 1
    assert ran >= 10
