"""`skyctl rollback`: the built binary against the `node` fixture (sandbox,
and real skynet when SKYNET_ROOT is set).  The old code comes back and state
changed since the patch stays; an item changed since the patch is a
conflict, left alone (exit 1) until --force; --patch ID rolls back that
patch and every later one, --all every one; the journal and the local audit
log record it; batches stop at the first failure unless --keep-going;
--json."""
import json
import re

from cli_helpers import skyctl_at, write
from inject_client import Conn, call

FIX = """local CMD = _P.lua.CMD
local balance
hotfix.replace(CMD, "deposit", function(n)
    balance = balance + 2 * n
    return balance
end)
"""

SETBAL = """local CMD = _P.lua.CMD
hotfix.setupvalue(CMD.balance, "balance", 100)
CMD.bonus = function() return "bonus" end
"""


def add(name):
    return '_P.lua.CMD.%s = function() return "%s" end\n' % (name, name)


def test_rollback_restores_code_and_keeps_state(node, tmp_path, state):
    con = Conn(node.port)
    call(con, "a", '"deposit", 5')
    fix = write(tmp_path, "fix.lua", FIX)
    assert skyctl_at(state, "inject", ":a", fix, node=node).returncode == 0
    assert call(con, "a", '"deposit", 1') == "1\t7\nn\t1"  # patched: doubles
    r = skyctl_at(state, "rollback", ":a", node=node)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^:0000000a  ok +#1 fix\.lua \(1 restored\)$", r.stdout, re.M), r.stdout
    assert "    restored _P.lua.CMD.deposit: function agent.lua:9" in r.stdout
    assert "rollback: 1 ok, 0 conflict, 0 failed, 0 unknown, 0 skipped" in r.stdout
    # the old code runs on the balance the patched code left (7)
    assert call(con, "a", '"deposit", 1') == "1\t8\nn\t1"
    r = skyctl_at(state, "patches", ":a", node=node)
    rows = [l.split("\t") for l in r.stdout.splitlines()]
    assert [(x[0], x[1], x[6]) for x in rows] == [("2", "fix.lua", "rollback of #1"),
                                                  ("1", "fix.lua", "rolled back")]
    r = skyctl_at(state, "rollback", ":a", node=node)
    assert r.returncode == 1 and "failed   no patch to roll back" in r.stdout
    con.close()


def test_conflict_left_alone_until_force(node, tmp_path, state):
    con = Conn(node.port)
    setbal = write(tmp_path, "setbal.lua", SETBAL)
    assert skyctl_at(state, "inject", ":a", setbal, node=node).returncode == 0
    assert call(con, "a", '"deposit", 5') == "1\t105\nn\t1"  # changed since the patch
    r = skyctl_at(state, "rollback", ":a", node=node)
    assert r.returncode == 1
    assert re.search(r"^:0000000a  conflict +#1 setbal\.lua \(1 restored, 1 conflict\); "
                     r"conflicts left alone \(--force restores them\)$", r.stdout, re.M), r.stdout
    assert ("    conflict upvalue balance of _P.lua.CMD.balance: changed since "
            "(now 105, the patch set 100); left alone") in r.stdout
    assert "    removed _P.lua.CMD.bonus (the patch added it)" in r.stdout
    assert "0 ok, 1 conflict" in r.stdout
    assert call(con, "a", '"balance"') == "1\t105\nn\t1"  # left alone
    assert con.cmd('call a "bonus"')[1] == "Error"  # the rest rolled back
    r = skyctl_at(state, "patches", ":a", node=node)
    assert "partly rolled back" in r.stdout and "rollback of #1, with conflicts" in r.stdout
    r = skyctl_at(state, "rollback", ":a", "--force", node=node)
    assert r.returncode == 0, r.stdout
    assert "restored upvalue balance of _P.lua.CMD.balance: 0" in r.stdout
    assert call(con, "a", '"balance"') == "1\t0\nn\t1"
    con.close()


def test_patch_id_and_all(node, tmp_path, state):
    con = Conn(node.port)
    for name in ("one", "two", "three"):
        assert skyctl_at(state, "inject", ":a", write(tmp_path, name + ".lua", add(name)),
                      node=node).returncode == 0
    r = skyctl_at(state, "rollback", ":a", "--patch", "2", node=node)
    assert r.returncode == 0, r.stdout
    assert re.search(r"ok +#3 three\.lua \(1 restored\), #2 two\.lua \(1 restored\)$", r.stdout,
                     re.M), r.stdout
    assert call(con, "a", '"one"') == "1\tone\nn\t1"
    assert con.cmd('call a "two"')[1] == "Error" and con.cmd('call a "three"')[1] == "Error"
    r = skyctl_at(state, "rollback", ":a", "--patch", "2", node=node)
    assert r.returncode == 1 and "no patch #2 in place" in r.stdout
    assert skyctl_at(state, "rollback", ":a", "--patch", "1", "--all", node=node).returncode == 2
    assert skyctl_at(state, "rollback", ":a", "--patch", "x", node=node).returncode == 2
    assert skyctl_at(state, "inject", ":a", write(tmp_path, "four.lua", add("four")),
                  node=node).returncode == 0
    r = skyctl_at(state, "rollback", ":a", "--all", node=node)
    # the two rollbacks took journal ids #4 and #5
    assert r.returncode == 0 and re.search(r"#6 four\.lua .*#1 one\.lua", r.stdout), r.stdout
    assert con.cmd('call a "one"')[1] == "Error" and con.cmd('call a "four"')[1] == "Error"
    con.close()


