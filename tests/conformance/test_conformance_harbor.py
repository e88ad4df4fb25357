"""Harbors: two nodes of one network (harbor 1, the master, and harbor 2),
as skynet's examples/config runs; handles carry the harbor in their top 8
bits. Also global names and snax services, on a standalone node too."""
import re

import pytest

import nodes
import transcript
from transcript import PREFIX, connect, pong, reply, silent


def invalid(addr):
    return PREFIX + r"call to invalid address %s\n<CMD Error>\n" % addr


CALL_FAILED = PREFIX + r"call failed\n<CMD Error>\n"
NEED_ADDRESS = PREFIX + r"Need an address\n<CMD Error>\n"


@pytest.fixture(scope="module", params=nodes.backends())
def pair(request):
    """harbor 1 (3 agents, named, global) and harbor 2 (1 agent, named, global)"""
    p = nodes.harbor_pair(request.param)
    yield p
    nodes.stop_pair(p)


@pytest.fixture
def c1(pair):
    c = connect(pair[0])
    yield c
    c.close()


@pytest.fixture
def c2(pair):
    c = connect(pair[1])
    yield c
    c.close()


def listing(harbor, rows):
    return "".join(":%02x%06x\tsnlua %s\n" % (harbor, h, n) for h, n in rows) + "<CMD OK>\n"


# --- handles carry the harbor ----------------------------------------------

def test_master_list(pair, c1):
    assert reply(c1, "list") == listing(1, [
        (4, "cmaster"), (5, "cslave"), (7, "datacenterd"), (8, "service_mgr"), (9, "main"),
        (10, "debug_console 127.0.0.1 %d" % pair[0].port), (11, "agent 1"), (12, "agent 2"),
        (13, "agent 3"), (14, "named"), (15, "global")])


def test_second_harbor_list(pair, c2):
    assert reply(c2, "list") == listing(2, [
        (4, "cslave"), (6, "service_mgr"), (7, "main"),
        (8, "debug_console 127.0.0.1 %d" % pair[1].port), (9, "agent 1"), (10, "named"),
        (11, "global")])


def test_bare_hex_gets_the_harbor(c1):
    assert reply(c1, "info c") == reply(c1, "info :0100000c") == reply(c1, "info 100000c") \
        == "balance\t0\nid\t2\n<CMD OK>\n"
    assert pong(reply(c1, "ping c"))


@pytest.mark.parametrize("line", ["info :c", "ping :c", "call :c 1"])
def test_colon_form_is_literal(c1, line):
    assert re.fullmatch(invalid(":c"), reply(c1, line))


def test_dead_local_handle(c1):
    assert re.fullmatch(invalid(":01000099"), reply(c1, "ping :01000099"))


# --- the other harbor --------------------------------------------------------

def test_ping_other_harbor(c1):
    assert pong(reply(c1, "ping :0200000a"))


def test_call_other_harbor(c1):
    out = reply(c1, 'call :0200000a "whoami"')
    assert re.fullmatch(r"1\t33554442\n2\t\d+\nn\t2\n<CMD OK>\n", out), out


def test_info_and_dbgcmd_other_harbor(c1):
    assert re.fullmatch(r"args\tx\nhits\t\d+\nname\tnamed\n<CMD OK>\n",
                        reply(c1, "info :0200000a x"))
    transcript.need(c1, "console", transcript.DBGCMD)
    assert re.fullmatch(r"args\t\nhits\t\d+\nname\tnamed\n<CMD OK>\n",
                        reply(c1, "dbgcmd :0200000a INFO"))


def test_inject_other_harbor(c1):
    path = transcript.script('print("on", "harbor 2")\n')
    assert reply(c1, "inject :0200000a " + path) == "on\tharbor 2\n<CMD OK>\n"


def test_dead_handle_on_other_harbor(c1):
    assert re.fullmatch(CALL_FAILED, reply(c1, "ping :02000099"))


def test_kill_other_harbor_is_a_no_op(c1, c2):
    assert reply(c1, "kill :0200000a") == ":0200000a\tnil\n<CMD OK>\n"
    assert pong(reply(c2, "ping :0200000a"))


def test_debug_other_harbor_fails(c1):
    assert re.fullmatch(CALL_FAILED, reply(c1, "debug :0200000a"))


def test_bare_hex_of_other_harbor_is_ored(pair):
    # 200000a | 1 << 24 is :0300000a, a harbor that never comes: no reply
    c = connect(pair[0])
    c.send("ping 200000a\n")
    silent(c, 0.5)
    c.close()


# --- global names ------------------------------------------------------------

def test_global_names_resolve_through_cslave(c1, c2):
    assert reply(c1, 'call .cslave "QUERYNAME", "GLOBAL2"') == "1\t33554443\nn\t1\n<CMD OK>\n"
    assert reply(c1, 'call .cslave "QUERYNAME", "GLOBAL1"') == "1\t16777231\nn\t1\n<CMD OK>\n"
    assert reply(c2, 'call .cslave "QUERYNAME", "GLOBAL1"') == "1\t16777231\nn\t1\n<CMD OK>\n"
    assert reply(c1, 'call .cslave "QUERYNAME", ".named"') == "1\t16777230\nn\t1\n<CMD OK>\n"


def test_unknown_global_name_waits(pair):
    c = connect(pair[0])
    c.send('call .cslave "QUERYNAME", "NOSUCH"\n')
    silent(c, 0.5)
    c.close()


@pytest.mark.parametrize("line", ["ping GLOBAL2", 'call GLOBAL2 "whoami"', "info GLOBAL1"])
def test_global_name_is_no_console_address(c1, line):
    assert re.fullmatch(NEED_ADDRESS, reply(c1, line))


def test_standalone_global_names(backend):
    n = transcript.start(backend, agents=1, services=("global",))
    try:
        c = connect(n)
        assert reply(c, 'call .cslave "QUERYNAME", "GLOBAL"') == "1\t11\nn\t1\n<CMD OK>\n"
        assert reply(c, 'call .cslave "QUERYNAME", "DATACENTER"') == "1\t6\nn\t1\n<CMD OK>\n"
        c.close()
    finally:
        n.stop()


# --- snax --------------------------------------------------------------------

def test_snax_service_listed_as_snaxd(backend):
    n = transcript.start(backend, agents=1, services=(),
                         env={"snax": nodes.SERVICES + "/?.lua"})
    try:
        c = connect(n)
        assert reply(c, "snax pingsnax") == ":0000000b\tpingsnax\n<CMD OK>\n"
        assert reply(c, "list").endswith(":0000000a\tsnlua agent 1\n"
                                         ":0000000b\tsnlua snaxd pingsnax\n<CMD OK>\n")
        assert pong(reply(c, "ping b"))
        # snaxd serves the snax protocol, not lua
        assert re.fullmatch(CALL_FAILED, reply(c, 'call b "ping"'))
        c.close()
    finally:
        n.stop()


def test_snax_on_a_harbor(c1):
    out = reply(c1, "snax pingsnax")
    m = re.fullmatch(r"(:01[0-9a-f]{6})\tpingsnax\n<CMD OK>\n", out)
    assert m, out
    assert "%s\tsnlua snaxd pingsnax\n" % m.group(1) in reply(c1, "list")
