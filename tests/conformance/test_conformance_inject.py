"""inject: the node opens a node-side file and runs it inside the service,
with print captured, `...` args, `_P`/`_U` upvalue tables and chunk name @path."""
import re

import pytest

from transcript import PREFIX, connect, facts, reply, script, traceback


def inject(c, source, args="", target=":b"):
    path = script(source)
    return path, reply(c, "inject %s %s %s" % (target, path, args)).rstrip(" ")


def test_print_capture(con):
    _, out = inject(con, 'print("hello") print("a", 1, true)')
    assert out == "hello\na\t1\ttrue\n<CMD OK>\n"


def test_args(con):
    _, out = inject(con, 'print(select("#", ...), ...)', "x 2 z")
    assert out == "3\tx\t2\tz\n<CMD OK>\n"


def test_no_output_is_one_empty_line(con):
    _, out = inject(con, "local x = 1")
    assert out == "\n<CMD OK>\n"


def test_return_values_are_not_printed(con):
    _, out = inject(con, "return 1, 2")
    assert out == "\n<CMD OK>\n"


def test_print_stops_at_nil_and_empty_print(con):
    _, out = inject(con, 'print("a\\nb") print(1, nil, true) print()')
    if facts(con.node)["lua"] == "5.4":   # skynet up to 1.8 cannot print a nil
        assert re.fullmatch(PREFIX + r"a\nb\n" + PREFIX + r"invalid value \(nil\) at index 2 in "
                            r"table for 'concat'\n" + traceback(con) + r"<CMD Error>\n", out), out
    else:
        assert out == "a\nb\n1\n\n<CMD OK>\n"


def test_P_lua_CMD(fresh):
    c = connect(fresh)
    _, out = inject(c, "print(type(_P.lua.CMD), _P.lua.CMD.deposit(7))", target=":a")
    assert out == "table\t7\n<CMD OK>\n"
    assert reply(c, "info :a") == "balance\t7\nid\t1\n<CMD OK>\n"
    c.close()


def test_P_lua_holds_dispatch_upvalue_tables(con):
    _, out = inject(con, "local t = {} for k in pairs(_P.lua) do t[#t+1] = k end "
                         "table.sort(t) print(table.concat(t, ' '))")
    assert out == "CMD _ENV skynet\n<CMD OK>\n"


def test_U_and_P_types(con):
    _, out = inject(con, "print(type(_U), type(_P), type(_P.debug), type(_U.proto))")
    assert out == "table\ttable\ttable\ttable\n<CMD OK>\n"


def test_env_falls_back_to_service_globals(con):
    _, out = inject(con, "print(type(require), type(skynet), type(string.format))")
    assert out == "function\tnil\tfunction\n<CMD OK>\n"


def test_runtime_error_has_chunk_name(con):
    path, out = inject(con, 'local x = 1\nerror("boom")')
    assert re.fullmatch(PREFIX + re.escape(path) + r":2: boom\n" + traceback(con) + "<CMD Error>\n",
                        out), out


def test_compile_error_has_chunk_name(con):
    path, out = inject(con, "local x = \n")
    assert re.fullmatch(PREFIX + re.escape(path) + r":2: unexpected symbol near <eof>\n"
                        r"<CMD Error>\n", out), out


def test_error_after_print_keeps_output(con):
    path, out = inject(con, 'print("before") error("after")')
    assert re.fullmatch(PREFIX + r"before\n" + re.escape(path) + r":1: after\n" +
                        traceback(con) + r"<CMD Error>\n", out), out


def test_error_in_P_access(con):
    path, out = inject(con, "print(_P.lua.CMD.x)", target=".named")
    assert re.fullmatch(PREFIX + re.escape(path) +
                        r":1: attempt to index a nil value \(field 'CMD'\)\n" + traceback(con) +
                        r"<CMD Error>\n",
                        out), out


def test_non_string_error_fails_the_call(con):
    _, out = inject(con, "error({})")
    assert re.fullmatch(PREFIX + r"call failed\n<CMD Error>\n", out), out


def test_unopenable_path(con):
    assert reply(con, "inject :b /nonexistent/dir/x.lua") == \
        "Can't open /nonexistent/dir/x.lua\n<CMD OK>\n"


def test_dead_address(con):
    path = script("print(1)")
    out = reply(con, "inject :ff " + path)
    assert re.fullmatch(PREFIX + r"call to invalid address :ff\n<CMD Error>\n", out), out


def test_missing_path(con):
    out = reply(con, "inject :b")
    assert re.fullmatch(PREFIX + r"bad argument #1 to 'open' \(string expected, got nil\)\n"
                        r"<CMD Error>\n", out), out


@pytest.mark.parametrize("target", ["b", ":0000000b", ".named", ".loopy"])
def test_address_forms(con, target):
    _, out = inject(con, "print('ok')", target=target)
    assert out == "ok\n<CMD OK>\n"


def test_globals_set_by_a_script_do_not_persist(con):
    """Each run has its own environment table: plain assignments vanish,
    writes through _G land in the service's globals."""
    inject(con, "inject_local_probe = 1 _G.inject_global_probe = 2")
    _, out = inject(con, "print(tostring(inject_local_probe), inject_global_probe)")
    assert out == "nil\t2\n<CMD OK>\n"


def test_fork_hands_a_pooled_coroutine_its_function(fresh):
    """skynet's scheduler, which skyctl never puts back (lua/apply.lua's
    scheduler): skynet.fork takes a coroutine from _U.coroutine_pool,
    already handed its function (suspended, in _U.fork_queue: {h, t} from
    1.5, an array before), and skynet.timeout files its session in
    _U.session_id_coroutine"""
    c = connect(fresh)
    inject(c, 'require("skynet").fork(function() end)')  # one finished: pooled
    _, out = inject(c, 'local skynet = require "skynet" '
                       'local pool, q, s = _U.coroutine_pool, _U.fork_queue, '
                       '_U.session_id_coroutine '
                       'local n0 = #pool '
                       'local co = skynet.fork(function() end) '
                       'local last = q[rawget(q, "t") or #q] '
                       'local timer = skynet.timeout(100, function() end) '
                       'local filed = false '
                       'for _, v in pairs(s) do filed = filed or v == timer end '
                       'print(n0 > 0, #pool == n0 - 1, last == co, coroutine.status(co), filed)')
    assert out == "true\ttrue\ttrue\tsuspended\ttrue\n<CMD OK>\n"
    c.close()


def test_services_run_the_generational_collector(con):
    """skynet's snlua switches every service to the generational collector
    (what a request's allocations cost a service depends on it); the
    switch back returns the mode it had"""
    _, out = inject(con, 'print(collectgarbage("incremental")) collectgarbage("generational")')
    assert out == "generational\n<CMD OK>\n"


def test_pipelined_injects(con):
    path = script("print(...)")
    con.send("".join("inject :b %s %d\n" % (path, i) for i in range(100)))
    from transcript import until
    for i in range(100):
        assert until(con, r"<CMD OK>\n") == "%d\n<CMD OK>\n" % i
