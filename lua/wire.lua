-- skyctl wire format, shared by skyctl itself and the agent it installs in
-- skynet services (the agent receives this file's source as an argument).
--
-- line(v) turns nil, booleans, numbers, strings and tables of those into a
-- compact encoding that is safe on a console line: every string in it is
-- escaped ('%', NUL, CR and LF become %XX), so no line it makes can read
-- <CMD OK>.  Its decoders never run code, so a reply from a node is safe to
-- decode: src/agent.c's for replies, lua/agent.lua's for the requests a hub
-- gets from the console (every service a hub reaches is sent this file,
-- and none of them decodes).  Grammar, before escaping:
--   ~ nil   t true   f false   i<int>;   d<float>;   s<len>:<bytes>
--   { key value key value ... }
--   p<len>:<bytes>  one value as skynet.packstring packs it (see packed)
--   b<len>:<base64> the same bytes in base64 (how a hub passes on a peer's
--                   reply where skynet.crypt encodes them in C)
-- Functions, userdata and threads encode as their tostring() text.
--
-- raw(s), where s came from line(), is a value that line() writes as it
-- is, so a hub can splice the replies of many services into one line
-- without decoding them.  unescape(s) turns %XX back into bytes (what a
-- debug command receives from the console is escaped the same way, with
-- whitespace too, since the console splits its arguments on it).
local M = {}

local concat, format, char, find = table.concat, string.format, string.char, string.find
local mtype, tostring, tonumber, type, next, setmetatable, getmetatable =
	math.type, tostring, tonumber, type, next, setmetatable, getmetatable

local RAW = {}

-- "XX" -> byte, filled in as they are met: building all 256 entries up
-- front would cost each peer service time and memory at install
local BYTE = setmetatable({}, { __index = function(t, k)
	local v = char(tonumber(k, 16))
	t[k] = v
	return v
end })

-- "s<len>:" by length, made once each
local STRING = setmetatable({}, { __index = function(t, n)
	local v = "s" .. n .. ":"
	t[n] = v
	return v
end })

-- s with '%', NUL, CR and LF as %XX.  None of the grammar's own bytes is
-- one of them, so line() escapes a whole encoding at once.  Each of the
-- four is looked for with a plain find (a memchr) and, when there, put
-- right by a gsub of that one byte ('%' first: the others' escapes hold
-- one): a class tests each byte against all four, at three times the
-- cost of a pass for the one byte a packed reply always has (NUL).
local ESCAPES = { { "%", "%%", "%%25" }, { "\0", "\0", "%%00" }, { "\r", "\r", "%%0d" },
	{ "\n", "\n", "%%0a" } }
local function escape(s)
	for i = 1, 4 do
		local e = ESCAPES[i]
		if find(s, e[1], 1, true) then
			s = s:gsub(e[2], e[3])
		end
	end
	return s
end

function M.raw(s)
	return setmetatable({ s }, RAW)
end

-- bytes, one value skynet.packstring packed (lualib-src/lua-seri.c's
-- format, which src/wire.c reads), as a line: a peer's reply packed in C
-- and escaped costs it 6 us, where line() took 10 (20 in a batch)
function M.packed(bytes)
	return "p" .. #bytes .. ":" .. escape(bytes)
end

-- encode v into out after position n, unescaped; a raw line goes in as
-- { line }, escaped already
local function enc(v, out, n)
	local t = type(v)
	if t == "string" then
		out[n + 1] = STRING[#v]
		out[n + 2] = v
		return n + 2
	elseif t == "number" then
		if mtype(v) == "integer" then
			out[n + 1] = "i" .. v .. ";"
		elseif v ~= v then
			out[n + 1] = "d0/0;"
		elseif v == 1 / 0 or v == -1 / 0 then
			out[n + 1] = v > 0 and "d1e999;" or "d-1e999;"
		else
			out[n + 1] = format("d%.17g;", v)
		end
		return n + 1
	elseif t == "table" then
		if getmetatable(v) == RAW then
			out[n + 1], out.raw = v, true
			return n + 1
		end
		out[n + 1] = "{"
		n = n + 1
		for k, x in next, v do
			n = enc(x, out, enc(k, out, n))
		end
		out[n + 1] = "}"
		return n + 1
	elseif t == "boolean" then
		out[n + 1] = v and "t" or "f"
		return n + 1
	elseif v == nil then
		out[n + 1] = "~"
		return n + 1
	end
	return enc(tostring(v), out, n)
end

-- the text between the raw lines escaped, the raw lines as they are
function M.line(v)
	local out = {}
	local n = enc(v, out, 0)
	if not out.raw then
		return escape(concat(out, "", 1, n))
	end
	local parts, from = {}, 1
	for i = 1, n do
		if type(out[i]) == "table" then
			parts[#parts + 1] = escape(concat(out, "", from, i - 1))
			parts[#parts + 1] = out[i][1]
			from = i + 1
		end
	end
	parts[#parts + 1] = escape(concat(out, "", from, n))
	return concat(parts)
end

function M.unescape(s)
	return (s:gsub("%%(%x%x)", BYTE))
end

return M
