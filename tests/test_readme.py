"""The README's tour, run verbatim against a sandbox node started the way
`make demo` starts it, so the README never lies.

Between `<!-- tour -->` and `<!-- /tour -->`, every ```console block is a
terminal session: a line `$ command` runs in bash (a command ending in a
heredoc takes the lines through its terminator), the lines up to the next
`$` are what it must print (stdout and stderr, as on a terminal: tables,
no colour).  When comparing, runs of blanks count as one and decimal
fractions (timings, cpu seconds) as equal; a line `...` stands for any
number of lines.  Every command must exit 0 (the tour shows a failure's
status with `; echo "exit $?"`)."""
import os
import re
import subprocess
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


def wait_until_ready(log, proc, timeout=10):
    """until the demo's start service says so (its console opens earlier)"""
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, "the demo node exited"
        with open(log) as f:
            if "main ready" in f.read():
                return
        time.sleep(0.05)
    raise AssertionError("the demo node did not get ready")


@pytest.fixture
def demo_node(tmp_path):
    """the sandbox as `make demo` runs it, on a free port"""
    port = nodes.free_port()
    log = open(tmp_path / "node.log", "w")
    proc = subprocess.Popen([nodes.SANDBOX, "--demo", "--port", str(port)], stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        wait_until_ready(tmp_path / "node.log", proc)
        yield "127.0.0.1:%d" % port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_the_tour_runs_as_written(demo_node, tmp_path):
    with open(README) as f:
        blocks = tour_blocks(f.read())
    assert blocks, "README has no tour"
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, PATH=nodes.BUILD + os.pathsep + os.environ["PATH"],
               SKYCTL_HOST=demo_node, SKYCTL_FORCE_TTY="1", NO_COLOR="1",
               XDG_STATE_HOME=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               HOME=str(tmp_path))
    env.pop("SKYCTL_SSH", None)
    ran = 0
    for block in blocks:
        for cmd, expected in steps(block):
            r = subprocess.run(["bash", "-c", cmd], cwd=work, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=60)
            actual = r.stdout.splitlines()
            assert r.returncode == 0, "README tour: `%s` exited %d:\n%s" % (cmd, r.returncode,
                                                                           r.stdout)
            assert matches(expected, actual), \
                "README tour: `%s` printed\n%s\nbut the README shows\n%s" % (
                    cmd, "\n".join(actual), "\n".join(expected))
            ran += 1
    assert ran >= 10
