"""A service stuck in a loop answers nothing; `signal addr` on a fresh
connection interrupts it and it serves messages again."""
import re

import pytest

from transcript import PREFIX, connect, pong, reply, silent, until


def spin(node):
    """Start .loopy spinning from a connection of its own; return it."""
    a = connect(node)
    assert reply(a, 'call .loopy "count"') == "1\t1\nn\t1\n<CMD OK>\n"
    a.send('call .loopy "spin"\n')
    return a


@pytest.mark.parametrize("form", [".loopy", "d", ":0000000d", "d 0"])
def test_signal_interrupts_spinning_service(fresh, form):
    a = spin(fresh)
    b = connect(fresh)
    c = connect(fresh)
    try:
        b.send("ping .loopy\n")
        silent(b, 1.0)   # the spinning service answers nothing
        silent(a, 0.01)
        assert reply(c, "signal " + form) == "<CMD OK>\n"
        out = until(a, r"<CMD (?:OK|Error)>\n")
        assert re.fullmatch(PREFIX + r"call failed\n<CMD Error>\n", out), out
        assert re.fullmatch(r"\d+\n<CMD OK>\n", until(b, r"<CMD OK>\n"))
        # state survives: spin counted once, this is the third message
        assert reply(c, 'call .loopy "count"') == "1\t3\nn\t1\n<CMD OK>\n"
        assert pong(reply(a, "ping d"))
    finally:
        for x in (a, b, c):
            x.close()


def test_spinning_service_times_out_in_stat_and_mem(fresh):
    a = spin(fresh)
    c = connect(fresh)
    try:
        silent(a, 0.2)
        out = reply(c, "stat 50")
        assert re.search(r"(?m)^:0000000d\tTIMEOUT$", out), out
        assert re.search(r"(?m)^:0000000c\tcpu:", out), out
        out = reply(c, "mem 50")
        assert re.search(r"(?m)^:0000000d\tTIMEOUT \(snlua loopy\)$", out), out
        assert re.search(r"(?m)^:0000000c\t\d+\.\d\d Kb \(snlua agent 3\)$", out), out
    finally:
        reply(c, "signal d")
        a.close()
        c.close()


def test_spinning_service_does_not_block_others(fresh):
    a = spin(fresh)
    c = connect(fresh)
    try:
        silent(a, 0.2)
        assert reply(c, 'call :a "echo", 1') == "1\t1\nn\t1\n<CMD OK>\n"
        assert reply(c, "info .named") .endswith("name\tnamed\n<CMD OK>\n")
    finally:
        reply(c, "signal d")
        a.close()
        c.close()
