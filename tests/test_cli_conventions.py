"""What a Unix user expects of any command line: --version anywhere, help
for every command two ways, "did you mean" for a typo, "--" ending the
options, and one meaning per option name across every command."""
import os
import re

import pytest

import nodes
from cli_helpers import listed_commands, skyctl

pytestmark = pytest.mark.skipif(not os.path.exists(nodes.SKYCTL), reason="no skyctl binary")


@pytest.mark.parametrize("typo,hint", [
    ("lsit", "'list'"),
    ("lst", "'list'"),
    ("stukc", "'stuck'"),
    ("inejct", "'inject'"),
    ("rpl", "'repl'"),
    ("mme", "'mem'"),
    ("stert", "'start'"),
    ("losoff", "'logoff'"),
])
def test_mistyped_command_gets_a_hint(typo, hint):
    r = skyctl(typo)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == "skyctl: unknown command '%s'; did you mean %s?\n" % (typo, hint)


def test_equally_close_commands_are_all_offered():
    r = skyctl("logn")  # log: one insertion too many; logon: one letter missing
    assert r.returncode == 2
    assert r.stderr == "skyctl: unknown command 'logn'; did you mean 'log' or 'logon'?\n"


@pytest.mark.parametrize("word", ["xyzzy", "x", "qq"])
def test_far_words_get_no_guess(word):
    r = skyctl(word)
    assert r.returncode == 2
    assert r.stderr == "skyctl: unknown command '%s' (see skyctl --help)\n" % word


@pytest.mark.parametrize("args,msg", [
    (["list", "--sotr", "cpu"], "list: unknown option '--sotr'; did you mean '--sort'?"),
    (["top", "--iteration", "2"], "top: unknown option '--iteration'; did you mean '--iterations'?"),
    (["--hots", "x", "list"], "unknown option '--hots'; did you mean '--host'?"),
    (["list", "--jsno"], "list: unknown option '--jsno'; did you mean '--json'?"),
])
def test_mistyped_option_gets_a_hint(args, msg):
    r = skyctl(*args)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.splitlines()[0] == "skyctl: " + msg


def test_options_of_other_commands_and_far_words_get_no_guess():
    r = skyctl("list", "--keep-going")  # inject's: no hint towards it
    assert r.stderr.startswith("skyctl: list: unknown option '--keep-going'\n")
    r = skyctl("list", "--x")
    assert r.stderr.startswith("skyctl: list: unknown option '--x'\n")


def test_usage_errors_name_the_command_once():
    r = skyctl("--bogus")
    assert r.returncode == 2 and r.stderr == "skyctl: unknown option '--bogus'\n"
    r = skyctl("list", "--json=1")
    assert r.stderr == ("skyctl: list: option '--json' takes no value\n"
                        "usage: skyctl [OPTIONS] list [TARGET] (see skyctl list --help)\n")


def test_help_of_a_typo_gets_the_hint_too():
    r = skyctl("help", "lsit")
    assert r.returncode == 2 and r.stdout == ""
    assert "did you mean 'list'?" in r.stderr


@pytest.mark.parametrize("args", [["--version"], ["list", "--version"],
                                  ["--version", "inject"], ["help", "--version"]])
def test_version_anywhere(args):
    r = skyctl(*args)
    assert r.returncode == 0 and r.stderr == ""
    assert re.fullmatch(r"skyctl \d+\.\d+\.\d+\n", r.stdout)


@pytest.mark.parametrize("cmd", ["list", "inject", "top", "history", "repl"])
def test_help_cmd_is_cmd_dash_dash_help(cmd):
    a, b = skyctl("help", cmd), skyctl(cmd, "--help")
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout and "Global options:" in a.stdout


def test_dashdash_ends_options(sandbox_node):
    # "--foo" is sent as a console line, not read as an option
    r = skyctl("raw", "--", "--foo", node=sandbox_node)
    assert r.returncode == 1 and "Invalid command" in r.stderr + r.stdout
    assert "unknown option" not in r.stderr
    # a target after "--"
    r = skyctl("ping", "--", ":a", node=sandbox_node)
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"\d+\.\d\d\n", r.stdout)


def test_dashdash_before_the_command_is_a_usage_error():
    r = skyctl("--", "list")
    assert r.returncode == 2 and r.stderr == "skyctl: '--' before a command\n"


def test_inject_dashdash_still_separates_script_args(sandbox_node, tmp_path):
    fix = tmp_path / "args.lua"
    fix.write_text("print(...)\n")
    r = skyctl("inject", ":a", fix, "--", "--not-an-option", "x", node=sandbox_node,
               env={"XDG_STATE_HOME": str(tmp_path / "state")})
    assert r.returncode == 0, r.stderr
    assert "--not-an-option\tx" in r.stdout
    r = skyctl("inject", ":a", "--", "x", node=sandbox_node)
    assert r.returncode == 2 and "inject: missing arguments" in r.stderr


def test_history_options_are_real_options(tmp_path):
    env = {"XDG_STATE_HOME": str(tmp_path)}
    r = skyctl("history", "--help")
    assert "--grep PATTERN" in r.stdout and "--session ID" in r.stdout
    r = skyctl("history", "--session", "nosuch", env=env)
    assert r.returncode != 0 and "no session" in r.stderr
    r = skyctl("history", "--session=a", "b", env=env)
    assert r.returncode == 2 and "two sessions" in r.stderr
    r = skyctl("list", "--grep", "x")
    assert r.returncode == 2 and "list: unknown option '--grep'" in r.stderr


# The one overload, as issue 5 names it: `rollback --all` is every patch;
# every node stays -a (the help says so).
OVERLOADS = {("rollback", "all")}


def option_lines(cmd):
    """{long name: (short, argument, help)} from `skyctl CMD --help`"""
    out = skyctl(cmd, "--help").stdout
    opts = {}
    for m in re.finditer(r"^  (?:-(\w), )?\s*--([\w-]+)(?: ([A-Z:]+))?\s+(.*)$", out, re.M):
        short, lng, arg, text = m.groups()
        if (cmd, lng) in OVERLOADS and short is None:  # not the global -a, --all
            assert "-a" in text, "rollback --all must point at -a for every node"
            continue
        assert lng not in opts or opts[lng] == (short, arg, text), (cmd, lng)
        opts[lng] = (short, arg, text)
    return opts


def test_an_option_name_means_one_thing_everywhere():
    seen = {}
    for cmd in listed_commands():
        for lng, spec in option_lines(cmd).items():
            assert seen.setdefault(lng, (cmd, spec))[1] == spec, \
                "--%s: %s in %s, %s in %s" % (lng, seen[lng][1], seen[lng][0], spec, cmd)
    assert {"host", "node", "all", "timeout", "json"} <= set(seen)
