"""make install / make uninstall into a temporary DESTDIR: every file at its
standard place, the installed binary, man page, completion and demo node
working from there, and nothing left after uninstall."""
import os
import re
import shutil
import socket
import subprocess
import time

import pytest

import nodes

pytestmark = pytest.mark.skipif(not os.path.exists(nodes.SKYCTL), reason="no skyctl binary")

PREFIX = "/usr/local"
INSTALLED = {
    "bin/skyctl": 0o755,
    "bin/skyctl-sandbox": 0o755,
    "share/man/man1/skyctl.1": 0o644,
    "share/bash-completion/completions/skyctl": 0o644,
    "share/zsh/site-functions/_skyctl": 0o644,
    "share/fish/vendor_completions.d/skyctl.fish": 0o644,
    "share/skyctl/services/main.lua": 0o644,
}


def make(target, destdir):
    """run make target for the build under test (nothing is rebuilt when
    it is current), outside any make that runs this test"""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "-C", nodes.ROOT, target, "PREFIX=" + PREFIX,
                           "DESTDIR=" + str(destdir), "BUILD=" + nodes.BUILD],
                          capture_output=True, text=True, env=env, timeout=300)


def files_under(root):
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, _, fs in os.walk(root) for f in fs)


@pytest.fixture
def installed(tmp_path):
    dest = tmp_path / "dest"
    r = make("install", dest)
    assert r.returncode == 0, r.stderr
    return dest, str(dest) + PREFIX


def test_files_at_their_standard_places(installed):
    dest, prefix = installed
    for rel, mode in INSTALLED.items():
        path = os.path.join(prefix, rel)
        assert os.path.isfile(path), rel
        assert os.stat(path).st_mode & 0o777 == mode, rel


def test_installed_binary_runs(installed):
    _, prefix = installed
    skyctl = os.path.join(prefix, "bin", "skyctl")
    r = subprocess.run([skyctl, "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("skyctl ")
    r = subprocess.run([skyctl, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("usage: skyctl")


def test_installed_man_page_renders(installed):
    if not shutil.which("man"):
        pytest.skip("man (man-db) is not installed")
    _, prefix = installed
    page = os.path.join(prefix, "share", "man", "man1", "skyctl.1")
    r = subprocess.run(["man", "-l", "-P", "cat", page], capture_output=True, text=True,
                       env=dict(os.environ, MANPAGER="cat", MANWIDTH="80"))
    assert r.returncode == 0, r.stderr
    # the dash of NAME is the renderer's: "-", en or em dash
    assert re.search(r"^ +skyctl \S+ client for the debug console of skynet nodes$",
                     r.stdout, re.M), r.stdout[:400]
    for heading in ("SYNOPSIS", "COMMANDS", "ENVIRONMENT", "FILES", "EXIT STATUS", "EXAMPLES"):
        assert "\n%s\n" % heading in r.stdout


def test_installed_bash_completion_uses_the_installed_binary(installed):
    if not shutil.which("bash"):
        pytest.skip("bash is not installed")
    _, prefix = installed
    script = ('source "$1"; COMP_LINE="skyctl pi"; COMP_POINT=${#COMP_LINE}; _skyctl; '
              'echo "${COMPREPLY[@]}"')
    r = subprocess.run([shutil.which("bash"), "--norc", "-c", script, "bash",
                        os.path.join(prefix, "share/bash-completion/completions/skyctl")],
                       capture_output=True, text=True,
                       env=dict(os.environ, PATH=os.path.join(prefix, "bin")))
    assert r.stdout == "ping\n" and r.stderr == ""


def test_installed_demo_node_finds_its_services(installed, tmp_path):
    _, prefix = installed
    port = nodes.free_port()
    demo = subprocess.Popen([os.path.join(prefix, "bin", "skyctl-sandbox"), "--demo",
                             "--port", str(port)], cwd=str(tmp_path),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert demo.poll() is None and time.time() < deadline, "the demo did not start"
                time.sleep(0.05)
        r = subprocess.run([os.path.join(prefix, "bin", "skyctl"), "-H", "127.0.0.1:%d" % port,
                            "list"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and "snlua agent 1" in r.stdout, r.stderr
    finally:
        demo.terminate()
        demo.wait(10)


def test_uninstall_leaves_nothing(installed):
    dest, _ = installed
    assert files_under(dest)
    r = make("uninstall", dest)
    assert r.returncode == 0, r.stderr
    assert files_under(dest) == []
    assert not os.path.exists(str(dest) + PREFIX + "/share/skyctl")
