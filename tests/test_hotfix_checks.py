"""Hot-fix safety, against the sandbox and real skynet (the `ledger`
service keeps its data in upvalues and `skynet` in a local): the usual
mistakes are caught from the live service with the message a user needs
(a misspelt upvalue, a global the service lacks, a key that is not there,
a parameter count that changed); a dry run leaves the service's data as it
was, and shows what the script wrote; a failed inject undoes its data
writes too; the same patch again is a no-op; a script changing nothing is
not journaled; the journal keeps arguments and who; code changed at a
prompt through the hotfix helpers is journaled."""
import json
import re

import pytest

import nodes
from cli_helpers import skyctl_at, write
from inject_client import Client, Conn, call, script


@pytest.fixture
def ledger(backend):
    n = nodes.Node(backend, agents=1, services=["ledger"]).start()
    con = Conn(n.port)
    out, _ = con.cmd("list")
    n.ledger = re.search(r"^:(\w+)\tsnlua ledger", out, re.M).group(1)
    n.con = con
    call(con, n.ledger, '"deposit", "alice", 5')
    yield n
    con.close()
    n.stop()


def ask(n, expr):
    """the first value the ledger returns for a call"""
    return call(n.con, n.ledger, expr).split("\n")[0].split("\t")[1]


def journal(n):
    c = Client(n.port)
    try:
        return c.request(n.ledger, {"op": "journal"})["journal"]
    finally:
        c.close()


def json_result(r):
    [rec] = json.loads(r.stdout)["targets"]
    return rec["result"]


TYPO = """local accounts, cuont
hotfix.replace(_P.lua.CMD, "deposit", function(name, n)
    accounts[name] = (accounts[name] or 0) + n
    cuont = cuont + 1
    return accounts[name]
end)
"""

GLOBAL = """local accounts, count
hotfix.replace(_P.lua.CMD, "deposit", function(name, n, note)
    skynet.error("deposit", name, n, note)
    accounts[name] = (accounts[name] or 0) + n
    count = count + 1
    return accounts[name]
end)
"""

# the new function reads as globals what the old one keeps in upvalues
UNDECLARED = """hotfix.replace(_P.lua.CMD, "deposit", function(name, n)
    accounts[name] = (accounts[name] or 0) + n
    return accounts[name]
end)
"""

# TYPO's fix with the other name misspelt: a global one edit from an upvalue
MISSPELT_GLOBAL = TYPO.replace("cuont", "count").replace("    accounts[name] = (",
                                                          "    acounts[name] = (")


@pytest.mark.parametrize("src, msg", [
    (TYPO, "cuont: no upvalue of that name in deposit (ledger.lua:11); did you mean count?"),
    (UNDECLARED, "accounts: a global in deposit (read at fix.lua:2), nil in the service, but "
                 "an upvalue of the function it replaces (ledger.lua:11): declare `local "
                 "accounts` in the script, and hotfix.replace joins it"),
    (MISSPELT_GLOBAL, "acounts: global is nil in the service (read at fix.lua:3, in deposit); "
                      "did you mean accounts?"),
], ids=["misspelt-upvalue", "undeclared-upvalue", "misspelt-global"])
def test_a_name_that_misses_the_service_is_an_error_and_inject_refuses_it(
        ledger, tmp_path, state, src, msg):
    fix = write(tmp_path, "fix.lua", src)
    r = skyctl_at(state, "diff", ":" + ledger.ledger, fix, node=ledger)
    assert r.returncode == 1 and "! error: " + msg in r.stdout, r.stdout
    r = skyctl_at(state, "inject", ":" + ledger.ledger, fix, node=ledger)
    assert r.returncode == 1 and msg in r.stdout, r.stdout
    assert ask(ledger, '"deposit", "alice", 1') == "6"     # the old code still runs
    assert journal(ledger) == []


def test_force_applies_a_refused_patch(ledger):
    c = Client(ledger.port)
    try:
        rep = c.request(ledger.ledger, {"op": "apply", "scripts": [script(TYPO)], "force": True})
    finally:
        c.close()
    assert rep["ok"] and rep["scripts"][0]["lint"][0]["level"] == "error"
    assert [e["name"] for e in journal(ledger)] == ["fix.lua"]


