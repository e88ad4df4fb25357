"""What differs between the skynet releases people run, from skyctl's side:
a console without dbgcmd (skynet 1.4, or the sandbox's console_version =
"1.4") where every agent command goes through `info` once debug mode routed
the service; one with dbgcmd but without getenv and setenv (1.5.0 to
1.7.0, or console_version = "1.7"), where skyctl says so; and the node's
Lua being the truth (a Lua 5.5 node compiles
5.5 scripts and REPL lines; a node of skyctl's own Lua gets the local syntax
check, with nothing sent to its services)."""
import json
import re

import pytest

import nodes
from cli_helpers import run_stdin, skyctl_at, write

FIX = """local balance
hotfix.replace(_P.lua.CMD, "deposit", function(n)
    balance = balance + 2 * n
    return balance
end)
print("patched")
"""
# Lua 5.5 only: a global declaration (5.4 reads `global` as a name)
FIX55 = "global print, _VERSION\nprint(\"five-five\", _VERSION)\n"


def console_node(backend, version, generation):
    """A node whose console is of generation (nodes.console_generation):
    the sandbox in its console_version mode, or a real skynet of that
    generation (other real releases skip)"""
    n = nodes.Node(backend, env={"console_version": version} if backend == "sandbox" else {})
    n.start()
    try:
        if nodes.console_generation(n) != generation:
            pytest.skip("this skynet's console is %s's" % nodes.console_generation(n))
        yield n
    finally:
        n.stop()


@pytest.fixture
def old_node(backend):
    """A node whose console has no dbgcmd: skynet 1.4's"""
    yield from console_node(backend, "1.4", "1.4")


def debug_modes(node, service):
    return node.log().count("[:%08x] Enter debug mode" % service)


def test_old_console_runs_every_agent_command(old_node, tmp_path, state):
    fix = write(tmp_path, "fix.lua", FIX)
    r = skyctl_at(state, "diff", ":a", fix, node=old_node)
    assert r.returncode == 0 and "would apply cleanly, 1 change" in r.stdout, r.stdout + r.stderr
    r = skyctl_at(state, "inject", "@agent", fix, node=old_node)
    assert r.returncode == 0 and "inject: 3 ok" in r.stdout, r.stdout + r.stderr
    r = skyctl_at(state, "call", ":b", '"deposit", 5', node=old_node)
    assert r.stdout.startswith("1\t10\n"), r.stdout
    r = skyctl_at(state, "patches", "@agent", node=old_node)
    assert r.returncode == 0 and "3 services, 1 patch in place, 0 drifting" in r.stderr, r.stderr
    r = skyctl_at(state, "rollback", ":b", node=old_node)
    assert r.returncode == 0 and "rollback: 1 ok" in r.stdout, r.stdout + r.stderr
    r = skyctl_at(state, "inject", "--no-agent", ":c", fix, node=old_node)
    assert r.returncode == 0 and "inject: 1 ok" in r.stdout, r.stdout + r.stderr
    # one debug mode routed each hub (:a, then :b for its rollback, :c for
    # the one-shot agent); the peers were reached from the hub
    assert [debug_modes(old_node, s) for s in (0xa, 0xb, 0xc)] == [1, 1, 1]


def test_old_console_routes_each_service_once(old_node, tmp_path, state):
    fix = write(tmp_path, "fix.lua", "print(1)\n")
    for _ in range(3):
        r = skyctl_at(state, "inject", ":b", fix, node=old_node)
        assert r.returncode == 0, r.stdout + r.stderr
    assert debug_modes(old_node, 0xb) == 1


def test_old_console_keeps_the_services_own_info(old_node, tmp_path, state):
    before = skyctl_at(state, "info", ":a", node=old_node)
    r = skyctl_at(state, "inject", ":a", write(tmp_path, "fix.lua", "print(1)\n"), node=old_node)
    assert r.returncode == 0, r.stdout + r.stderr
    after = skyctl_at(state, "info", ":a", node=old_node)
    assert after.returncode == 0 and after.stdout == before.stdout
    assert re.search(r"(?m)^balance\t0$", after.stdout), after.stdout


