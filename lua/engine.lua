-- skyctl engine: the part of skyctl's agent that lives in every service it
-- patches.  A hub (lua/agent.lua, in the service a client talks to) sends
-- this chunk's bytecode to each service it reaches, with one
-- `skynet.call(t, "debug", "RUN", engine, ..., mode, version, wire, req)`:
--   mode "run"      registers the debug commands SKYCTL1 (requests from a
--                   hub) and SKYCTL (the loader lua/boot.lua would
--                   register), then runs req;
--   mode "runonce"  (--no-agent) runs req and registers nothing;
--   mode "lib"      (the hub's own copy) returns the engine's functions.
-- Peers get only this chunk, not the hub's fan-out, console and prompt
-- code: every byte RUN carries to a thousand services costs each of them
-- an unpack, a load and memory of its own.  A console request reaching a
-- service that has only the engine is answered "SKYCTL1 upgrade <version>",
-- and skyctl loads the whole agent there through SKYCTL.
--
-- Operations (req.op): apply (req.dry: apply, record, revert; res.calls
-- names the service handlers the scripts ran, whose effects stay), ping,
-- remove; journal and rollback come from lua/journal.lua, with the first
-- request that needs them.  lua/agent.lua adds eval and complete (for a
-- prompt) and runs requests naming other targets.
--
-- What stays in a service: the debug commands SKYCTL and SKYCTL1 and the
-- table package.loaded["skyctl"] (engine state and the patch journal).  The
-- request {op = "remove"} (`skyctl uninstall`) unregisters both commands
-- and keeps only the journal, or nothing when the journal is empty;
-- `package.loaded.skyctl = nil` in a debug session drops a journal too.
--
-- Scripts run as stock `inject` runs them (print captured, _P, _U, ... =
-- arguments, chunk name "@<script name>"), atomically: the code tables
-- (the _P tables, package.loaded modules, globals, and the upvalues of the
-- functions found in them; bounded depth and entries per table, so data
-- tables are never walked) are snapshotted, and if a script raises, every
-- change it made to them is undone before the error is reported.
--
-- Hot-fix helpers, in the script's environment as `hotfix`:
--   hotfix.getupvalue(fn, name)      -> value, index (nil if fn has none)
--   hotfix.setupvalue(fn, name, v)   sets it (error if fn has no such upvalue)
--   hotfix.join(newfn, oldfn)        joins newfn's upvalues to oldfn's by
--                                    name (state is shared, not copied);
--                                    returns newfn
--   hotfix.replace(tbl, key, newfn)  join(newfn, tbl[key]), then
--                                    tbl[key] = newfn; returns the old one
--   hotfix.upvalues(fn)              -> { name = value, ... }
-- Example (fix.lua):
--   local CMD = _P.lua.CMD
--   hotfix.replace(CMD, "deposit", function(n)
--       assert(n > 0, "deposit must be positive")
--       balance = balance + n      -- the service's own `balance` upvalue
--       return balance
--   end)
-- Upvalue writes are tracked by recording debug.setupvalue and
-- debug.upvaluejoin while the script runs (the helpers use them).
local RUN_P, RUN_U = _P, _U -- set when this chunk runs under debug RUN
-- WIRE: lua/wire.lua's chunk (text or bytecode), or the module itself
local MODE, VERSION, WIRE, REQUEST = ...
local _G = _G
local assert, error, load, next, pairs, pcall, xpcall, select, setmetatable,
	tostring, type, rawget, rawset, rawequal, ipairs =
	assert, error, load, next, pairs, pcall, xpcall, select, setmetatable,
	tostring, type, rawget, rawset, rawequal, ipairs
local concat, unpack, sort = table.concat, table.unpack, table.sort
local format = string.format
local dbg = debug
local getupvalue, setupvalue, upvalueid, upvaluejoin, getinfo =
	dbg.getupvalue, dbg.setupvalue, dbg.upvalueid, dbg.upvaluejoin, dbg.getinfo
local getmetatable, setmetatable_raw = dbg.getmetatable, dbg.setmetatable
local skynet = require "skynet"
local sdebug = require "skynet.debug"

local CMD, LOADER = "SKYCTL1", "SKYCTL"
local PREFIX = CMD .. " "
local LIMIT_DEPTH, LIMIT_ENTRIES, LIMIT_TOTAL = 3, 1000, 40000

local wire = WIRE
if type(wire) ~= "table" then
	wire = assert(load(wire, "=skyctl-wire", "bt", _G))()
end

-- per-service state, kept across upgrades: the journal must survive them
local S = package.loaded.skyctl
if type(S) ~= "table" then
	S = { journal = {}, nextid = 1 }
end
package.loaded.skyctl = S

---------------------------------------------------------------- describing

local function basename(src)
	return (src:match("[^/]*$"))
end

-- where a Lua function was defined, "agent.lua:9"; nil for C functions
local function where(f)
	local info = getinfo(f, "S")
	if info.what == "C" then
		return nil
	end
	return basename(info.short_src) .. ":" .. info.linedefined
end

local function quote(s)
	if #s > 60 then
		s = s:sub(1, 57) .. "..."
	end
	return '"' .. s:gsub('[%c"\\]', function(c)
		return format("\\%d", c:byte())
	end) .. '"'
end

-- a one-line description of a value that runs none of its metamethods
local function describe(v)
	local t = type(v)
	if t == "function" then
		local w = where(v)
		return w and "function " .. w or "function (builtin)"
	elseif t == "string" then
		return quote(v)
	elseif t == "number" or t == "boolean" or t == "nil" then
		return tostring(v)
	end
	return format("%s: %p", t, v)
end

local function keypath(base, k)
	if type(k) == "string" and k:match("^[%a_][%w_]*$") then
		return base .. "." .. k
	end
	return base .. "[" .. (type(k) == "string" and quote(k) or describe(k)) .. "]"
end

---------------------------------------------------------------- _P and _U

-- stock inject's walk: table-valued upvalues of f and of the functions
-- reachable through its upvalues, by name
local function uptables(u, f, seen)
	local i = 1
	while true do
		local name, v = getupvalue(f, i)
		if name == nil then
			return
		end
		local t = type(v)
		if t == "table" then
			u[name] = v
		elseif t == "function" and not seen[v] then
			seen[v] = true
			uptables(u, v, seen)
		end
		i = i + 1
	end
end

-- true while this chunk runs under a RUN that brought a request (modes
-- "run" and "runonce"): RUN_P and RUN_U are then what inject_tables
-- would compute, fresh and at no cost
local running = RUN_U ~= nil and (MODE == "run" or MODE == "runonce")

-- code RUN in this very service to capture the tables RUN gives a script
local CAPTURE = "local S = package.loaded.skyctl S.P, S.U = _P, _U"

-- The _P and _U tables stock inject would give a script now: computed like
-- inject does from the functions skynet's debug protocol hands it when
-- skynet exposes them, else captured by RUNning CAPTURE in this service.
local function inject_tables()
	if running then
		return RUN_P, RUN_U
	end
	local d, r = skynet.dispatch_message, skynet.register_protocol
	if type(d) ~= "function" or type(r) ~= "function" then
		if RUN_U then
			return RUN_P, RUN_U
		end
		skynet.call(skynet.self(), "debug", "RUN", CAPTURE, "skyctl")
		return S.P or {}, S.U or {}
	end
	if not S.U then
		local U, useen = {}, {}
		uptables(U, d, useen)
		uptables(U, r, useen)
		S.U, S.Useen = U, useen
	end
	local proto = S.U.proto
	if type(proto) ~= "table" then
		return {}, S.U
	end
	local seen = setmetatable({}, { __index = S.Useen })
	local P = {}
	for _, p in pairs(proto) do
		local name, dispatch = p.name, p.dispatch
		if name and dispatch and not P[name] then
			local pp = {}
			P[name] = pp
			uptables(pp, dispatch, seen)
		end
	end
	return P, S.U
end

---------------------------------------------------------------- tracking

local function same(a, b)
	return rawequal(a, b) or (a ~= a and b ~= b)
end

-- Snapshot the code tables, breadth first from the roots (the _P tables,
-- package.loaded and its modules, _G) through table entries, at most
-- LIMIT_DEPTH tables deep: each table with at most LIMIT_ENTRIES entries is
-- copied (a bigger one is data: listed in snap.large, never walked).
-- Upvalues are not copied: the only ways to change another function's
-- upvalue are debug.setupvalue and debug.upvaluejoin, which are recorded
-- while a script runs (see recorder).  Paths are parent links, turned to
-- text on demand.
local function track(P, skip)
	local snap = { order = {}, copy = {}, count = {}, mt = {}, up = {}, key = {}, large = {},
		deep = 0, truncated = false }
	local copy, count, order, mt, up, key = snap.copy, snap.count, snap.order, snap.mt,
		snap.up, snap.key
	local claimed, total, deep = {}, 0, 0
	local qv, qd, qn = {}, {}, 0
	local loaded = package.loaded
	for name, m in next, loaded do
		if type(m) == "table" and type(name) == "string" then
			claimed[m] = true
		end
	end
	claimed[_G] = true
	local function root(t, name, d)
		if not key[t] and not skip[t] then
			key[t] = name
			qn = qn + 1
			qv[qn], qd[qn] = t, d
		end
	end
	for pname, tables in pairs(P) do
		for name, t in pairs(tables) do
			if type(t) == "table" and not claimed[t] then
				root(t, keypath(keypath("_P", pname), name), 1)
			end
		end
	end
	root(loaded, "package.loaded", 0)
	root(_G, "_G", 0)
	local qi = 1
	while qi <= qn do
		local v, d = qv[qi], qd[qi]
		qi = qi + 1
		local c, n, qn0, deep0 = {}, 0, qn, deep
		for k, x in next, v do
			n = n + 1
			if n > LIMIT_ENTRIES then
				c = nil
				break
			end
			c[k] = x
			if type(x) == "table" and not key[x] and not skip[x]
				and (not claimed[x] or v == loaded) then
				if d < LIMIT_DEPTH then
					up[x], key[x] = v, k
					qn = qn + 1
					qv[qn], qd[qn] = x, d + 1
				else
					deep = deep + 1
				end
			end
		end
		if not c or total + n > LIMIT_TOTAL then
			for j = qn0 + 1, qn do -- forget the children of a table not kept
				up[qv[j]], key[qv[j]] = nil, nil
			end
			qn, deep = qn0, deep0
			if c then
				snap.truncated = true
			else
				snap.large[#snap.large + 1] = v
			end
		else
			total = total + n
			order[#order + 1] = v
			copy[v], count[v] = c, n
			local m = getmetatable(v)
			if m then
				mt[v] = m
			end
		end
	end
	snap.total, snap.deep = total, deep
	return snap
end

local function tpath(snap, t)
	local parent = snap.up[t]
	if parent then
		return keypath(tpath(snap, parent), snap.key[t])
	end
	return snap.key[t] or describe(t)
end

-- the path of a function found in a tracked table, else its description
local function fpath(snap, f)
	for _, t in ipairs(snap.order) do
		for k, x in next, snap.copy[t] do
			if rawequal(x, f) then
				return keypath(tpath(snap, t), k)
			end
		end
	end
	return describe(f)
end

-- a closure whose only upvalue is upvalue i of f (keeps that cell alive)
local function anchor_of(f, i)
	local x
	local a = function() return x end
	upvaluejoin(a, 1, f, i)
	return a
end

-- Record the upvalue writes of the running script: returns the functions
-- that stand in for debug.setupvalue and debug.upvaluejoin while it runs,
-- and the log they fill: the first write to each upvalue of a function the
-- script did not create, made from the script's own coroutine.
local function recorder(chunkname)
	local log, seen, co = {}, {}, coroutine.running()
	local function note(kind, f, i)
		if coroutine.running() ~= co or type(f) ~= "function" then
			return
		end
		local name, old = getupvalue(f, i)
		if not name or getinfo(f, "S").source == chunkname then
			return
		end
		local key = tostring(i) .. kind
		local slot = seen[f]
		if not slot then
			slot = {}
			seen[f] = slot
		end
		if kind == "join" and not slot[key] then
			slot[key] = true
			log[#log + 1] = { kind = "join", f = f, i = i, name = name, old = old,
				oldid = upvalueid(f, i), anchor = anchor_of(f, i) }
		elseif kind == "upvalue" and not slot[key] and not slot[tostring(i) .. "join"] then
			slot[key] = true
			log[#log + 1] = { kind = "upvalue", f = f, i = i, name = name, old = old }
		end
	end
	local function set(f, i, v)
		note("upvalue", f, i)
		return setupvalue(f, i, v)
	end
	local function join(f1, n1, f2, n2)
		note("join", f1, n1)
		return upvaluejoin(f1, n1, f2, n2)
	end
	return set, join, log
end

-- Compare the code tables with the snapshot and add the upvalue writes of
-- log; return the list of changes and move the snapshot forward.
local function diff(snap, log)
	local changes = {}
	local function add(c)
		changes[#changes + 1] = c
	end
	for _, t in ipairs(snap.order) do
		local c = snap.copy[t]
		local n, added = 0, 0
		for k, v in next, t do
			n = n + 1
			if n > 4 * LIMIT_ENTRIES then
				add({ kind = "overflow", path = tpath(snap, t), what = "overflow" })
				break
			end
			local o = c[k]
			if not same(o, v) then
				if o == nil then
					added = added + 1
				end
				add({ kind = "field", t = t, k = k, old = o, new = v, path = keypath(tpath(snap, t), k),
					what = o == nil and "added" or "changed" })
				c[k] = v
			end
		end
		if n - added ~= snap.count[t] then -- some key of the copy is gone
			for k, o in next, c do
				if rawget(t, k) == nil then
					add({ kind = "field", t = t, k = k, old = o, path = keypath(tpath(snap, t), k),
						what = "removed" })
					c[k] = nil
				end
			end
		end
		snap.count[t] = n
		local m = getmetatable(t)
		if not rawequal(m, snap.mt[t]) then
			add({ kind = "metatable", t = t, old = snap.mt[t], new = m, path = tpath(snap, t),
				what = "changed" })
			snap.mt[t] = m
		end
	end
	for _, r in ipairs(log) do
		local _, v = getupvalue(r.f, r.i)
		r.new, r.path = v, fpath(snap, r.f)
		if r.kind == "join" then
			r.newid = upvalueid(r.f, r.i)
			if r.newid ~= r.oldid then
				r.what = "joined"
				add(r)
			end
		elseif not same(v, r.old) then
			r.what = "changed"
			add(r)
		end
	end
	return changes
end

-- put back the old value of one change; false when it cannot be undone
local function undo(c)
	local k = c.kind
	if k == "field" then
		rawset(c.t, c.k, c.old)
	elseif k == "metatable" then
		setmetatable_raw(c.t, c.old)
	elseif k == "upvalue" then
		setupvalue(c.f, c.i, c.old)
	elseif k == "join" then
		upvaluejoin(c.f, c.i, c.anchor, 1)
	else
		return false
	end
	return true
end

-- undo a list of changes, newest first; add the paths that could not be
-- undone to stuck and return it
local function revert(changes, stuck)
	for j = #changes, 1, -1 do
		if not undo(changes[j]) then
			stuck[#stuck + 1] = changes[j].path
		end
	end
	return stuck
end

-- the serializable view of a change
local function export(c)
	local e = { path = c.path, what = c.what, kind = c.kind }
	if c.kind == "upvalue" or c.kind == "join" then
		e.upvalue = c.name
	end
	if c.kind ~= "overflow" then
		e.old, e.new = describe(c.old), describe(c.new)
	end
	return e
end

local function export_all(changes)
	local out = {}
	for j, c in ipairs(changes) do
		out[j] = export(c)
	end
	return out
end

---------------------------------------------------------------- scripts

local function find_upvalue(f, name)
	local i = 1
	while true do
		local n, v = getupvalue(f, i)
		if n == nil then
			return nil
		elseif n == name then
			return i, v
		end
		i = i + 1
	end
end

-- the hotfix library; it writes upvalues through debug, so they are recorded
local function helpers()
	local H = {}
	function H.getupvalue(f, name)
		local i, v = find_upvalue(f, name)
		return v, i
	end
	function H.setupvalue(f, name, v)
		local i = find_upvalue(f, name)
		if not i then
			error(format("no upvalue %s in %s", name, describe(f)), 2)
		end
		dbg.setupvalue(f, i, v)
	end
	function H.upvalues(f)
		local t, i = {}, 1
		while true do
			local n, v = getupvalue(f, i)
			if n == nil then
				return t
			end
			t[n] = v
			i = i + 1
		end
	end
	function H.join(new, old)
		if type(new) ~= "function" then
			error("hotfix.join: the new value is not a function", 2)
		end
		local i = 1
		while true do
			local n = getupvalue(new, i)
			if n == nil then
				return new
			end
			local j = type(old) == "function" and find_upvalue(old, n)
			if j then
				dbg.upvaluejoin(new, i, old, j)
			elseif n == "_ENV" then
				-- the script's environment dies with the run: use the globals
				local g = _G
				dbg.upvaluejoin(new, i, function() return g end, 1)
			end
			i = i + 1
		end
	end
	function H.replace(t, k, new)
		if type(t) ~= "table" then
			error(format("hotfix.replace: a table expected, got %s", type(t)), 2)
		elseif type(new) ~= "function" then
			error("hotfix.replace: the new value is not a function", 2)
		end
		local old = t[k]
		H.join(new, old)
		t[k] = new
		return old
	end
	return H
end

local function printer(out)
	return function(...)
		local n = select("#", ...)
		local t = { ... }
		for j = 1, n do
			t[j] = tostring(t[j])
		end
		out[#out + 1] = concat(t, "\t", 1, n)
	end
end

local function errmsg(e)
	return type(e) == "string" and e or describe(e)
end

-- an instruction-count hook that stops a script running past its time;
-- given calls, also a call hook noting the functions called (a bounded set)
local function watchdog(seconds, calls)
	local deadline, n = skynet.now() + seconds * 100, 0
	return function(event)
		if event == "count" then
			if skynet.now() > deadline then
				error(format("script still running after %g s: stopped", seconds), 2)
			end
		elseif n < LIMIT_ENTRIES then
			local f = getinfo(2, "f").func
			if not calls[f] then
				n = n + 1
				calls[f] = true
			end
		end
	end
end

-- Run one script in a fresh inject-style environment with its upvalue
-- writes recorded (and the functions it calls, in calls if given),
-- stopped after timeout seconds; return ok, the error, and the log of
-- upvalue writes.
local function run_script(sc, args, P, U, out, timeout, calls)
	local env = setmetatable({ print = printer(out), _P = P, _U = U, hotfix = helpers() },
		{ __index = _G })
	local chunkname = "@" .. sc.name
	local f, err = load(sc.src, chunkname, "t", env)
	if not f then
		return false, err, {}
	end
	local set, join, log = recorder(chunkname)
	local real_set, real_join = dbg.setupvalue, dbg.upvaluejoin
	local hook, mask, count = dbg.gethook()
	dbg.setupvalue, dbg.upvaluejoin = set, join
	dbg.sethook(watchdog(timeout, calls), calls and "c" or "", 100000)
	local ok, e = xpcall(f, errmsg, unpack(args, 1, args.n or #args))
	dbg.sethook(hook, mask, count)
	dbg.setupvalue, dbg.upvaluejoin = real_set, real_join
	return ok, e, log
end

---------------------------------------------------------------- operations

-- The paths under _P of the service's handlers among the functions called:
-- a dry run cannot undo what they did to the service's state.
local function handlers(snap, called)
	local list = {}
	for _, t in ipairs(snap.order) do
		local base
		for k, x in next, snap.copy[t] do
			if called[x] then
				called[x] = nil
				base = base or tpath(snap, t)
				if base:sub(1, 3) == "_P." then
					list[#list + 1] = keypath(base, k)
				end
			end
		end
	end
	sort(list)
	return #list > 0 and list or nil
end

local OPS = {}

local function clock()
	return skynet.hpc and skynet.hpc() // 1000 or os.clock() * 1e6 // 1
end

-- The replaced functions some suspended task of the service is still
-- running (found on the stacks of the coroutines skynet keeps by session):
-- { { path = , tasks = n } }, or nil.
local function busy(U, lists)
	local sessions = U.session_id_coroutine
	if type(sessions) ~= "table" then
		return nil
	end
	local old = {}
	for _, changes in ipairs(lists) do
		for _, c in ipairs(changes) do
			if type(c.old) == "function" and c.what ~= "added" then
				old[c.old] = old[c.old] or c.path
			end
		end
	end
	local count, n = {}, 0
	for _, co in next, sessions do
		n = n + 1
		if n > 10000 or not next(old) then
			break
		end
		if type(co) == "thread" then
			for level = 0, 64 do
				local info = getinfo(co, level, "f")
				if not info then
					break
				end
				local p = old[info.func]
				if p then
					count[p] = (count[p] or 0) + 1
					break
				end
			end
		end
	end
	local list = {}
	for p, k in pairs(count) do
		list[#list + 1] = { path = p, tasks = k }
	end
	return #list > 0 and list or nil
end

-- apply (or, with req.dry, try and revert) the scripts in this service
function OPS.apply(req)
	local t0 = clock()
	local P, U = inject_tables()
	local snap = track(P, { [S] = true, [dbg] = true })
	local res = { ok = true, scripts = {} }
	local done, calls = {}, req.dry and {} or nil
	for i, sc in ipairs(req.scripts) do
		local out = {}
		local ok, err, log = run_script(sc, req.args or {}, P, U, out, req.timeout or 10, calls)
		local changes = diff(snap, log)
		res.scripts[i] = { name = sc.name, out = out, changes = export_all(changes) }
		if not ok then
			local stuck = revert(changes, {})
			for j = #done, 1, -1 do
				revert(done[j], stuck)
			end
			res.ok, res.err, res.failed = false, err, i
			if #stuck > 0 then
				res.stuck = stuck
			end
			break
		end
		done[i] = changes
	end
	if res.ok then
		res.busy = busy(U, done)
	end
	if calls then
		res.calls = handlers(snap, calls)
	end
	if res.ok and req.dry then
		local stuck = {}
		for j = #done, 1, -1 do
			revert(done[j], stuck)
		end
		res.stuck = #stuck > 0 and stuck or nil
	elseif res.ok then
		for i, sc in ipairs(req.scripts) do
			local id = S.nextid
			S.nextid = id + 1
			S.journal[#S.journal + 1] = {
				id = id, kind = "apply", name = sc.name, sha = sc.sha, batch = req.batch,
				time = req.time or os.time(), who = req.who, state = "applied",
				changes = done[i],
			}
			res.scripts[i].id = id
		end
	end
	local large = {}
	for j = 1, math.min(#snap.large, 20) do
		large[j] = tpath(snap, snap.large[j])
	end
	res.untracked = { large = large, nlarge = #snap.large, deep = snap.deep,
		truncated = snap.truncated, tracked = snap.total,
		entries = LIMIT_ENTRIES, depth = LIMIT_DEPTH, total = LIMIT_TOTAL }
	res.cost = clock() - t0
	return res
end

function OPS.ping()
	return { ok = true, version = VERSION, journal = #S.journal }
end

-- unregister the commands; keep only the journal in package.loaded.skyctl
function OPS.remove()
	sdebug.reg_debugcmd(CMD, nil)
	sdebug.reg_debugcmd(LOADER, nil)
	for k in pairs(S) do
		if k ~= "journal" and k ~= "nextid" then
			S[k] = nil
		end
	end
	return { ok = true, removed = true, journal = #S.journal }
end

-- what lua/journal.lua (and lua/agent.lua, in a hub) build on
local E = {
	S = S, OPS = OPS, same = same, undo = undo, export = export, export_all = export_all,
	describe = describe, errmsg = errmsg, helpers = helpers, printer = printer,
	watchdog = watchdog, inject_tables = inject_tables,
}

local function handle_local(req)
	if not OPS[req.op] and req.journal_ops == false then
		-- a hub that believed this service had lua/journal.lua: it sends
		-- the chunk again (the engine was installed anew since)
		return { ok = false, journal_missing = true }
	elseif not OPS[req.op] and req.journal_ops then -- loaded once, kept
		local chunk, err = load(req.journal_ops, "=skyctl-journal", "bt", _G)
		local ok = false
		if chunk then
			ok, err = pcall(chunk, E)
		end
		if not ok then
			return { ok = false, err = "skyctl agent: journal operations: " .. tostring(err) }
		end
	end
	local op = OPS[req.op]
	if not op then
		return { ok = false, err = "unknown operation " .. tostring(req.op) }
	end
	local ok, res = xpcall(op, errmsg, req)
	if not ok then
		return { ok = false, err = "skyctl agent: " .. res }
	end
	return res
end

---------------------------------------------------------------- requests

-- run a request from a hub; one made for another version gets an upgrade
-- table
local function handle(req)
	if req.v ~= VERSION then
		return { ok = false, upgrade = true, have = VERSION }
	end
	return handle_local(req)
end

-- A peer answers a hub's request with its reply already in line form
-- (wire.line, its address included) and whether it went well: the hub
-- splices a thousand of them into its own reply without decoding any.
local function peer_reply(rep)
	rep.addr = skynet.self()
	return rep.ok == true, wire.line(rep)
end

-- answer a hub's request (a table) with peer_reply, or, for the hub to act
-- on, its upgrade or journal_missing table
local function answer_hub(req)
	local rep = handle(req)
	if rep.upgrade or rep.journal_missing then
		return skynet.ret(skynet.pack(rep))
	end
	return skynet.ret(skynet.pack(peer_reply(rep)))
end

-- The SKYCTL1 debug command of a service that has only the engine: a
-- console client is asked to load the whole agent (through SKYCTL)
local function command(req)
	if type(req) == "table" then
		return answer_hub(req)
	end
	return skynet.ret(skynet.pack(PREFIX .. "upgrade " .. VERSION))
end

-- after a --no-agent run: a service with no engine registered and no
-- patch journal keeps nothing of skyctl's
local function tidy()
	if not S.version and #S.journal == 0 and package.loaded.skyctl == S then
		package.loaded.skyctl = nil
	end
end

-- the SKYCTL debug command: load a %XX-escaped chunk, run it with its
-- source and the args (what lua/boot.lua's line does)
local function loader(s, ...)
	local c = wire.unescape(s)
	assert(load(c, "=skyctl", "t", _G))(c, ...)
end

---------------------------------------------------------------- main

if MODE == "lib" then
	E.handle, E.handle_local, E.answer_hub, E.peer_reply, E.loader, E.tidy =
		handle, handle_local, answer_hub, peer_reply, loader, tidy
	return E
end
if MODE == "run" and S.version ~= VERSION then
	-- an agent of this version (the whole one, or this engine) is kept
	if S.cmd and S.cmd ~= CMD then
		sdebug.reg_debugcmd(S.cmd, nil) -- an older agent's command
	end
	S.version, S.cmd, S.U, S.Useen = VERSION, CMD, nil, nil
	sdebug.reg_debugcmd(CMD, command)
	sdebug.reg_debugcmd(LOADER, loader)
end
local ok, line = peer_reply(handle(REQUEST))
print((ok and "t" or "f") .. line)
running = false
if MODE == "runonce" then
	tidy()
end
