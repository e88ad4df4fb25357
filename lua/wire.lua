-- skyctl wire format, shared by skyctl itself and the agent it installs in
-- skynet services (the agent receives this file's source as an argument).
--
-- encode(v) turns nil, booleans, numbers, strings and tables of those into a
-- compact binary-safe string; decode(s) turns it back (it never runs code,
-- so a reply from a node is safe to decode).  Grammar:
--   ~ nil   t true   f false   i<int>;   d<float>;   s<len>:<bytes>
--   { key value key value ... }
-- Functions, userdata and threads encode as their tostring() text.
--
-- escape(s, ws) makes a string safe on a console line: '%', NUL, CR and LF
-- (and, when ws is true, every whitespace byte, for dbgcmd arguments that
-- the console splits on whitespace) become %XX.  unescape reverses it.
--
-- line(v) is escape(encode(v)), made while encoding; raw(s), where s came
-- from line(), is a value that line() writes as it is, so a hub can splice
-- the replies of many services into one line without decoding them.
local M = {}

local concat, format, char, sub, find = table.concat, string.format,
	string.char, string.sub, string.find
local mtype, tostring, tonumber, type, next, setmetatable, getmetatable =
	math.type, tostring, tonumber, type, next, setmetatable, getmetatable

local RAW = {}

function M.raw(s)
	return setmetatable({ s }, RAW)
end

-- encode v into out after position n; esc, if given, escapes each string
-- (the rest of the grammar has no byte escape changes)
local function enc(v, out, n, esc)
	local t = type(v)
	if t == "string" then
		out[n + 1] = "s" .. #v .. ":"
		out[n + 2] = esc and esc(v) or v
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
			out[n + 1] = v[1]
			return n + 1
		end
		out[n + 1] = "{"
		n = n + 1
		for k, x in next, v do
			n = enc(x, out, enc(k, out, n, esc), esc)
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
	return enc(tostring(v), out, n, esc)
end

function M.encode(v)
	local out = {}
	enc(v, out, 0)
	return concat(out)
end

function M.line(v)
	local out = {}
	enc(v, out, 0, M.escape)
	return concat(out)
end

local function dec(s, i, depth)
	local c = sub(s, i, i)
	if c == "s" then
		local colon = find(s, ":", i + 1, true)
		local len = colon and tonumber(sub(s, i + 1, colon - 1))
		if not len or colon + len > #s then
			error("bad string at " .. i, 0)
		end
		return sub(s, colon + 1, colon + len), colon + len + 1
	elseif c == "i" or c == "d" then
		local semi = find(s, ";", i + 1, true)
		local text = semi and sub(s, i + 1, semi - 1)
		local v
		if text == "0/0" then
			v = 0 / 0
		else
			v = text and tonumber(text)
		end
		if not v then
			error("bad number at " .. i, 0)
		end
		return v, semi + 1
	elseif c == "{" then
		if depth > 64 then
			error("nesting too deep", 0)
		end
		local t = {}
		i = i + 1
		while sub(s, i, i) ~= "}" do
			if i > #s then
				error("unterminated table", 0)
			end
			local k, v
			k, i = dec(s, i, depth + 1)
			v, i = dec(s, i, depth + 1)
			if k == nil or k ~= k then
				error("bad key at " .. i, 0)
			end
			t[k] = v
		end
		return t, i + 1
	elseif c == "t" then
		return true, i + 1
	elseif c == "f" then
		return false, i + 1
	elseif c == "~" then
		return nil, i + 1
	end
	error("bad byte at " .. i, 0)
end

-- return the value, or nil and a message when s is not well formed
function M.decode(s)
	local ok, v, i = pcall(dec, s, 1, 0)
	if not ok then
		return nil, v
	end
	if i ~= #s + 1 then
		return nil, "trailing bytes at " .. i
	end
	return v
end

-- byte -> "%XX" and "XX" -> byte, filled in as they are met: building all
-- 768 entries up front cost a peer service 0.2 ms and 67 KB at install
local HEX = setmetatable({}, { __index = function(t, k)
	local v = #k == 1 and format("%%%02x", k:byte()) or char(tonumber(k, 16))
	t[k] = v
	return v
end })

function M.escape(s, ws)
	return (s:gsub(ws and "[%%%z%s]" or "[%%%z\r\n]", HEX))
end

function M.unescape(s)
	return (s:gsub("%%(%x%x)", HEX))
end

return M