def test_old_console_repl(old_node, env):
    r = run_stdin(old_node, env, "1 + 1\nlocal t = {x = 3}\nt.x\n", ":a")
    assert r.returncode == 0 and r.stdout.split() == ["2", "3"], r.stdout + r.stderr


@pytest.fixture
def envless_node(backend):
    """A node whose console has dbgcmd but no getenv, setenv or HTTP POST:
    skynet 1.5's to 1.7's"""
    yield from console_node(backend, "1.7", "1.5-1.7")


def test_console_without_getenv_or_dbgcmd_says_so(old_node, state):
    for args in (("getenv", "thread"), ("setenv", "skyctl_key", "1")):
        r = skyctl_at(state, *args, node=old_node)
        assert (r.returncode, r.stdout) == (1, ""), args
        assert r.stderr == "skyctl: %s: %s: the node's console has no getenv or setenv " \
            "(skynet 1.8 added them)\n" % (old_node.address, " ".join(args)), r.stderr
    r = skyctl_at(state, "--json", "getenv", "thread", node=old_node)
    doc = json.loads(r.stdout)
    assert doc["rows"] == [] and doc["summary"]["status"] == 1, doc
    assert "debug mode" not in old_node.log()   # the agent was not tried there


def test_console_without_getenv_has_the_agents(envless_node, state):
    """skynet 1.5 to 1.7: getenv and setenv as 1.8's console does them, by
    the agent in the console's service, which registers nothing there"""
    before = skyctl_at(state, "list", node=envless_node).stdout
    r = skyctl_at(state, "getenv", "agents", node=envless_node)
    assert (r.returncode, r.stdout, r.stderr) == (0, "agents\t3\n", "")
    doc = json.loads(skyctl_at(state, "--json", "getenv", "nosuch", node=envless_node).stdout)
    assert doc["rows"] == [{"key": "nosuch", "value": None}] and doc["summary"]["status"] == 1
    assert skyctl_at(state, "setenv", "skyctl_key", "v1", node=envless_node).returncode == 0
    r = skyctl_at(state, "getenv", "skyctl_key", node=envless_node)
    assert (r.returncode, r.stdout) == (0, "skyctl_key\tv1\n"), r.stderr
    r = skyctl_at(state, "setenv", "skyctl_key", "v2", node=envless_node)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "skyctl: %s: setenv skyctl_key v2: Can't setenv exist key : " \
        "skyctl_key\n" % envless_node.address, r.stderr
    assert skyctl_at(state, "getenv", "skyctl_key", node=envless_node).stdout == \
        "skyctl_key\tv1\n"
    # no service started, none put in debug mode, no debug command of
    # skyctl's registered in the console's service
    assert skyctl_at(state, "list", node=envless_node).stdout == before
    assert "debug mode" not in envless_node.log()
    console = [l.split("\t")[0] for l in before.splitlines() if "debug_console" in l][0]
    with nodes.Console(envless_node.port) as c:
        for cmd in ("SKYCTL1", "SKYCTL", "SKYCTLP"):
            assert c.cmd("dbgcmd %s %s x" % (console, cmd))[1] == "Error", cmd


def test_console_without_getenv_runs_agent_commands_through_dbgcmd(envless_node, tmp_path,
                                                                    state):
    fix = write(tmp_path, "fix.lua", FIX)
    r = skyctl_at(state, "inject", "@agent", fix, node=envless_node)
    assert r.returncode == 0 and "inject: 3 ok" in r.stdout, r.stdout + r.stderr
    r = skyctl_at(state, "call", ":b", '"deposit", 5', node=envless_node)
    assert r.stdout.startswith("1\t10\n"), r.stdout
    r = skyctl_at(state, "rollback", "@agent", node=envless_node)
    assert r.returncode == 0 and "rollback: 3 ok" in r.stdout, r.stdout + r.stderr
    # dbgcmd reached every service: none entered debug mode
    assert "debug mode" not in envless_node.log()