def test_batch_stops_unless_keep_going_and_audit_log(node, tmp_path, state):
    fix = write(tmp_path, "fix.lua", FIX)
    assert skyctl_at(state, "inject", ":a,:b", fix, node=node).returncode == 0
    r = skyctl_at(state, "rollback", ":c,:a,:b", node=node)
    assert r.returncode == 1
    assert re.search(r"^:0000000c  failed +no patch to roll back$", r.stdout, re.M)
    assert re.search(r"^:0000000a  skipped", r.stdout, re.M)
    assert "0 ok, 0 conflict, 1 failed, 0 unknown, 2 skipped" in r.stdout
    r = skyctl_at(state, "rollback", "--keep-going", ":c,:a,:b", node=node)
    assert r.returncode == 1 and "2 ok, 0 conflict, 1 failed, 0 unknown, 0 skipped" in r.stdout
    recs = [json.loads(l) for l in (state / "skyctl" / "audit.log").read_text().splitlines()]
    rb = [x for x in recs if x["op"] == "rollback"]
    assert [(x["target"], x["result"].split(":")[0]) for x in rb[-6:]] == [
        (":0000000c", "pending"), (":0000000a", "pending"), (":0000000b", "pending"),
        (":0000000c", "failed"), (":0000000a", "ok"), (":0000000b", "ok")]
    assert rb[-1]["node"] == node.address and "#1 fix.lua" in rb[-1]["result"]
    assert {x["op"] for x in recs} == {"inject", "rollback"}


def test_json(node, tmp_path, state):
    con = Conn(node.port)
    fix = write(tmp_path, "fix.lua", FIX)
    assert skyctl_at(state, "inject", ":a,:b", fix, node=node).returncode == 0
    r = skyctl_at(state, "rollback", "--json", ":a,:b,:c", "--keep-going", node=node)
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    recs = doc["targets"]
    assert [(x["target"], x["status"]) for x in recs] == [
        (":0000000a", "ok"), (":0000000b", "ok"), (":0000000c", "failed")]
    [rolled] = recs[0]["result"]["rolled"]
    assert rolled["id"] == 1 and rolled["name"] == "fix.lua" and rolled["state"] == "rolled back"
    assert rolled["restored"] == [{"kind": "field", "what": "changed",
                                   "path": "_P.lua.CMD.deposit", "old": "function agent.lua:9",
                                   "new": "function fix.lua:3"}]
    assert rolled["conflicts"] == []
    assert recs[2]["result"]["err"] == "no patch to roll back"
    assert doc["summary"]["ok"] == 2 and doc["summary"]["failed"] == 1
    assert call(con, "b", '"deposit", 1') == "1\t1\nn\t1"
    con.close()


# a journal as a skyctl before compact entries kept it (named fields, nextid)
OLD_JOURNAL = """local CMD = _P.lua.CMD
local old, new = CMD.balance, function() return 42 end
CMD.balance = new
package.loaded.skyctl = { nextid = 2, journal = { { id = 1, kind = "apply", name = "old.lua",
  sha = "x", batch = "b", time = 1, who = "w", state = "applied", changes = { { kind = "field",
  t = CMD, k = "balance", old = old, new = new, path = "_P.lua.CMD.balance",
  what = "changed" } } } } }
"""


def test_a_journal_kept_by_an_older_skyctl_still_rolls_back(node, tmp_path, state):
    con = Conn(node.port)
    assert con.cmd("inject b %s" % write(tmp_path, "old.lua", OLD_JOURNAL))[1] == "OK"
    assert call(con, "b", '"balance"') == "1\t42\nn\t1"
    r = skyctl_at(state, "inject", ":b", write(tmp_path, "two.lua", add("two")), node=node)
    assert r.returncode == 0 and "patch #2" in r.stdout, r.stdout
    r = skyctl_at(state, "rollback", ":b", "--all", node=node)
    assert r.returncode == 0, r.stdout
    assert "#2 two.lua (1 restored), #1 old.lua (1 restored)" in r.stdout, r.stdout
    assert call(con, "b", '"balance"') == "1\t0\nn\t1"
    r = skyctl_at(state, "patches", ":b", "--json", node=node)
    journal = json.loads(r.stdout)["services"][0]["journal"]
    assert [(e["id"], e["kind"], e["state"]) for e in journal] == [
        (1, "apply", "rolled back"), (2, "apply", "rolled back"),
        (3, "rollback", "done"), (4, "rollback", "done")]
    con.close()
