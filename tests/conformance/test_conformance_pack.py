"""skynet.pack's byte format (lualib-src/lua-seri.c), as skynet.packstring
returns it: skyctl decodes what a service packed, so the sandbox packs
byte for byte as skynet does.  A script injected into :a prints the hex of
each packing, whether skynet.unpack gives the values back, and what unpack
says of the bytes one short (or of garbage).  Each value's type byte is
type | cookie << 3; numbers, lengths and pointers follow in host (little
endian) order."""
import base64
import re

import pytest

from transcript import connect, reply, script

PACK = r"""
local skynet = require "skynet"

local function hex(s)
	return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- a long packing as its length and its first bytes
local function show(s)
	if #s > 16 then
		return #s .. ":" .. hex(s:sub(1, 8))
	end
	return hex(s)
end

local function same(a, b)
	if type(a) ~= "table" or type(b) ~= "table" then
		return a == b and math.type(a) == math.type(b)
	end
	for k, v in pairs(a) do
		if not same(v, b[k]) then
			return false
		end
	end
	for k in pairs(b) do
		if a[k] == nil then
			return false
		end
	end
	return true
end

local function round_trip(v, s)
	local r = table.pack(skynet.unpack(s))
	if r.n ~= v.n then
		return "count " .. r.n
	end
	for i = 1, v.n do
		if not same(v[i], r[i]) then
			return "differs at " .. i
		end
	end
	return "same"
end

local function cut(s)
	if #s < 2 then
		return "-"
	end
	local ok, err = pcall(skynet.unpack, s:sub(1, -2))
	return ok and "no error" or tostring(err)
end

local function case(name, ...)
	local v = table.pack(...)
	local s = skynet.packstring(...)
	print(name, show(s), round_trip(v, s), cut(s))
end

local function array(n)
	local t = {}
	for i = 1, n do
		t[i] = i
	end
	return t
end

local function nest(levels, inner)
	local t = inner
	for _ = 2, levels do
		t = { t }
	end
	return t
end

case("nil", nil)
case("true", true)
case("false", false)
case("0", 0)
case("1", 1)
case("255", 255)
case("256", 256)
case("65535", 65535)
case("65536", 65536)
case("2^31-1", 0x7fffffff)
case("2^31", 0x80000000)
case("-1", -1)
case("-2^31", -0x80000000)
case("-2^31-1", -0x80000001)
case("mininteger", math.mininteger)
case("maxinteger", math.maxinteger)
case("0.5", 0.5)
case("1.0", 1.0)
case("s0", "")
case("s1", "a")
case("s31", string.rep("x", 31))
case("s32", string.rep("x", 32))
case("s65535", string.rep("x", 65535))
case("s65536", string.rep("x", 65536))
case("empty", {})
case("array3", { 1, 2, 3 })
case("array30", array(30))
case("array31", array(31))
case("array40", array(40))
case("key", { a = 1 })
case("mixed", { 10, x = true })
case("nested", { { "a" }, {} })
case("several", 1, "a", { 2 })
case("deep32", nest(32, { 1 }))
case("deep33empty", nest(33, {}))

-- a __pairs metamethod gives the pairs packed (and no array part)
local with_pairs = setmetatable({ 1, 2 }, { __pairs = function(t)
	return function(_, k)
		if k == nil then
			return "k", "v"
		end
	end, t, nil
end })
local s = skynet.packstring(with_pairs)
local t = skynet.unpack(s)
print("pairs", show(s), t.k, tostring(t[1]), cut(s))

local msg, sz = skynet.pack(1)
local p = skynet.packstring(msg)
print("pointer", #p, hex(p:sub(1, 1)), skynet.unpack(p) == msg)
skynet.trash(msg, sz)

local function refused(name, ...)
	local ok, err = pcall(skynet.packstring, ...)
	print(name, ok and "packed" or tostring(err))
end

refused("function", print)
refused("thread", coroutine.create(print))
refused("userdata", io.stdout)
refused("deep33", nest(33, { 1 }))
refused("deep34empty", nest(34, {}))

local function garbage(name, s)
	local ok, err = pcall(skynet.unpack, s)
	print(name, ok and "no error" or tostring(err))
end

garbage("type7", "\7")
garbage("numbercookie3", "\26\0\0\0\0")
garbage("stringcookie3", "\29\1\0\0\0x")
garbage("realsize", "\254\66\0\0\0\0\0\0\240\63\0")
garbage("unended", "\6")
garbage("keyunended", "\6\10\1")
"""