def test_same_lua_node_gets_the_local_syntax_check(node, tmp_path, state):
    if nodes.lua_foreign(node):
        pytest.skip("this node runs Lua 5.5")
    r = skyctl_at(state, "inject", ":a", write(tmp_path, "g.lua", FIX55), node=node)
    assert r.returncode == 6 and r.stdout == ""
    assert r.stderr == "g.lua:1: syntax error near 'print'\n", r.stderr
    assert "debug mode" not in node.log()   # no service was reached


def lua55_node(backend):
    n = nodes.Node(backend).start()
    if not nodes.lua_foreign(n):
        n.stop()
        pytest.skip("this node runs skyctl's Lua (5.4)")
    return n


def test_lua55_script_injects_into_a_lua55_node(backend, tmp_path, state):
    n = lua55_node(backend)
    try:
        r = skyctl_at(state, "inject", "@agent", write(tmp_path, "g.lua", FIX55), node=n)
        assert r.returncode == 0 and "inject: 3 ok" in r.stdout, r.stdout + r.stderr
        assert "    five-five\tLua 5.5\n" in r.stdout
        r = skyctl_at(state, "diff", ":b", write(tmp_path, "g.lua", FIX55), node=n)
        assert r.returncode == 0 and "| five-five\tLua 5.5" in r.stdout, r.stdout + r.stderr
    finally:
        n.stop()


def test_lua55_node_reports_a_syntax_error_and_changes_nothing(backend, tmp_path, state):
    n = lua55_node(backend)
    try:
        ok = write(tmp_path, "ok.lua", FIX)
        bad = write(tmp_path, "bad.lua", "global x\nx = = 1\n")
        r = skyctl_at(state, "inject", "@agent", ok, bad, node=n)
        assert r.returncode == 6 and r.stdout == ""
        assert re.fullmatch(r"bad\.lua:2: unexpected symbol near '='\n", r.stderr), r.stderr
        r = skyctl_at(state, "patches", "@agent", node=n)
        assert "0 patches in place" in r.stderr, r.stderr
        r = skyctl_at(state, "call", ":a", '"deposit", 1', node=n)
        assert r.stdout.startswith("1\t1\n"), r.stdout
    finally:
        n.stop()


def test_lua55_repl_lines(backend, env):
    n = lua55_node(backend)
    try:
        r = run_stdin(n, env, "global y = 5\ny + 1\n", ":a")
        assert r.returncode == 0 and r.stdout.split() == ["6"], r.stdout + r.stderr
        r = run_stdin(n, env, "global z\nz = = 1\n", ":a")
        assert r.returncode == 1 and "repl:1: unexpected symbol near '='" in r.stderr, r.stderr
    finally:
        n.stop()


def test_jemalloc_figures(node):
    """skynet's default build links jemalloc: jmem, cmem and top's memory
    show its figures (a node without it skips)"""
    r = skyctl_at(node.dir + "/state", "jmem", "--json", node=node)
    assert r.returncode == 0, r.stderr
    stats = {row["key"]: row for row in json.loads(r.stdout)["rows"]}
    if not any(isinstance(v, int) and v > 0 for row in stats.values() for v in row.values()):
        pytest.skip("this node has no jemalloc (jmem reports zeros)")
    r = skyctl_at(node.dir + "/state", "cmem", node=node)
    rows = dict(line.split("\t") for line in r.stdout.splitlines())
    assert int(rows["total"]) > 0 and int(rows[":0000000a"]) > 0, r.stdout
    r = skyctl_at(node.dir + "/state", "top", "--once", "-d", "0.2", "--json", node=node)
    assert r.returncode == 0, r.stderr
    agents = [row for row in json.loads(r.stdout)["rows"] if row["name"].startswith("snlua agent")]
    assert len(agents) == 3 and all(row["mem"] > 0 for row in agents), agents
