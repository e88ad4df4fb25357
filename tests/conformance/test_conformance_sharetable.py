"""skynet.sharetable.core: a table a chunk returns, shared by pointer with
every service of the node (skyctl's hub shares its engine with its peers
this way).  What the engine relies on: clone in another service gives the
table, its functions run there and read the service's tables with the
keys their code names (not on skynet 1.4), and the same things are
refused."""
import re

from transcript import PREFIX, facts, reply, script, traceback

# in :b, share a table and have :c clone it and use it
SHARE = r"""
local skynet = require "skynet"
local core = require "skynet.sharetable.core"
local box = core.matrix(%s)
local use = [[
local m = require("skynet.sharetable.core").clone(...)
%s
]]
print(skynet.call(skynet.self() + 1, "debug", "RUN", use, "use.lua", box:getptr()))
"""


def share(con, source, use="print(m.add(41), m.s, m.t[2], type(m.add))"):
    return reply(con, "inject :b %s" % script(SHARE % (source, use), "share.lua"))


def test_a_table_cloned_in_another_service_runs_there(con):
    out = share(con, '"return { add = function(a) return a + 1 end, s = \'x\', t = { 1, 2 } }"')
    assert out == "true\t42\tx\t2\tfunction\n<CMD OK>\n"


def test_shared_code_reads_the_services_keys(con):
    """skynet 1.4 shares a function but not its code: the string constants
    of that code match no string of the service (skyctl checks this in
    the hub, and does not share its engine there)"""
    out = share(con, '"return { get = function(t) return t.skyctl_probe end }"',
                'print(tostring(m.get({ skyctl_probe = true })))')
    found = "nil" if facts(con.node)["release"] == "1.4" else "true"
    assert out == "true\t%s\n<CMD OK>\n" % found


def test_a_function_with_an_upvalue_is_refused(con):
    out = share(con, '"local y = 1 return { f = function() return y end }"')
    assert re.fullmatch(PREFIX + r"Invalid function with upvalue\n" + traceback(con) +
                        r"<CMD Error>\n", out), out


def test_a_metatable_is_refused(con):
    out = share(con, '"return setmetatable({}, {})"')
    assert re.fullmatch(PREFIX + r"Can't share metatable\n" + traceback(con) + r"<CMD Error>\n",
                        out), out


def test_a_cloned_table_iterates_with_its_functions(con):
    out = share(con, '"return { add = function(a) return a + 1 end, s = \'x\', t = { 1, 2 } }"',
                "local ks = {} for k, v in pairs(m) do ks[#ks + 1] = k .. ':' .. type(v) end "
                "table.sort(ks) print(table.concat(ks, ' '))")
    assert out == "true\tadd:function s:string t:table\n<CMD OK>\n"