def test_nil_global_and_parameter_count_are_warnings(ledger, tmp_path, state):
    fix = write(tmp_path, "fix.lua", GLOBAL)
    r = skyctl_at(state, "diff", "--json", ":" + ledger.ledger, fix, node=ledger)
    assert r.returncode == 0, r.stdout + r.stderr
    lint = {(l["level"], l["msg"]) for l in json_result(r)["scripts"][0]["lint"]}
    assert lint == {
        ("warning", "skynet: global is nil in the service (read at fix.lua:3, in deposit)"),
        ("warning", "deposit: the new function (fix.lua:2) takes 3 parameters, the one it "
                    "replaces (ledger.lua:11) took 2"),
    }
    assert ask(ledger, '"get", "alice"') == "5"


def test_replacing_a_missing_key_is_an_error(ledger, tmp_path, state):
    fix = write(tmp_path, "fix.lua", 'hotfix.replace(_P.lua.CMD, "depost", function() end)\n')
    r = skyctl_at(state, "inject", ":" + ledger.ledger, fix, node=ledger)
    assert r.returncode == 1
    assert ('hotfix.replace at fix.lua:1: _P.lua.CMD has no key "depost" to replace '
            '(to add one, assign it)') in r.stdout, r.stdout
    assert ledger.con.cmd("call %s \"depost\"" % ledger.ledger)[1] == "Error"


@pytest.mark.parametrize("reach", [
    'local accounts = hotfix.getupvalue(_P.lua.CMD.deposit, "accounts")\n',
    'local accounts = hotfix.upvalues(_P.lua.CMD.get).accounts\n',
    'local _, accounts = debug.getupvalue(_P.lua.CMD.get, 1)\n',
])
def test_a_dry_run_leaves_data_as_it_was(ledger, tmp_path, state, reach):
    src = reach + "accounts.mallory = 1000000\naccounts.alice = nil\n"
    r = skyctl_at(state, "diff", ":" + ledger.ledger, write(tmp_path, "steal.lua", src),
                  node=ledger)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^  \+ \(upvalue accounts of _P\.lua\.CMD\.\w+\)\.mallory +1000000$",
                     r.stdout, re.M), r.stdout
    assert re.search(r"^  - \(upvalue accounts of _P\.lua\.CMD\.\w+\)\.alice +5$",
                     r.stdout, re.M), r.stdout
    assert ask(ledger, '"names"') == "alice" and ask(ledger, '"get", "alice"') == "5"


def test_a_failed_inject_undoes_its_data_writes(ledger, tmp_path, state):
    src = ('local accounts = hotfix.getupvalue(_P.lua.CMD.deposit, "accounts")\n'
           'accounts.alice = 0\n_P.lua.CMD.get = nil\nerror("half-way")\n')
    r = skyctl_at(state, "inject", ":" + ledger.ledger, write(tmp_path, "bad.lua", src),
                  node=ledger)
    assert r.returncode == 1
    assert "bad.lua:4: half-way (all its changes undone)" in r.stdout, r.stdout
    assert ask(ledger, '"get", "alice"') == "5"
    r = skyctl_at(state, "inject", "--json", ":" + ledger.ledger, write(tmp_path, "bad.lua", src),
                  node=ledger)
    res = json_result(r)
    assert res["undone"] == 2 and "stuck" not in res


# A snapshot starts with the _P tables and grows as the script reaches
# further: a module it requires, a metatable, _G through _U, and anything
# once it calls the service's code (here deposit, writing its accounts).
REACH = """local skynet = require "skynet"
skynet.hotfix_mark = 1
getmetatable("").__index.hotfix_mark = 2
_U._ENV.hotfix_mark = 3
_P.lua.CMD.deposit("bob", 7)
assert(rawget(_P.lua, "CMD") == _P.lua.CMD)
"""


def added(r, marks):
    """r's output adds each (path pattern, value) of marks"""
    for path, value in marks:
        assert re.search(r"^  \+ %s +%s$" % (path, value), r.stdout, re.M), r.stdout


