"""The test run never touches the developer's HOME or XDG dirs: every
process it starts gets the session's temp dirs (nodes.isolate_environment, run when tests/nodes.py is imported).
The proof runs this file's first test in a child pytest whose HOME is an
empty dir we watch and whose XDG variables are unset -- as on a developer's
machine -- and checks that the child wrote its audit log, history and
transcripts, but under its session dir, and nothing under that HOME."""
import os
import subprocess
import sys

import pexpect

import cli_helpers
import nodes
from cli_helpers import ask, leave, skyctl, write
from nodes import SESSION_DIRS


def files_under(top):
    return sorted(os.path.relpath(os.path.join(d, f), top)
                  for d, _, fs in os.walk(top) for f in fs)


def test_skyctl_and_nodes_write_into_the_session_dirs(sandbox_node, tmp_path):
    for var, sub in SESSION_DIRS.items():
        assert os.environ[var] == os.path.join(nodes.SESSION_DIR, sub), var
    fix = write(tmp_path, "fix.lua", "_P.lua.CMD.isolated = true\n")
    r = skyctl("inject", ":a", fix, node=sandbox_node)
    assert r.returncode == 0, r.stderr
    c = pexpect.spawn(nodes.SKYCTL, ["-H", sandbox_node.address, "repl", ":a"],
                      env=dict(os.environ, TERM="xterm"), encoding="utf-8", timeout=15)
    cli_helpers.prompt(c)
    ask(c, "40 + 2", "42")
    assert leave(c) == 0
    r = skyctl("history")
    assert r.returncode == 0 and r.stdout.strip(), r.stderr
    state = os.path.join(os.environ["XDG_STATE_HOME"], "skyctl")
    written = files_under(state)
    assert "audit.log" in written, written
    assert any(f.startswith("history" + os.sep) for f in written), written
    # a node started by the tests sees the session's HOME too (its console
    # has getenv, whatever SKYCTL_SANDBOX_CONSOLE says)
    with nodes.Node("sandbox", agents=1, env={"home": "$HOME", "console_version": ""}) as n:
        r = skyctl("getenv", "home", node=n)
    assert r.stdout == "home\t%s\n" % os.environ["HOME"], r.stdout


def test_a_run_leaves_the_real_home_alone(tmp_path):
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XDG_", "SKYCTL_", "SKYNET_ROOT"))}
    env.update(HOME=str(home), TMPDIR=str(tmp), SKYCTL_BUILD=nodes.BUILD)
    first = __file__ + "::test_skyctl_and_nodes_write_into_the_session_dirs"
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", first],
                       cwd=nodes.ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert os.listdir(home) == [], files_under(home)
    assert r.returncode == 0 and "1 passed" in r.stdout, r.stdout + r.stderr
