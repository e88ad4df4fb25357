"""skynet.sharetable.core: a table a chunk returns, shared by pointer with
every service of the node (skyctl's hub shares its engine with its peers
this way).  What the engine relies on: clone in another service gives the
table, its functions run there with the _ENV they are given, and the same
things are refused."""
import re

from transcript import PREFIX, reply, script, traceback

# in :b, share a table and have :c clone it and use it
SHARE = r"""
local skynet = require "skynet"
local core = require "skynet.sharetable.core"
local box = core.matrix(%s)
local use = [[
local m = require("skynet.sharetable.core").clone(...)
print(m.add(41), m.s, m.t[2], m.env({ x = "mine" }), type(m.add))
]]
print(skynet.call(skynet.self() + 1, "debug", "RUN", use, "use.lua", box:getptr()))
"""

SOURCE = ('"return { add = function(a) return a + 1 end, s = \'x\', t = { 1, 2 }, '
          'env = function(_ENV) return x end }"')


def share(con, source):
    return reply(con, "inject :b %s" % script(SHARE % source, "share.lua"))


def test_a_table_cloned_in_another_service_runs_there(con):
    assert share(con, SOURCE) == "true\t42\tx\t2\tmine\tfunction\n<CMD OK>\n"


def test_a_function_with_an_upvalue_is_refused(con):
    out = share(con, '"local y = 1 return { f = function() return y end }"')
    assert re.fullmatch(PREFIX + r"Invalid function with upvalue\n" + traceback(con) +
                        r"<CMD Error>\n", out), out


def test_a_metatable_is_refused(con):
    out = share(con, '"return setmetatable({}, {})"')
    assert re.fullmatch(PREFIX + r"Can't share metatable\n" + traceback(con) + r"<CMD Error>\n",
                        out), out