def diff_twice(state, ledger, script, marks):
    """diff shows marks, twice: the first dry run left nothing behind"""
    for _ in range(2):
        r = skyctl_at(state, "diff", ":" + ledger.ledger, script, node=ledger)
        assert r.returncode == 0, r.stdout + r.stderr
        added(r, marks)


def test_what_a_script_reaches_beyond_P_is_tracked_and_undone(ledger, tmp_path, state):
    marks = [(r"package\.loaded\.skynet\.hotfix_mark", "1"),
             (r"package\.loaded\.string\.hotfix_mark", "2"), (r"_G\.hotfix_mark", "3"),
             (r"\(upvalue accounts of _P\.lua\.CMD\.\w+\)\.bob", "7")]
    reach = write(tmp_path, "reach.lua", REACH)
    diff_twice(state, ledger, reach, marks)
    assert ask(ledger, '"get", "bob"') == "0"
    bad = write(tmp_path, "bad.lua", REACH + 'error("half-way")\n')
    r = skyctl_at(state, "inject", ":" + ledger.ledger, bad, node=ledger)
    assert r.returncode == 1 and "bad.lua:7: half-way (its 4 tracked changes undone" in r.stdout, \
        r.stdout
    assert ask(ledger, '"get", "bob"') == "0"
    added(skyctl_at(state, "diff", ":" + ledger.ledger, reach, node=ledger), marks)


# _P's tables and _U's are copied as the script reaches them: read through
# _P or _U, or taken with rawget or next, which find them there as in a
# stock inject.
RAW = """_U.proto.u_mark = 3
local CMD = rawget(_P.lua, "CMD")
CMD.raw_mark = 1
for k, v in next, _P.lua do
    if k == "CMD" then v.next_mark = 2 end
end
"""


def test_P_and_U_tables_reached_raw_are_tracked_and_undone(ledger, tmp_path, state):
    marks = [(r"_P\.lua\.CMD\.raw_mark", "1"), (r"_P\.lua\.CMD\.next_mark", "2"),
             (r"_U\.proto\.u_mark", "3")]
    raw = write(tmp_path, "raw.lua", RAW)
    diff_twice(state, ledger, raw, marks)
    bad = write(tmp_path, "bad.lua", RAW + 'error("half-way")\n')
    r = skyctl_at(state, "inject", ":" + ledger.ledger, bad, node=ledger)
    assert r.returncode == 1 and "bad.lua:7: half-way (all its changes undone)" in r.stdout, \
        r.stdout
    added(skyctl_at(state, "diff", ":" + ledger.ledger, raw, node=ledger), marks)


def test_service_code_reached_through_pcall_is_tracked(ledger, tmp_path, state):
    src = 'pcall(_P.lua.CMD.deposit, "carol", 3)\n'
    r = skyctl_at(state, "diff", ":" + ledger.ledger, write(tmp_path, "via.lua", src),
                  node=ledger)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^  \+ \(upvalue accounts of _P\.lua\.CMD\.\w+\)\.carol +3$",
                     r.stdout, re.M), r.stdout
    assert ask(ledger, '"get", "carol"') == "0"


def test_the_same_patch_again_is_a_no_op(ledger, tmp_path, state):
    fix = write(tmp_path, "fix.lua", GLOBAL.replace("skynet.error", "print"))
    assert skyctl_at(state, "inject", ":" + ledger.ledger, fix, node=ledger).returncode == 0
    r = skyctl_at(state, "inject", "--json", ":" + ledger.ledger, fix, node=ledger)
    assert r.returncode == 0
    assert json_result(r)["scripts"][0]["already"] == 1
    assert [e["id"] for e in journal(ledger)] == [1]
    # rolled back, it is no longer in place: applied again as a new patch
    assert skyctl_at(state, "rollback", ":" + ledger.ledger, node=ledger).returncode == 0
    assert skyctl_at(state, "inject", ":" + ledger.ledger, fix, node=ledger).returncode == 0
    assert [e["id"] for e in journal(ledger) if e["kind"] == "apply"] == [1, 3]


