"""man/skyctl.1 against the binary: lint-clean, every command and option
that `skyctl --help` and `skyctl CMD --help` list is documented (options
under their command), everything documented exists, and the environment
variables the code reads and the exit codes --help lists are all there."""
import glob
import os
import re
import shutil
import subprocess

import pytest

import nodes
from cli_helpers import listed_commands, skyctl

pytestmark = pytest.mark.skipif(not os.path.exists(nodes.SKYCTL), reason="no skyctl binary")

MAN = os.path.join(nodes.ROOT, "man", "skyctl.1")


def source():
    with open(MAN) as f:
        return f.read()


def section(name):
    """the mdoc source of section .Sh name"""
    m = re.search(r"^\.Sh %s\n(.*?)(?=^\.Sh |\Z)" % name, source(), re.M | re.S)
    assert m, "no section %s" % name
    return m.group(1)


def man_commands():
    """{command: its source in the COMMANDS list}"""
    parts = re.split(r"^\.It Cm (\S+).*\n", section("COMMANDS"), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def pending():
    """what the page documents ahead of the code (its "pending:" comment)"""
    m = re.search(r'^\.\\" pending: (.*)$', source(), re.M)
    return set(m.group(1).split()) if m else set()


def mentioned(text):
    """the options named in mdoc text: {"--sort", "-d", ...}"""
    return {"-" + o.replace("\\-", "-") for o in re.findall(r"\bFl (\\-[\w-]+|\w)\b", text)}


def defined(text):
    """the options an .It line of text defines"""
    return mentioned("\n".join(re.findall(r"^\.It Fl .*$", text, re.M)))


def help_options(cmd, block):
    """the options in block ("Options" or "Global options") of CMD --help,
    long and short: {"--delay", "-d", ...}"""
    out = skyctl(*([cmd] if cmd else []), "--help").stdout
    m = re.search(r"^%s:\n(.*?)(?:\n\n|\Z)" % block, out, re.M | re.S)
    found = set()
    for line in (m.group(1).splitlines() if m else []):
        short, lng = re.match(r"  (?:(-\w), )?\s*(--[\w-]+)", line).groups()
        found |= {lng} | ({short} if short else set())
    return found


def test_lint_clean():
    if not shutil.which("mandoc"):
        pytest.skip("mandoc is not installed")
    r = subprocess.run(["mandoc", "-Tlint", MAN], capture_output=True, text=True)
    # Xr checks against the local mandoc.db say nothing about the page
    msgs = [l for l in (r.stdout + r.stderr).splitlines() if "mandoc.db lacks" not in l]
    assert msgs == []


def test_every_listed_command_is_documented():
    documented = man_commands()
    for cmd in listed_commands():
        assert cmd in documented, "skyctl %s is missing from the man page" % cmd
        assert cmd not in pending(), "%s has landed: drop it from the pending line" % cmd


def test_every_documented_command_exists():
    listed = set(listed_commands())
    ahead = set(man_commands()) - listed
    assert ahead <= pending(), "documented but not in skyctl --help: %s" % sorted(ahead)


def test_global_options_are_documented():
    opts = help_options(None, "Options \\(also accepted after the command\\)")
    assert "--host" in opts and "-H" in opts
    assert opts <= defined(section("OPTIONS")), opts - defined(section("OPTIONS"))
    assert defined(section("OPTIONS")) <= opts


@pytest.mark.parametrize("cmd", listed_commands())
def test_command_options_are_documented_under_the_command(cmd):
    text = man_commands()[cmd]
    own = help_options(cmd, "Options")
    assert own <= mentioned(text), "%s: %s" % (cmd, sorted(own - mentioned(text)))
    accepted = own | help_options(cmd, "Global options") | pending()
    assert mentioned(text) <= accepted, "%s: %s" % (cmd, sorted(mentioned(text) - accepted))


def test_every_documented_option_exists():
    every = set(pending())
    for cmd in listed_commands():
        every |= help_options(cmd, "Options") | help_options(cmd, "Global options")
    assert mentioned(source()) <= every, sorted(mentioned(source()) - every)


def test_pending_items_have_not_landed():
    every = set(listed_commands())
    for cmd in listed_commands():
        every |= help_options(cmd, "Options")
    landed = pending() & every
    assert not landed, "in skyctl's help now: drop %s from the pending line" % sorted(landed)


def test_environment_variables_the_code_reads():
    code = ""
    for path in glob.glob(os.path.join(nodes.ROOT, "src", "*.c")) + \
            glob.glob(os.path.join(nodes.ROOT, "cli", "*.c")):
        with open(path) as f:
            code += f.read()
    read = set(re.findall(r'getenv\("([A-Z_]+)"\)', code))
    assert {"SKYCTL_HOST", "NO_COLOR"} <= read
    documented = set(re.findall(r"^\.It Ev (\w+)", section("ENVIRONMENT"), re.M))
    assert read <= documented, sorted(read - documented)


def test_exit_codes_match_help():
    out = skyctl("--help").stdout
    codes = re.findall(r"^  (\d)  ", out.split("Exit status:")[1], re.M)
    documented = re.findall(r"^\.It (\d)$", section("EXIT STATUS"), re.M)
    assert codes == documented == [str(i) for i in range(7)]


def test_files_and_permissions():
    text = section("FILES")
    for f in ("config.lua", "history/", "sessions/", "audit.log"):
        assert f in text
    assert "0700" in text and "0600" in text


def test_ssh_address_form():
    assert re.search(r"ssh://.*Oo Ar user Ns @ Oc.*sshport.*Oo Ar ip : Oc Ns Ar port",
                     section("NODES"))
