"""skyctl's command line without a node: help, version, usage errors."""
import os
import re
import socket
import subprocess

import pytest

import nodes
from cli_helpers import listed_commands, skyctl

pytestmark = pytest.mark.skipif(not os.path.exists(nodes.SKYCTL), reason="no skyctl binary")

COMMANDS = ("list stat mem gc info ping task uniqtask killtask kill exit start log snax "
            "service netstat cmem jmem clearcache call trace logon logoff signal getenv "
            "setenv profactive dumpheap raw inject help").split()


def test_help_lists_every_command_and_exit_codes():
    r = skyctl("--help")
    assert r.returncode == 0 and r.stdout.startswith("usage:")
    assert set(COMMANDS) <= set(listed_commands())
    for code in range(7):
        assert re.search(r"^  %d  " % code, r.stdout, re.M), code
    assert "SKYCTL_HOST" in r.stdout and "@agent" in r.stdout
    # every kind of target, the global names among them
    for kind in (":0000000a", ".name", "%NAME", "@agent*", "game1/:a"):
        assert re.search(r"^  .*%s" % re.escape(kind), r.stdout, re.M), kind


def all_commands():
    """the core's commands and whatever else the table lists now"""
    try:
        return sorted(set(COMMANDS) | set(listed_commands()))
    except (OSError, IndexError):
        return COMMANDS


@pytest.mark.parametrize("cmd", all_commands())
def test_every_command_has_help(cmd):
    for args in ([cmd, "--help"], [cmd, "-h"], ["help", cmd]):
        r = skyctl(*args)
        assert r.returncode == 0, (args, r.stderr)
        assert r.stdout.startswith("usage: skyctl [OPTIONS] %s" % cmd), r.stdout
        assert r.stderr == ""


def test_version_and_startup_needs_no_node():
    r = skyctl("--version")
    assert r.returncode == 0 and re.match(r"skyctl \d+\.\d+\.\d+\n$", r.stdout)


def test_no_command_is_a_usage_error():
    r = skyctl()
    assert r.returncode == 2 and r.stdout == "" and r.stderr.startswith("usage:")


@pytest.mark.parametrize("args,msg", [
    (["lsit"], "unknown command 'lsit'"),
    (["logo"], "ambiguous command 'logo': logon, logoff"),
    (["list", "--bogus"], "unknown option '--bogus'"),
    (["list", ":a", "extra"], "list: too many arguments"),
    (["ping"], "ping: missing the target"),
    (["killtask", ":a"], "killtask: missing arguments"),
    (["ping", "zz"], "bad target 'zz'"),
    (["ping", ":123456789"], "bad target ':123456789'"),
    (["ping", ":a,,:b"], "empty item"),
    (["ping", "@"], "bad target '@'"),
    (["ping", "nosuchnode/:a"], "unknown node 'nosuchnode'"),
    (["list", "--timeout", "0"], "--timeout wants seconds"),
    (["list", "--timeout"], "needs SECONDS"),
    (["list", "-H", "nocolon"], "bad node address 'nocolon'"),
    (["list", "-H", "h:99999"], "bad node address"),
    (["list", "-a", "-H", "127.0.0.1:1"], "-a cannot be combined"),
    (["list", "-a"], "-a: no nodes"),
    (["stat", "--sort", "nosuch"], "cannot sort by 'nosuch' (one of: address, name, cpu"),
    (["ping", ":a", "--sort", "bogus"], "cannot sort by 'bogus'"),
    (["list", "--keep-going"], "unknown option '--keep-going'"),
])
def test_usage_errors(args, msg):
    with socket.socket() as node:       # a node that sees whether anyone connected
        node.bind(("127.0.0.1", 0))
        node.listen(1)
        host = "127.0.0.1:%d" % node.getsockname()[1]
        r = skyctl("-H", host, *args) if "-H" not in args and "-a" not in args else skyctl(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert msg in r.stderr, r.stderr
        assert r.stdout == ""
        node.setblocking(False)
        with pytest.raises(BlockingIOError):
            node.accept()       # nothing was sent: the usage error came first


def test_unique_prefix_runs_the_command():
    r = skyctl("vers")  # not an option: an unknown command
    assert r.returncode == 2
    r = skyctl("he", "pi")
    assert r.returncode == 0 and r.stdout.startswith("usage: skyctl [OPTIONS] ping")


def test_bad_node_file_is_a_local_error(tmp_path):
    conf = tmp_path / "nodes.lua"
    conf.write_text("nodes = { game1 = \n")
    r = skyctl("--config", conf, "-n", "game1", "list")
    assert r.returncode == 6 and str(conf) in r.stderr
    conf.write_text("nodes = { game1 = 8000 }\n")
    r = skyctl("--config", conf, "-n", "game1", "list")
    assert r.returncode == 6 and "host:port" in r.stderr
    r = skyctl("--config", tmp_path / "missing.lua", "list")
    assert r.returncode == 6 and "cannot read" in r.stderr


def test_node_file_is_evaluated_in_an_empty_environment(tmp_path):
    conf = tmp_path / "nodes.lua"
    conf.write_text('os.exit(3)\nnodes = { a = "127.0.0.1:1" }\n')
    r = skyctl("--config", conf, "-n", "a", "list")
    assert r.returncode == 6 and "os" in r.stderr


def test_closed_stdout_is_not_a_silent_success():
    p = subprocess.run([nodes.SKYCTL, "--help"], stdout=open("/dev/full", "w"),
                       stderr=subprocess.PIPE, text=True)
    assert p.returncode == 6 and "cannot write the output" in p.stderr