def test_a_script_changing_nothing_is_not_journaled(ledger, tmp_path, state):
    diag = write(tmp_path, "diag.lua", 'print("count", _P.lua.CMD.count())\n')
    r = skyctl_at(state, "inject", ":" + ledger.ledger, diag, node=ledger)
    assert r.returncode == 0 and "count\t1" in r.stdout
    assert journal(ledger) == []
    r = skyctl_at(state, "patches", "--exit-code", ":" + ledger.ledger, node=ledger)
    assert r.returncode == 0, r.stdout


def test_a_global_the_script_sets_is_said_to_stay_in_the_script(ledger, tmp_path, state):
    # a plain assignment lands in the script's own environment (as in a
    # stock inject): the service's _G never sees it
    src = 'RELEASE = "1.2.3"\n'
    r = skyctl_at(state, "inject", ":" + ledger.ledger, write(tmp_path, "tag.lua", src),
                  node=ledger)
    assert r.returncode == 0, r.stderr
    assert ("    ! warning: RELEASE: a global of the script's own environment, gone with the "
            "run: the service's _G is unchanged (_G.RELEASE = ... sets it there)"
            in r.stdout.splitlines()), r.stdout
    # where a function the script installs keeps that environment, it reads them
    src = 'LIMIT = 10\n_P.lua.CMD.under = function(n) return n < LIMIT end\n'
    r = skyctl_at(state, "inject", ":" + ledger.ledger, write(tmp_path, "under.lua", src),
                  node=ledger)
    assert r.returncode == 0 and "warning" not in r.stdout, r.stdout
    assert ask(ledger, '"under", 3') == "true"


def test_the_journal_keeps_arguments_and_who(ledger, tmp_path, state):
    src = "local n = ...\n_P.lua.CMD.limit = function() return tonumber(n) end\n"
    r = skyctl_at(state, "inject", ":" + ledger.ledger, write(tmp_path, "limit.lua", src),
                  "--", "500", node=ledger)
    assert r.returncode == 0, r.stdout + r.stderr
    [e] = journal(ledger)
    assert e["args"] == {1: "500"} or e["args"] == ["500"]
    assert re.match(r"^\S+@\S+$", e["who"]) and e["time"] > 0
    assert ask(ledger, '"limit"') == "500"


def at_prompt(ledger, session, src):
    """the agent's reply to a line typed at a repl prompt of the ledger"""
    c = Client(ledger.port)
    try:
        return c.request(ledger.ledger, {"op": "eval", "session": session, "src": src})
    finally:
        c.close()


def test_code_changed_at_a_prompt_is_journaled(ledger, tmp_path, state):
    rep = at_prompt(ledger, "s1", 'hotfix.replace(_P.lua.CMD, "count", function() return -1 end)')
    assert rep["ok"], rep
    assert any("journaled as patch #1" in l for l in rep["out"]), rep
    rep = at_prompt(ledger, "s1", "1 + 1")
    assert not any("journaled" in l for l in (rep.get("out") or []))
    assert [e["name"] for e in journal(ledger)] == ["repl s1"]
    assert ask(ledger, '"count"') == "-1"
    r = skyctl_at(state, "rollback", ":" + ledger.ledger, node=ledger)
    assert r.returncode == 0 and "#1 repl s1" in r.stdout, r.stdout
    assert ask(ledger, '"count"') == "1"


def test_a_metatable_set_at_a_prompt_is_journaled(ledger, tmp_path, state):
    # a metatable decides what a table does (here: every missing command
    # answers): code as much as a function is
    rep = at_prompt(ledger, "s2", 'setmetatable(_P.lua.CMD, {__index = function() '
                    'return function() return "any" end end})')
    assert rep["ok"], rep
    assert any("journaled as patch #1: 1 change" in l for l in rep["out"]), rep
    assert ask(ledger, '"nosuch"') == "any"
    r = skyctl_at(state, "rollback", ":" + ledger.ledger, node=ledger)
    assert r.returncode == 0 and "#1 repl s2" in r.stdout, r.stdout
    assert ledger.con.cmd('call %s "nosuch"' % ledger.ledger)[1] == "Error"
