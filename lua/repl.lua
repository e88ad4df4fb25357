-- skyctl repl: the evaluator behind `skyctl repl TARGET`, installed in the
-- prompt's session environment inside the service.  skyctl sends this
-- chunk once through the agent's eval operation (lua/agent.lua), which runs
-- it in the session environment (misses fall back to the service's
-- globals; print, _P, _U and hotfix are set by the agent); it defines
-- __skyctl_repl there.  Every line typed afterwards is one eval request
-- `__skyctl_repl("<line>")`: one round trip.
--
-- __skyctl_repl(src) compiles src as `return <src>` and, only if that does
-- not compile, as statements; it runs exactly one of them, once (a line is
-- never run twice).  A statement line's leading `local` is dropped, so
-- `local t = {}` keeps t for the next lines, as other Lua prompts do.
-- Values are printed tab-separated (one per line when one spans lines):
-- strings quoted, tables pretty-printed with sorted keys, to a bounded
-- depth and width, cycles marked, no metamethod run, and cut after LINES
-- lines; __skyctl_repl_more() (the prompt's .more) prints the last values
-- again, deeper and uncut.  Output goes through print, which the agent
-- captures; an error is raised again with its message ("repl:3: ..."),
-- after whatever was printed.
local env = _ENV
local load, xpcall, select, type, tostring, next, rawget, error =
	load, xpcall, select, type, tostring, next, rawget, error
local concat, sort, format = table.concat, table.sort, string.format
local getinfo = debug.getinfo

local DEPTH, WIDTH, STRLEN, LINE, LINES = 4, 100, 200, 72, 40
local MORE_DEPTH, MORE_WIDTH = 8, 100000
local last = { n = 0 }	-- the values shown last, for .more

local function quote(s, max)
	local cut = max and #s > max
	if cut then
		s = s:sub(1, max)
	end
	s = format("%q", s):gsub("\\\n", "\\n"):gsub("\r", "\\r")
	return cut and s .. "..." or s
end

local function scalar(v, max)
	local t = type(v)
	if t == "string" then
		return quote(v, max)
	elseif t == "number" or t == "boolean" or t == "nil" then
		return tostring(v)
	elseif t == "function" then
		local i = getinfo(v, "S")
		return i.what == "C" and "function: builtin" or
			format("function: %s:%d", i.short_src:match("[^/]*$"), i.linedefined)
	end
	return format("%s: %p", t, v)
end

-- numbers first, in order; then strings; then the rest by their text
local function before(a, b)
	local ta, tb = type(a), type(b)
	if ta ~= tb then
		return ta == "number" or (ta == "string" and tb ~= "number")
	elseif ta == "number" or ta == "string" then
		return a < b
	end
	return scalar(a) < scalar(b)
end

local pretty

-- the entries of table v as text, one per element of the result
local function entries(v, depth, indent, seen, width)
	local keys, n, more = {}, 0, 0
	for k in next, v do
		if n < width then
			n = n + 1
			keys[n] = k
		else
			more = more + 1
		end
	end
	sort(keys, before)
	local parts, i = {}, 1
	for j = 1, n do
		local k, key = keys[j], nil
		if k == i then
			key, i = "", i + 1
		elseif type(k) == "string" and k:match("^[%a_][%w_]*$") then
			key = k .. " = "
		else
			key = "[" .. scalar(k, STRLEN) .. "] = "
		end
		parts[j] = key .. pretty(rawget(v, k), depth - 1, indent .. "  ", seen, width)
	end
	if more > 0 then
		parts[n + 1] = format("... (%d more)", more)
	end
	return parts
end

-- v as text: tables on one line when short, else one entry a line
function pretty(v, depth, indent, seen, width)
	if type(v) ~= "table" then
		return scalar(v, STRLEN)
	elseif seen[v] then
		return "<cycle " .. scalar(v) .. ">"
	elseif next(v) == nil then
		return "{}"
	elseif depth <= 0 then
		return "{...}"
	end
	seen[v] = true
	local parts = entries(v, depth, indent, seen, width)
	seen[v] = nil
	local one = "{" .. concat(parts, ", ") .. "}"
	if #one + #indent <= LINE and not one:find("\n", 1, true) then
		return one
	end
	local inner = indent .. "  "
	return "{\n" .. inner .. concat(parts, ",\n" .. inner) .. "\n" .. indent .. "}"
end

-- the first max lines of text, and how many were left out
local function cut(text, max)
	local total = select(2, text:gsub("\n", "")) + 1
	if total <= max then
		return text, 0
	end
	local at = 0
	for _ = 1, max do
		at = text:find("\n", at + 1, true)
	end
	return text:sub(1, at - 1), total - max
end

local function show_values(t, n, depth, width, lines)
	local out, multi = {}, false
	for i = 1, n do
		local v = t[i]
		out[i] = type(v) == "string" and quote(v) or pretty(v, depth, "", {}, width)
		multi = multi or out[i]:find("\n", 1, true) ~= nil
	end
	local text, more = concat(out, multi and "\n" or "\t", 1, n), 0
	if lines then
		text, more = cut(text, lines)
	end
	if more > 0 then
		text = text .. format("\n... (%d more lines: .more shows them)", more)
	end
	env.print(text)
end

local function show(...)
	if select("#", ...) == 0 then
		return	-- a statement: .more keeps the values before it
	end
	last = { n = select("#", ...), ... }
	show_values(last, last.n, DEPTH, WIDTH, LINES)
end

function __skyctl_repl_more()
	show_values(last, last.n, MORE_DEPTH, MORE_WIDTH)
end

local function message(e)
	return type(e) == "string" and e or "(error object is " .. pretty(e, 2, "", {}, WIDTH) .. ")"
end

local function finish(ok, ...)
	if not ok then
		error(..., 0)
	end
	show(...)
end

-- src without a leading `local NAME [<attr>], ...`: the names go to the
-- session environment instead of dying with the line
local function unlocal(src)
	local pre, rest = src:match("^(%s*)local%s+(.*)$")
	if not pre then
		return src
	elseif rest:match("^function[%s(]") then
		return pre .. rest
	end
	local names, pos = {}, 1
	repeat
		local name, after = rest:match("^%s*([%a_][%w_]*)%s*()", pos)
		if not name then
			return src
		end
		names[#names + 1] = name
		pos = rest:match("^<%s*%a+%s*>%s*()", after) or after
		local comma = rest:match("^,%s*()", pos)
		pos = comma or pos
	until not comma
	local list = concat(names, ", ")
	if rest:match("^=", pos) then
		return pre .. list .. " " .. rest:sub(pos)
	end
	return pre .. list .. " = nil " .. rest:sub(pos)	-- as a fresh local starts
end

function __skyctl_repl(src)
	local f = load("return " .. src, "=repl", "t", env)
	local err
	if not f then
		f, err = load(unlocal(src), "=repl", "t", env)
		if not f then
			error(err, 0)
		end
	end
	finish(xpcall(f, message))
end
