"""What a hot-fix script schedules through skynet (skynet.fork,
skynet.timeout), against the `node` fixture (sandbox, and real skynet when
SKYNET_ROOT is set).  skynet's scheduler tables are not a script's changes:
a dry run, or a script that fails, cancels the coroutines and timers it
started instead of putting those tables back (which made the service's
next message run the script's function in place of its handler); an
inject says what it started, and its journal and rollback leave the
scheduler alone.  The hub (the batch's first target) replies before its
own script's forks run, as a stock RUN does."""
import re

from cli_helpers import skyctl_at, write
from inject_client import Conn, call

FORK = """local skynet = require "skynet"
local CMD = _P.lua.CMD
skynet.fork(function() CMD.forked = function() return "ran" end end)
"""

TIMER_THEN_FAIL = """local skynet = require "skynet"
local CMD = _P.lua.CMD
skynet.timeout(1, function() CMD.timed = function() return "ran" end end)
skynet.fork(function() CMD.forked = function() return "ran" end end)
error("boom")
"""

FIX_AND_FORK = """local skynet = require "skynet"
local CMD = _P.lua.CMD
function CMD.echo(...)
    return "fixed", ...
end
skynet.fork(function() CMD.forked = function() return "ran" end end)
"""

# run in the service after its timers of 1 tick are due: what they set
LATER = """local skynet = require "skynet"
skynet.sleep(5)
return _P.lua.CMD.timed ~= nil, _P.lua.CMD.forked ~= nil
"""

# an endless loop forked in :a alone (two would hold a node's two threads)
SPIN = """local skynet = require "skynet"
if skynet.self() & 0xffffff == 10 then
    skynet.fork(function() while true do end end)
end
print("forked")
"""


def answers(con, service="a"):
    """the service handles its messages: four calls, each its own answer"""
    return [call(con, service, '"echo", %d' % i) for i in range(4)] == \
        ["1\t%d\nn\t1" % i for i in range(4)]


def test_a_dry_run_does_not_start_what_the_script_forks(node, tmp_path, state):
    con = Conn(node.port)
    fix = write(tmp_path, "fork.lua", FORK)
    # twice: by the second, the service's coroutine pool holds coroutines,
    # one of which the fork takes (the one that was put back before)
    for _ in range(2):
        r = skyctl_at(state, "diff", ":a", fix, node=node)
        assert r.returncode == 0, r.stderr
        assert "  ! would start 1 coroutine (skynet.fork): not started (a dry run)" in \
            r.stdout.splitlines(), r.stdout
        assert "nothing was changed" in r.stdout and "own code" not in r.stdout
    assert answers(con)
    assert con.cmd('call a "forked"')[1] == "Error"
    con.close()


def test_what_a_script_forked_before_it_waited_ran_and_is_the_scripts(node, tmp_path, state):
    # the service ran its other messages, its forks among them, while the
    # script slept: the fork's change is the script's, undone by a dry run;
    # a timer still pending is not started
    fix = write(tmp_path, "fork.lua", FORK + "skynet.sleep(1)\n"
                "skynet.timeout(100, function() CMD.timed = function() end end)\n")
    r = skyctl_at(state, "diff", ":a", fix, node=node)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert re.match(r"^  \+ _P\.lua\.CMD\.forked +function fork\.lua:3$", lines[1]), lines
    assert "  ! would start 1 timer (skynet.timeout): not started (a dry run)" in lines, lines
    assert "  ! the script waited" in r.stdout and "could not be undone" not in r.stdout
    con = Conn(node.port)
    assert con.cmd('call a "forked"')[1] == "Error"
    assert answers(con)
    con.close()


def test_a_failing_script_cancels_its_timer_and_fork(node, tmp_path, state):
    con = Conn(node.port)
    boom = write(tmp_path, "boom.lua", TIMER_THEN_FAIL)
    for _ in range(2):  # the second finds coroutines in the service's pool
        r = skyctl_at(state, "inject", ":a", boom, node=node)
        assert r.returncode == 1
        assert ":0000000a  failed  boom.lua:5: boom (all its changes undone)" in r.stdout, \
            r.stdout
    r = skyctl_at(state, "exec", ":a", write(tmp_path, "later.lua", LATER), node=node)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1:3] == ["  = false", "  = false"], r.stdout
    assert answers(con)
    con.close()


def test_inject_starts_them_and_rollback_leaves_the_scheduler(node, tmp_path, state):
    con = Conn(node.port)
    call(con, "a", '"echo", "warm"')
    r = skyctl_at(state, "inject", ":a", write(tmp_path, "fix.lua", FIX_AND_FORK), node=node)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == ":0000000a  ok      patch #1, 1 change", lines
    assert lines[1] == ("    ! started 1 coroutine (skynet.fork): it runs on its own; "
                        "a rollback does not stop it"), lines
    assert call(con, "a", '"forked"') == "1\tran\nn\t1"
    assert call(con, "a", '"echo", 1') == "1\tfixed\n2\t1\nn\t2"
    r = skyctl_at(state, "diff", ":a", node=node)  # the patch: the handler alone
    assert "fork_queue" not in r.stdout and "coroutine_pool" not in r.stdout, r.stdout
    r = skyctl_at(state, "rollback", ":a", node=node)
    assert r.returncode == 0, r.stdout + r.stderr
    assert ":0000000a  ok       #1 fix.lua (1 restored)" in r.stdout, r.stdout
    assert answers(con)
    con.close()


def test_the_hub_replies_before_its_scripts_forks_run(node, tmp_path, state):
    # the first target's script forks an endless loop: the batch's other
    # targets and the reply come first, as a stock RUN replies first
    r = skyctl_at(state, "exec", ":a,:b,:c", write(tmp_path, "spin.lua", SPIN), node=node)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines()[:2] == [":0000000a, :0000000b, :0000000c  ok", "  | forked"], \
        r.stdout
    r = skyctl_at(state, "--timeout", "1", "stuck", node=node)
    assert r.returncode == 1 and ":0000000a" in r.stdout and ":0000000b" not in r.stdout, \
        r.stdout