# name -> the packing's hex (longer than 16 bytes: its length, then the
# hex of its first 8 bytes), as skynet printed it
PACKED = {
    "nil": "00",
    "true": "09",
    "false": "01",
    "0": "02",
    "1": "0a01",
    "255": "0aff",
    "256": "120001",
    "65535": "12ffff",
    "65536": "2200000100",
    "2^31-1": "22ffffff7f",
    "2^31": "320000008000000000",
    "-1": "22ffffffff",
    "-2^31": "2200000080",
    "-2^31-1": "32ffffff7fffffffff",
    "mininteger": "320000000000000080",
    "maxinteger": "32ffffffffffffff7f",
    "0.5": "42000000000000e03f",
    "1.0": "42000000000000f03f",
    "s0": "04",
    "s1": "0c61",
    "s31": "32:fc78787878787878",
    "s32": "35:1520007878787878",
    "s65535": "65538:15ffff7878787878",
    "s65536": "65541:2500000100787878",
    "empty": "0600",
    "array3": "1e0a010a020a0300",
    "array30": "62:f60a010a020a030a",
    "array31": "66:fe0a1f0a010a020a",
    "array40": "84:fe0a280a010a020a",
    "key": "060c610a0100",
    "mixed": "0e0a0a0c780900",
    "nested": "160e0c6100060000",
    "several": "0a010c610e0a0200",
    "deep32": "66:0e0e0e0e0e0e0e0e",
    "deep33empty": "66:0e0e0e0e0e0e0e0e",
}

# name -> N of what unpack says of the packing one byte short, skynet's
# "Invalid serialize stream N (line:L)" (N: the bytes left unread; L, a
# line of skynet's C source, the sandbox leaves out); None: one byte long
CUT = {
    "nil": None, "true": None, "false": None, "0": None, "s0": None,
    "1": 0, "255": 0, "256": 1, "65535": 1, "65536": 3, "2^31-1": 3, "2^31": 7, "-1": 3,
    "-2^31": 3, "-2^31-1": 7, "mininteger": 7, "maxinteger": 7, "0.5": 7, "1.0": 7,
    "s1": 0, "s31": 30, "s32": 31, "s65535": 65534, "s65536": 65535,
    "empty": 0, "array3": 0, "array30": 0, "array31": 0, "array40": 0, "key": 0,
    "mixed": 0, "nested": 0, "several": 0, "deep32": 0, "deep33empty": 0,
}

REFUSED = {
    "function": "Unsupport type function to serialize",
    "thread": "Unsupport type thread to serialize",
    "userdata": "Unsupport type userdata to serialize",
    "deep33": "serialize can't pack too depth table",
    "deep34empty": "serialize can't pack too depth table",
}

# name -> N of unpack's "Invalid serialize stream N" for bytes no packing gives
GARBAGE = {
    "type7": 0,
    "numbercookie3": 4,
    "stringcookie3": 5,
    "realsize": 9,
    "unended": 0,
    "keyunended": 0,
}


def invalid(err):
    """N of skynet's "Invalid serialize stream N" in err, or None"""
    m = re.fullmatch(r"Invalid serialize stream (\d+)(?: \(line:\d+\))?", err)
    return int(m.group(1)) if m else None


@pytest.fixture(scope="module")
def printed(shared):
    """the script's lines (run once in :a) by their first field"""
    c = connect(shared)
    out = reply(c, "inject :a %s" % script(PACK, "pack.lua"))
    c.close()
    assert out.endswith("\n<CMD OK>\n"), out
    lines = out[:-len("<CMD OK>\n")].rstrip("\n").split("\n")
    return {fields[0]: fields[1:] for fields in (line.split("\t") for line in lines)}


def test_packed_bytes(printed):
    assert {name: printed[name][0] for name in PACKED} == PACKED


def test_unpack_gives_the_values_back(printed):
    assert {name: printed[name][1] for name in PACKED} == dict.fromkeys(PACKED, "same")


def test_unpack_of_a_packing_one_byte_short_raises(printed):
    cut = {name: None if printed[name][2] == "-" else invalid(printed[name][2])
           for name in PACKED}
    assert cut == CUT, {name: printed[name][2] for name in PACKED}


def test_a_pairs_metamethod_gives_the_pairs(printed):
    """only the pairs it gives, after an empty array part: not the raw {1, 2}"""
    assert printed["pairs"][:3] == ["060c6b0c7600", "v", "nil"]
    assert invalid(printed["pairs"][3]) == 0


def test_a_light_userdata_packs_as_its_pointer(printed):
    assert printed["pointer"] == ["9", "03", "true"]


def test_what_cannot_be_packed(printed):
    assert {name: printed[name][0] for name in REFUSED} == REFUSED


def test_unpack_of_garbage_raises(printed):
    assert {name: invalid(printed[name][0]) for name in GARBAGE} == GARBAGE, printed


CRYPT = r"""
local crypt = require "skynet.crypt"
local cases = { "", "a", "ab", "abc", "\0\n\r%", string.rep("\255\0", 200) }
for i, s in ipairs(cases) do
	print(i, crypt.base64encode(s))
end
"""


def test_crypt_base64(shared):
    """skynet.crypt's base64encode (standard alphabet, '=' padding): how a
    hub passes on the replies of the services it reaches (lua/agent.lua's
    peer_piece), which skyctl decodes (src/wire.c)"""
    c = connect(shared)
    out = reply(c, "inject :a %s" % script(CRYPT, "crypt.lua"))
    c.close()
    cases = [b"", b"a", b"ab", b"abc", b"\0\n\r%", b"\xff\0" * 200]
    expect = "".join("%d\t%s\n" % (i, base64.b64encode(s).decode())
                     for i, s in enumerate(cases, 1))
    assert out == expect + "<CMD OK>\n", out
