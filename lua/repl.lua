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
-- never run twice).  Values are printed tab-separated (one per line when
-- one spans lines): strings quoted, tables pretty-printed with sorted keys,
-- to a bounded depth and width, cycles marked, no metamethod run.  Output
-- goes through print, which the agent captures; an error is raised again
-- with its message ("repl:3: ..."), after whatever was printed.
local env = _ENV
local load, xpcall, select, type, tostring, next, rawget, error =
	load, xpcall, select, type, tostring, next, rawget, error
local concat, sort, format = table.concat, table.sort, string.format
local getinfo = debug.getinfo

local DEPTH, WIDTH, STRLEN, LINE = 4, 100, 200, 72

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
local function entries(v, depth, indent, seen)
	local keys, n, more = {}, 0, 0
	for k in next, v do
		if n < WIDTH then
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
		parts[j] = key .. pretty(rawget(v, k), depth - 1, indent .. "  ", seen)
	end
	if more > 0 then
		parts[n + 1] = format("... (%d more)", more)
	end
	return parts
end

-- v as text: tables on one line when short, else one entry a line
function pretty(v, depth, indent, seen)
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
	local parts = entries(v, depth, indent, seen)
	seen[v] = nil
	local one = "{" .. concat(parts, ", ") .. "}"
	if #one + #indent <= LINE and not one:find("\n", 1, true) then
		return one
	end
	local inner = indent .. "  "
	return "{\n" .. inner .. concat(parts, ",\n" .. inner) .. "\n" .. indent .. "}"
end

local function show(...)
	local n = select("#", ...)
	if n == 0 then
		return
	end
	local t, multi = { ... }, false
	for i = 1, n do
		local v = t[i]
		t[i] = type(v) == "string" and quote(v) or pretty(v, DEPTH, "", {})
		multi = multi or t[i]:find("\n", 1, true) ~= nil
	end
	env.print(concat(t, multi and "\n" or "\t", 1, n))
end

local function message(e)
	return type(e) == "string" and e or "(error object is " .. pretty(e, 2, "", {}) .. ")"
end

local function finish(ok, ...)
	if not ok then
		error(..., 0)
	end
	show(...)
end

function __skyctl_repl(src)
	local f = load("return " .. src, "=repl", "t", env)
	local err
	if not f then
		f, err = load(src, "=repl", "t", env)
		if not f then
			error(err, 0)
		end
	end
	finish(xpcall(f, message))
end
