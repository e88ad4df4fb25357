"""The bash, zsh and fish completions, each run in its real shell: commands,
options per command, node names from the node file, addresses and @names
from a live sandbox node, nothing (and no noise) when the node is down,
local files for scripts."""
import os

import pytest

import nodes
import shell_complete
from cli_helpers import skyctl, tsv

pytestmark = pytest.mark.skipif(not os.path.exists(nodes.SKYCTL), reason="no skyctl binary")


@pytest.fixture
def home(tmp_path, sandbox_node):
    """a node file naming the sandbox (game1) and a dead node (game2); the
    default node is dead too; a script in the working directory"""
    conf = tmp_path / "config" / "skyctl"
    conf.mkdir(parents=True)
    (conf / "config.lua").write_text('nodes = { game1 = "%s", game2 = "127.0.0.1:%d" }\n'
                                     % (sandbox_node.address, nodes.free_port()))
    work = tmp_path / "work"
    work.mkdir()
    (work / "fix.lua").write_text("return 1\n")
    (work / "fig.txt").write_text("")
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_STATE_HOME": str(tmp_path / "state"),
           "SKYCTL_HOST": "127.0.0.1:%d" % nodes.free_port()}
    return env, str(work)


@pytest.fixture(params=shell_complete.SHELLS)
def sh(request, home):
    why = shell_complete.missing(request.param)
    if why:
        pytest.skip(why)
    s = shell_complete.start(request.param, *home)
    yield s
    s.close()


def addresses(node):
    return [row[0] for row in tsv(skyctl("list", node=node).stdout)]


def test_commands(sh):
    assert sh.candidates("skyctl pi") == ["ping"]
    assert sorted(sh.candidates("skyctl st")) == ["start", "stat", "stuck"]
    assert sh.candidates("skyctl help inj") == ["inject"]


def test_options_are_per_command(sh):
    assert sh.candidates("skyctl top --it") == ["--iterations"]
    assert sorted(sh.candidates("skyctl stuck --s")) == ["--signal", "--sort"]
    assert sh.candidates("skyctl inject --can") == ["--canary", "--canary-wait"]
    assert sh.candidates("skyctl list --can") == []
    assert sh.candidates("skyctl --ver") == ["--version"]


def test_option_values(sh):
    assert sorted(sh.candidates("skyctl -n game")) == ["game1", "game2"]
    assert sorted(sh.candidates("skyctl list --sort=")) == ["--sort=address", "--sort=name"]
    assert sh.candidates("skyctl stat --sort cp") == ["cpu"]


def test_node_prefixes_from_the_node_file(sh):
    assert sorted(sh.candidates("skyctl ping ga")) == ["game1/", "game2/"]


def test_addresses_and_names_from_the_live_node(sh, sandbox_node):
    assert sorted(sh.candidates("skyctl ping game1/:")) == \
        sorted("game1/" + a for a in addresses(sandbox_node))
    assert sh.candidates("skyctl ping game1/@ag") == ["game1/@agent"]
    assert sh.candidates("skyctl -n game1 kill :0000000a,@ag") == [":0000000a,@agent"]
    assert sh.candidates("skyctl -H %s repl :0000000a" % sandbox_node.address) == [":0000000a"]
    # rollback's own --all (every patch) is not -a (every node)
    assert sh.candidates("skyctl -n game1 rollback --all :0000000a") == [":0000000a"]


def test_silent_when_the_node_is_down(sh, sandbox_node):
    assert sh.candidates("skyctl ping game2/:") == []
    assert sh.candidates("skyctl ping :") == []  # the default node: dead
    sandbox_node.stop()
    assert sh.candidates("skyctl -n game1 ping :") == []


def test_files_for_scripts(sh):
    assert sh.candidates("skyctl inject game1/@agent fix") == ["fix.lua"]
    assert sorted(sh.candidates("skyctl inject :a fix.lua fi")) == ["fig.txt", "fix.lua"]
    assert sh.candidates("skyctl --config=fig") == ["--config=fig.txt"]
    assert sorted(sh.candidates("skyctl apply fi")) == ["fig.txt", "fix.lua"]   # a set's DIR
    assert sh.candidates("skyctl ping :a fi") == []  # ping takes no file


def test_history_session_ids(sh, home, sandbox_node):
    env, _ = home
    assert sh.candidates("skyctl history ") == []  # no session yet
    r = skyctl("repl", ":a", node=sandbox_node, env=env, input="1+1\n")
    assert r.returncode == 0, r.stderr
    sid = skyctl("history", env=env).stdout.split("\t")[0]
    assert sh.candidates("skyctl history ") == [sid]
    assert sh.candidates("skyctl history --session " + sid[:4]) == [sid]


def test_bash_registers_the_function_and_keeps_quiet(home, sandbox_node):
    why = shell_complete.missing("bash")
    if why:
        pytest.skip(why)
    sandbox_node.stop()
    r = shell_complete.Bash(*home).run("skyctl -n game1 ping :")
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""


def test_complete_command_output(home):
    env, cwd = home
    r = skyctl("complete", "--", "ping", "game1/:0000000a", env=env)
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout == "words\ngame1/:0000000a\tsnlua agent 1\n"
    r = skyctl("complete", "--", "-n", "game1", "top", "@ag", env=env)
    assert r.stdout == "words\n@agent\t3 services\n" and r.stderr == ""
    r = skyctl("complete", "--", "inject", ":a", "", env=env)
    assert r.returncode == 0 and r.stdout == "files\n"
    r = skyctl("complete", "--", "ping", "ga", env=env)
    assert r.stdout.startswith("words\ngame1/\ton node 127.0.0.1:")
    r = skyctl("complete", "--", "nosuch", "", env=env)
    assert r.returncode == 0 and r.stdout == "words\n" and r.stderr == ""


def test_bash_readline_completes_after_colons_and_at_signs(home, sandbox_node):
    """what readline itself inserts on TAB, word breaks (':' '@') and all"""
    why = shell_complete.missing("bash")
    if why:
        pytest.skip(why)
    pexpect = pytest.importorskip("pexpect", reason="drives an interactive bash")
    env, cwd = home
    b = pexpect.spawn("bash", ["--norc", "--noprofile", "-i"], cwd=cwd, encoding="utf-8",
                      env=shell_complete.environment(dict(env, PS1="$ ", TERM="dumb")),
                      timeout=20)
    try:
        b.sendline("source %s/skyctl.bash; echo READY" % shell_complete.COMPLETIONS)
        b.expect("\nREADY")
        for typed, line in [("skyctl -n game1 kill :0000000a,@ag", ":0000000a,@agent "),
                            ("skyctl ping game1/:0000000", None),
                            ("skyctl ping game1/@ag", "game1/@agent "),
                            ("skyctl -n gam", "-n game")]:
            # TAB, then turn the line into an echo of itself and run it
            b.send(typed + "\t" + ("\t" if line is None else "") + "\x01echo \"[\x05]\"\n")
            b.expect(r"\n\[(.*)\]\r?\n")
            got = b.match.group(1)
            if line is None:  # several candidates: the common part is inserted
                assert got == "skyctl ping game1/:0000000", got
            else:
                assert got.endswith(line), got
    finally:
        b.close(force=True)
