-- skyctl apply operations: running scripts in a service as stock inject
-- does, tracking what they change, the checks (ops apply and exec; and
-- run_line, helpers, printer and watchdog for lua/agent.lua's prompt).
-- Like lua/journal.lua, this chunk is called with lua/engine.lua's
-- internals and adds to them; a hub sends it along with the requests that
-- need it (req.ops), so a service asked for its journal loads none of it.
--
-- Scripts run as stock `inject` runs them (print captured, _P, _U, ... =
-- arguments, chunk name "@<script name>"), atomically: the code tables
-- (the _P tables, package.loaded modules, globals, and the upvalues of the
-- functions found in them; bounded depth and entries per table, so data
-- tables are never walked) are snapshotted, and if a script raises, every
-- change it made to them is undone before the error is reported.  The
-- snapshot grows with the script: what it reaches is copied before it
-- gets there, all of it before the service's own code runs (keep_ahead).
-- apply's req.dry: apply, record, revert (res.calls names the service
-- handlers the scripts ran, whose effects stay).
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
local E = ...
local S, J, OPS, same, undo, export_all, describe, errmsg, inject_tables, in_place,
	journal_add, basename, where, keypath, upvalues, gc_resume, info_of, messages =
	E.S, E.J, E.OPS, E.same, E.undo, E.export_all, E.describe, E.errmsg, E.inject_tables,
	E.in_place, E.journal_add, E.basename, E.where, E.keypath, E.upvalues, E.gc_resume,
	E.info_of, E.messages
local error, load, next, pairs, pcall, xpcall, select, setmetatable, tostring, type, rawget,
	rawset, rawequal, ipairs =
	error, load, next, pairs, pcall, xpcall, select, setmetatable, tostring, type, rawget,
	rawset, rawequal, ipairs
local concat, unpack, sort = table.concat, table.unpack, table.sort
local format = string.format
local dbg = debug
local getupvalue, setupvalue, upvalueid, upvaluejoin, getinfo =
	dbg.getupvalue, dbg.setupvalue, dbg.upvalueid, dbg.upvaluejoin, dbg.getinfo
local require, metatable_of = require, getmetatable -- the script's (metatable_of: __metatable)
local getmetatable, getlocal, gethook, sethook = dbg.getmetatable, dbg.getlocal, dbg.gethook,
	dbg.sethook
local pack = table.pack
local skynet = require "skynet"

local LIMIT_DEPTH, LIMIT_ENTRIES, LIMIT_TOTAL = 3, 1000, 40000

-- skynet's scheduler: the tables of _U that file its coroutines and
-- sessions (skynet.lua's locals of these names, 1.4 to HEAD).  Every message
-- changes them, and a script does through skynet.fork, timeout, call and
-- sleep; they are never tracked, so never put back: a coroutine put back in
-- coroutine_pool after skynet.fork took it (and handed it its function)
-- runs that function for the next message in place of its handler.  What a
-- script scheduled is found apart (sched_start).
local function scheduler(name)
	return name == "coroutine_pool" or name == "fork_queue" or name == "session_id_coroutine"
		or name == "session_coroutine_id" or name == "session_coroutine_address"
		or name == "session_coroutine_tracetag" or name == "unresponse"
		or name == "wakeup_queue" or name == "sleep_session" or name == "watching_session"
		or name == "error_queue" or name == "trace_source"
end

-- The rest of this chunk is one function, operations: its closures reach
-- the locals above as upvalues of that function, a copy each, where
-- reaching a local of the chunk itself walks the list of the chunk's open
-- upvalues, a hundred long.  That walk was two fifths of what running this
-- chunk cost, once a request in each service the request reaches.
local function operations()
	---------------------------------------------------------------- tracking

	-- Snapshot the code tables, breadth first from the roots (the _P tables,
	-- package.loaded and its modules, _G) through table entries, at most
	-- LIMIT_DEPTH tables deep: each table with at most LIMIT_ENTRIES entries is
	-- copied (a bigger one is data: listed in snap.large, never walked).  The
	-- data the service's handlers reach is copied too: the tables held in the
	-- upvalues of the functions in the _P tables, and the tables of _U (one
	-- level: skynet's own state).  Upvalues are not copied: the only ways to
	-- change another function's upvalue are debug.setupvalue and
	-- debug.upvaluejoin, which are recorded while a script runs (see
	-- recorder).  Paths are parent links, turned to text on demand.
	-- A script's snapshot is taken a part at a time (track_start, keep_ahead).
	-- The copies are one flat array, snap.F: table t's entries are the key,
	-- value pairs F[at[t] + 1 .. at[t] + 2 * count[t]], in t's own order (no
	-- table built per table copied: less to allocate and to collect).
	local function snap_new(skip)
		local snap = { order = {}, F = {}, fn = 0, at = {}, count = {}, mt = {}, up = {},
			key = {}, large = {}, islarge = {}, internal = {}, inP = {}, deep = 0, total = 0,
			truncated = false, skip = skip, claimed = {}, qv = {}, qd = {}, qn = 0, qi = 1,
			fname = {} }
		for name, m in next, package.loaded do
			if type(m) == "table" and type(name) == "string" then
				snap.claimed[m] = name
			end
		end
		snap.claimed[_G] = "_G"
		return snap
	end

	-- whether reaching v means reaching every code table
	local function reaches_all(v)
		return v == _G or v == package or v == package.loaded
	end

	local function module_path(snap, m)
		return keypath("package.loaded", snap.claimed[m])
	end

	-- queue t as a root named name at depth d (a table known already is
	-- not).  name: a string, or { upvalue name, table, key } for a table in an
	-- upvalue of the function table[key], named when asked (tpath); given
	-- base, the name is base's entry name, made when asked too
	local function snap_root(snap, t, name, d, base)
		if not snap.key[t] and not snap.skip[t] then
			snap.key[t], snap.up[t] = name, base
			snap.qn = snap.qn + 1
			snap.qv[snap.qn], snap.qd[snap.qn] = t, d
			return true
		end
	end

	-- copy the queued tables and the tables below them
	local function snap_walk(snap)
		local F, at, count, order, up, key =
			snap.F, snap.at, snap.count, snap.order, snap.up, snap.key
		local claimed, skip, qv, qd, inP = snap.claimed, snap.skip, snap.qv, snap.qd, snap.inP
		local loaded = package.loaded
		local qi, qn, deep, fn = snap.qi, snap.qn, snap.deep, snap.fn
		local lazy = not snap.full
		while qi <= qn do
			local v, d = qv[qi], qd[qi]
			qi = qi + 1
			local c, n, qn0, deep0, start = true, 0, qn, deep, fn
			local leaf, p = snap.internal[v], inP[v] -- skynet's state: entries only
			for k, x in next, v do
				n = n + 1
				if n > LIMIT_ENTRIES then
					c = false
					break
				end
				F[fn + 1], F[fn + 2] = k, x
				fn = fn + 2
				if type(x) == "table" and not key[x] and not skip[x] then
					if claimed[x] and v ~= loaded then
						-- a module (or _G) is tracked as itself: below package.loaded
						-- once the snapshot is whole, before that as the script nears it
						if lazy and reaches_all(x) then
							snap.want_full = true
						elseif lazy then
							key[x] = module_path(snap, x)
							qn = qn + 1
							qv[qn], qd[qn] = x, 1
						end
					elseif not leaf and d < LIMIT_DEPTH then
						up[x], key[x], inP[x] = v, k, p
						qn = qn + 1
						qv[qn], qd[qn] = x, d + 1
					elseif not leaf then
						deep = deep + 1
					end
				end
			end
			if not c or snap.total + n > LIMIT_TOTAL then
				for j = qn0 + 1, qn do -- forget the children of a table not kept
					up[qv[j]], key[qv[j]] = nil, nil
				end
				qn, deep, fn = qn0, deep0, start
				if c then
					snap.truncated = true
				else
					snap.large[#snap.large + 1] = v
					snap.islarge[v] = true
				end
			else
				snap.total = snap.total + n
				order[#order + 1] = v
				at[v], count[v] = start, n
				local m = getmetatable(v)
				if m then
					snap.mt[v] = m
				end
			end
		end
		snap.qi, snap.qn, snap.deep, snap.fn = qi, qn, deep, fn
	end

	-- where the copy of tracked table t lies in snap.F: its pairs are
	-- F[i], F[i + 1] for i = first, last, 2
	local function span(snap, t)
		local at = snap.at[t]
		return at + 1, at + 2 * snap.count[t]
	end

	-- the copy of t (a tracked table) as a table
	local function copy_of(snap, t)
		local F, c = snap.F, {}
		local first, last = span(snap, t)
		for i = first, last, 2 do
			c[F[i]] = F[i + 1]
		end
		return c
	end

	local function tpath(snap, t)
		local parent = snap.up[t]
		if type(parent) == "string" then -- a root: its name's base
			return keypath(parent, snap.key[t])
		elseif parent then
			return keypath(tpath(snap, parent), snap.key[t])
		end
		local name = snap.key[t]
		if type(name) == "table" then
			name = "(upvalue " .. name[1] .. " of " .. keypath(tpath(snap, name[2]), name[3]) .. ")"
			snap.key[t] = name
		end
		return name or describe(t)
	end

	-- the tables in the upvalues of the function t[k] as roots
	local function snap_upvalues(snap, t, k, f)
		local claimed = snap.claimed
		for i = 1, 255 do
			local name, v = getupvalue(f, i)
			if name == nil then
				break
			elseif type(v) == "table" and not claimed[v] then
				snap_root(snap, v, { name, t, k }, 1)
			end
		end
	end

	local function tostring_order(a, b)
		return tostring(a) < tostring(b)
	end

	-- entry name of protocol pname's _P table, and entry name of _U, as roots
	local function root_P(snap, pname, name, t)
		if type(t) == "table" and not snap.claimed[t]
			and snap_root(snap, t, name, 1, keypath("_P", pname)) then
			snap.inP[t] = true
		end
	end

	-- (skynet's protocols, proto, a level deeper: their class tables hold
	-- the dispatch functions skynet.dispatch replaces; its scheduler's
	-- tables never, wherever they are met: the debug protocol's dispatch
	-- holds some as upvalues too)
	local function root_U(snap, name, t)
		if type(t) ~= "table" or snap.claimed[t] then
			return
		elseif scheduler(name) then
			snap.skip[t] = true
		elseif name == "proto" then
			snap_root(snap, t, name, LIMIT_DEPTH - 1, "_U")
		elseif snap_root(snap, t, name, LIMIT_DEPTH, "_U") then
			snap.internal[t] = true
		end
	end

	-- the rest of the code tables: the _P and _U tables not copied yet,
	-- package.loaded and its modules, _G, and the data of the handlers (the
	-- tables in the upvalues of _P's functions)
	local function track_rest(snap)
		if snap.full then
			return
		end
		snap.full = true
		for pname, tables in pairs(snap.P) do
			for name, t in pairs(tables) do
				root_P(snap, pname, name, t)
			end
		end
		for name, t in pairs(snap.U) do
			root_U(snap, name, t)
		end
		snap_root(snap, package.loaded, "package.loaded", 0)
		snap_root(snap, _G, "_G", 0)
		snap_walk(snap)
		for j = 1, #snap.order do
			local t = snap.order[j]
			if snap.inP[t] then
				-- in key order: a table two handlers share has one name
				local keys, fns, strings, F = {}, {}, true, snap.F
				local first, last = span(snap, t)
				for i = first, last, 2 do
					if type(F[i + 1]) == "function" then
						keys[#keys + 1], fns[F[i]] = F[i], F[i + 1]
						strings = strings and type(F[i]) == "string"
					end
				end
				sort(keys, not strings and tostring_order or nil)
				for _, k in ipairs(keys) do -- the handlers as they were (the script may have run)
					snap_upvalues(snap, t, k, fns[k])
				end
			end
		end
		snap_walk(snap)
	end

	-- snap_walk, then the rest if the walk came upon _G (see snap_walk)
	local function walk_near(snap)
		snap_walk(snap)
		if snap.want_full then
			track_rest(snap)
		end
	end

	-- Snapshot what a script reaches first, the _P tables (and the tables
	-- below them) and _U's tables; the rest (package.loaded and its modules,
	-- _G, the data of the handlers) is left to track_rest, which runs only
	-- once the script may reach it unseen (see keep_ahead).  A script that sets
	-- a handler or two reaches no more than this.
	local function track_start(P, U, skip)
		local snap = snap_new(skip)
		snap.P, snap.U = P, U
		return snap
	end

	-- all the code tables at once (a line typed at a prompt)
	local function track(P, U, skip)
		local snap = track_start(P, U, skip)
		track_rest(snap)
		return snap
	end

	-- the path of a function found in a tracked table, else its description
	local function fpath(snap, f)
		local F = snap.F
		for _, t in ipairs(snap.order) do
			local first, last = span(snap, t)
			for i = first, last, 2 do
				if rawequal(F[i + 1], f) then
					return keypath(tpath(snap, t), F[i])
				end
			end
		end
		return snap.fname[f] or describe(f)
	end

	-- a closure whose only upvalue is upvalue i of f (keeps that cell alive)
	local function anchor_of(f, i)
		local x
		local a = function() return x end
		upvaluejoin(a, 1, f, i)
		return a
	end

	-- The C functions a script may call with no more said: they change only
	-- what they are given, and hand back no table it did not have.  At first
	-- those skyctl's own code calls while a script runs; the libraries' are
	-- added (widen) when a script calls some other C function: most call none.
	local plain = { [rawget] = true, [type] = true, [next] = true, [unpack] = true, [pack] = true,
		[select] = true, [tostring] = true, [pcall] = true, [error] = true, [gethook] = true,
		[getinfo] = true, [setmetatable] = true }
	local widened = false
	local function widen()
		if not widened then
			widened = true
			for _, lib in ipairs({ string, table, math, utf8, os, package.loaded.skynet or {} }) do
				for _, g in next, lib do
					plain[g] = true
				end
			end
			-- not collectgarbage: it runs finalizers, the service's code
			for _, name in ipairs({ "assert", "ipairs", "pairs", "rawequal", "rawlen", "rawset",
				"tonumber", "xpcall" }) do
				plain[rawget(_G, name)] = true
			end
			plain[dbg.traceback] = true
		end
		return plain
	end

	-- Set while skyctl's own code runs for the script, none of the
	-- service's code with it (the stand-ins' lookups, a copy), or turns the
	-- hook off or has just turned it back on (unhooked, hushed): the hook
	-- lets the calls that makes go by unlooked at.  Looking at a call
	-- (getinfo's table, what was called, who called it) costs a service
	-- that has not run one lately microseconds.
	local hushing = false

	-- pcall's results, with hushing off again: what a hushed call of skyctl's
	-- own returns (two values at most), or the error it raised
	local function unhush(ok, v, w)
		hushing = false
		if not ok then
			error(v, 0)
		end
		return v, w
	end

	-- fn(...) with the hook off: pcall's results (two values at most), the
	-- hook put back and hushing set (unhush clears it).  The caller sets
	-- hushing first: the hook would look at this call, and at gethook's and
	-- sethook's.  What skyctl's code does for the script (a view's lookup,
	-- a helper, a walk) is a call or more an entry it reads: with the hook
	-- on, each was an event for it to let by (2.5% of a first contact's
	-- instructions, with the view of the bench's one-handler script)
	local function quiet(fn, ...)
		local hook, mask, count = gethook()
		sethook()
		hushing = false -- (the hook is off; a helper may turn it on: rehook)
		local ok, v, w = pcall(fn, ...)
		hushing = true
		sethook(hook, mask, count)
		return ok, v, w
	end

	-- fn(snap) with the hook off: a walk while a script runs (the table
	-- iterator's calls, one an entry, are skyctl's, not the script's)
	local function unhooked(fn, snap)
		local was = hushing
		hushing = true
		local ok, err = quiet(fn, snap)
		hushing = was
		if not ok then
			error(err, 0)
		end
	end

	-- pairs(view) once the script is done: its table's entries
	local function settled_pairs(view)
		return next, getmetatable(view).__index, nil
	end

	-- A snapshot begun by track_start holds what the script can reach without
	-- a call or a global; these keep it ahead of the script (ctx.own: skyctl's
	-- functions among them).  ctx.touch copies a table the script is about to
	-- reach (a module, a global table, a metatable), ctx.full copies the rest
	-- at once, and ctx.guard (at every call, from the watchdog's hook) calls
	-- one or the other before a function the script did not write runs: the
	-- service's own code may change anything.  ctx.global is the script's
	-- environment's __index while it runs; ctx.view(c, pname) stands in for
	-- c, _U or a _P table (what holds the service's tables, modules and _G
	-- among them), until ctx.settle().
	local function keep_ahead(ctx, chunkname, snap)
		local own, views = ctx.own, {}
		function ctx.full()
			if snap and not snap.full then
				unhooked(track_rest, snap)
			end
		end
		-- v's path: a module's, else name, or name's entry k if given
		function ctx.touch(v, name, k)
			if snap.full or snap.key[v] or snap.skip[v] then
				return
			elseif reaches_all(v) then
				return ctx.full()
			end
			snap_root(snap, v, snap.claimed[v] and module_path(snap, v)
				or k ~= nil and keypath(name, k) or name, 1)
			unhooked(walk_near, snap)
		end
		-- global k, copied first (true: _G's own __index has it to say)
		local function global(k)
			local v = rawget(_G, k)
			if v == nil and getmetatable(_G) then
				ctx.full()
				return nil, true
			elseif type(v) == "table" then
				ctx.touch(v, "_G", k)
			elseif type(v) == "function" and not snap.fname[v] then
				snap.fname[v] = keypath("_G", k)
			end
			return v
		end
		function ctx.global(_, k)
			hushing = true
			local v, asks = unhush(quiet(global, k))
			if asks then
				return _G[k] -- _G's __index: the service's code
			end
			return v
		end
		local pnames = {} -- of the _P tables viewed (false: _U)
		-- v, entry k of c (viewed), as the script reaches it: copied first
		local function reached(c, k, v)
			if type(v) ~= "table" or snap.full or snap.key[v] or snap.skip[v] then
				return v
			elseif snap.claimed[v] then
				ctx.touch(v)
			else
				if pnames[c] then
					root_P(snap, pnames[c], k, v)
				else
					root_U(snap, k, v)
				end
				unhooked(walk_near, snap)
			end
			return v
		end
		local function lookup(view, k)
			local c = views[view]
			return reached(c, k, rawget(c, k))
		end
		local function index(view, k)
			hushing = true
			return unhush(quiet(lookup, view, k))
		end
		local function following(c, k)
			local nk, v = next(c, k)
			return nk, reached(c, nk, v)
		end
		local function entries(view)
			local c = views[view]
			local function step(_, k)
				hushing = true
				return unhush(quiet(following, c, k))
			end
			own[step] = true
			return step, view, nil
		end
		-- before rawget(view, k) or next(view, ...) runs: the tables they
		-- would find in c (entry k's, or all), copied, put in the view
		local function fill(view, k)
			local c = views[view]
			if k ~= nil then
				local v = rawget(c, k)
				if type(v) == "table" then
					rawset(view, k, reached(c, k, v))
				end
				return
			end
			for key, v in next, c do
				if type(v) == "table" then
					rawset(view, key, reached(c, key, v))
				end
			end
		end
		local viewing = { __index = index, __pairs = entries }
		for _, f in ipairs({ ctx.global, ctx.touch, ctx.full, reached, index, entries,
			unhooked }) do
			own[f] = true
		end
		-- c's entries, but for its tables: those through index (pname: the
		-- protocol of the _P table c; false: c is _U)
		function ctx.view(c, pname)
			local view = {}
			for k, v in next, c do
				if type(v) ~= "table" then
					view[k] = v
				end
			end
			views[view], pnames[c] = c, pname
			return setmetatable(view, viewing)
		end
		-- each view, from now on, reads its table through __index: a function
		-- the script made may keep one (_U, a _P table).  (Copying the
		-- tables into every view, some 30 in a small service on skynet
		-- HEAD, was 3% of a first contact's instructions.)
		function ctx.settle()
			for view, c in next, views do
				setmetatable(view, { __index = c, __pairs = settled_pairs })
			end
		end
		-- what f is: "mine" (the script's), "C" or "lua", asked once
		local kinds = {}
		local function kind(f)
			local k = kinds[f]
			if not k then
				local info = info_of(f)
				k = info.source == chunkname and "mine" or info.what == "C" and "C" or "lua"
				kinds[f] = k
			end
			return k
		end
		-- f: the function called, at level 3 (above this and the hook), while
		-- ctx.running
		function ctx.guard(f)
			if not ctx.running or own[f] then
				return
			elseif f == rawget or f == next then
				local _, t = getlocal(3, 1)
				if views[t] then
					fill(t, f == rawget and select(2, getlocal(3, 2)) or nil)
				end
			end
			if snap.full then
				return
			end
			local k = kind(f)
			if k == "mine" or (k == "C" and plain[f]) then
				return
			end
			for level = 4, 64 do
				local caller = getinfo(level, "f")
				if not caller or own[caller.func] then
					return -- called by skyctl (its helpers see to what they call), not the script
				elseif kind(caller.func) == "mine" then
					break
				end
			end
			if f == require then
				local _, name = getlocal(3, 1)
				local m = name ~= nil and rawget(package.loaded, name)
				if type(m) == "table" then
					ctx.touch(m, "package.loaded", name)
				end
				return -- a module not loaded yet: its chunk runs, and is seen then
			elseif f == metatable_of then
				local _, x = getlocal(3, 1)
				local m = getmetatable(x)
				if type(m) == "table" then
					local of = snap.key[x] and tpath(snap, x) or describe(x)
					ctx.touch(m, "(metatable of " .. of .. ")")
					if type(rawget(m, "__metatable")) == "table" then
						ctx.touch(rawget(m, "__metatable"), "(__metatable of " .. of .. ")")
					end
				end
				return
			elseif k == "C" and widen()[f] then
				return
			end
			track_rest(snap)
		end
	end

	-- Record what the running script does through debug: returns the run's
	-- context, whose set, join and get stand in for debug.setupvalue,
	-- debug.upvaluejoin and debug.getupvalue while it runs.  ctx.log gets the
	-- first write to each upvalue of a function the script did not create,
	-- made from the script's own coroutine; ctx.joined[f][i] every join; a
	-- table the script reads from an upvalue is added to snap (copied before
	-- the script can write it), or, too big to copy, to ctx.uncopied.
	-- The hotfix helpers add ctx.missing (hotfix.replace of a key not there).
	-- ctx.own: the functions skyctl hands the script (helpers, print, the
	-- stand-ins); ctx.guard, ctx.global and ctx.view keep a snapshot begun by
	-- track_start ahead of the script (see keep_ahead).
	local function recorder(chunkname, snap)
		local log, seen, co = {}, {}, coroutine.running()
		local ctx = { log = log, joined = {}, uncopied = {}, missing = {}, snap = snap, own = {} }
		local function note(kind, f, i)
			if coroutine.running() ~= co or type(f) ~= "function" then
				return
			end
			local name, old = getupvalue(f, i)
			if not name or info_of(f).source == chunkname then
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
		-- a table reached through upvalue name of f: copied before it is written
		local named = {}
		function ctx.reach(f, name, v)
			if not snap or type(v) ~= "table" or named[v] or snap.skip[v]
				or coroutine.running() ~= co or (snap.key[v] and not snap.islarge[v]) then
				return
			elseif snap.claimed[v] then -- a module, or _G
				return ctx.touch(v)
			end
			named[v] = true
			local path = snap.key[v] and tpath(snap, v) or
				"(upvalue " .. tostring(name) .. " of " .. fpath(snap, f) .. ")"
			snap_root(snap, v, path, 1)
			unhooked(walk_near, snap)
			if snap.islarge[v] then
				ctx.uncopied[#ctx.uncopied + 1] = path
			end
		end
		function ctx.set(f, i, v)
			note("upvalue", f, i)
			return setupvalue(f, i, v)
		end
		function ctx.join(f1, n1, f2, n2)
			note("join", f1, n1)
			local j = ctx.joined[f1] or {}
			ctx.joined[f1], j[n1] = j, true
			return upvaluejoin(f1, n1, f2, n2)
		end
		function ctx.get(f, i)
			local name, v = getupvalue(f, i)
			ctx.reach(f, name, v)
			return name, v
		end
		keep_ahead(ctx, chunkname, snap)
		ctx.own[ctx.set], ctx.own[ctx.join], ctx.own[ctx.get] = true, true, true
		return ctx
	end

	-- t holds what its copy holds: the same pairs in the same order (a table
	-- nobody inserted into is not rehashed: its order stays)
	local function unchanged(snap, t)
		local F, i, last = snap.F, span(snap, t)
		for k, v in next, t do
			if i > last or not rawequal(F[i], k) or not rawequal(F[i + 1], v) then
				return false
			end
			i = i + 2
		end
		return i > last
	end

	-- add the changes of tracked table t since its copy, and copy it anew
	local function diff_table(snap, t, add)
		local c = copy_of(snap, t)
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
				add({ kind = "field", t = t, k = k, old = o, new = v,
					path = keypath(tpath(snap, t), k), what = o == nil and "added" or "changed" })
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
		local F, fn, m = snap.F, snap.fn, 0
		for k, v in next, n > 4 * LIMIT_ENTRIES and c or t do -- in t's order, if not too big
			F[fn + 1], F[fn + 2], fn, m = k, v, fn + 2, m + 1
		end
		snap.at[t], snap.count[t], snap.fn = snap.fn, m, fn
	end

	-- Compare the code tables with the snapshot and add the upvalue writes of
	-- log; return the list of changes and move the snapshot forward.
	local function diff(snap, log)
		local changes = {}
		local function add(c)
			changes[#changes + 1] = c
		end
		for _, t in ipairs(snap.order) do
			if not unchanged(snap, t) then
				diff_table(snap, t, add)
			end
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
	-- undo a list of changes, newest first; add the paths that could not be
	-- undone to stuck and return it.  keep: tables whose changes are left as
	-- they are (named in stuck too)
	local function revert(changes, stuck, keep)
		for j = #changes, 1, -1 do
			local c = changes[j]
			if keep and c.t and keep[c.t] then
				stuck[#stuck + 1] = c.path .. " (skynet's own state, and the script waited: "
					.. "other messages may have changed it too)"
			elseif not undo(c) then
				stuck[#stuck + 1] = c.path
			end
		end
		return stuck
	end
	---------------------------------------------------------------- scripts

	local function find_upvalue(f, name)
		for i, n, v in upvalues(f) do
			if n == name then
				return i, v
			end
		end
	end

	-- the context of the script running now (recorder), for the helpers
	local active

	-- a helper's error, said where the script called it (see hushed)
	local FAILED = {}
	local function fail(msg)
		error({ FAILED, msg })
	end

	-- helper f, run with the hook off: all it calls is skyctl's own (before
	-- it runs the service's code, a metamethod, it has the context copy
	-- everything, active.full, and turns the hook back on, active.rehook)
	local function hushed(f)
		return function(...)
			hushing = true -- before any call: the hook would look at it
			local ok, v, w = quiet(f, ...)
			if not ok and type(v) == "table" and v[1] == FAILED then
				hushing = false
				error(v[2], 2)
			end
			return unhush(ok, v, w)
		end
	end

	-- The hotfix library; it writes upvalues through debug, so they are
	-- recorded, and tells the running script's context what it reaches.
	local function helpers()
		local H = {}
		function H.getupvalue(f, name)
			local i, v = find_upvalue(f, name)
			if i and active then
				active.reach(f, name, v)
			end
			return v, i
		end
		function H.setupvalue(f, name, v)
			local i = find_upvalue(f, name)
			if not i then
				fail(format("no upvalue %s in %s", name, describe(f)))
			end
			dbg.setupvalue(f, i, v)
		end
		function H.upvalues(f)
			local t = {}
			for _, n, v in upvalues(f) do
				if active then
					active.reach(f, n, v)
				end
				t[n] = v
			end
			return t
		end
		function H.join(new, old)
			if type(new) ~= "function" then
				fail("hotfix.join: the new value is not a function")
			end
			for i, n in upvalues(new) do
				local j = type(old) == "function" and find_upvalue(old, n)
				if j then
					dbg.upvaluejoin(new, i, old, j)
				elseif n == "_ENV" then
					-- the script's environment dies with the run: use the globals
					local g = _G
					dbg.upvaluejoin(new, i, function() return g end, 1)
				end
			end
			return new
		end
		function H.replace(t, k, new)
			if type(t) ~= "table" then
				fail(format("hotfix.replace: a table expected, got %s", type(t)))
			elseif type(new) ~= "function" then
				fail("hotfix.replace: the new value is not a function")
			end
			if active and getmetatable(t) then -- its __index, __newindex: the service's code
				active.full()
				active.rehook()
			end
			local old = t[k]
			if old == nil and active then
				local info = getinfo(5, "Sl") -- above this: pcall, quiet and hushed's function
				active.missing[#active.missing + 1] = { t = t, k = k,
					at = basename(info.short_src) .. ":" .. info.currentline }
			end
			H.join(new, old)
			t[k] = new
			return old
		end
		local hotfix = {}
		for name, f in next, H do
			hotfix[name] = hushed(f)
		end
		return hotfix
	end

	local function printer(out)
		return function(...)
			local n = select("#", ...)
			local t = { ... }
			for j = 1, n do
				local ty = type(t[j])
				if active and (ty == "table" or ty == "userdata") and getmetatable(t[j]) then
					active.full() -- its __tostring: the service's code
				end
				t[j] = tostring(t[j])
			end
			out[#out + 1] = concat(t, "\t", 1, n)
		end
	end

	-- an instruction-count hook that stops a script running past its time;
	-- given calls, also a call hook noting the functions called (a bounded
	-- set), after calling guard if given (see keep_ahead).  It turns the
	-- collector back on (see lua/engine.lua's gc_resume) when the script has
	-- made garbage, and before it yields: skynet.call and skynet.sleep yield
	-- the script's coroutine through coroutine.yield.  The time is the
	-- service's, kept from every other message: once other messages have
	-- run (the script waited), its time starts again.
	local function watchdog(seconds, calls, guard)
		local deadline, n, yield = skynet.now() + seconds * 100, 0, coroutine.yield
		local seen = messages()
		return function(event)
			if event == "count" then
				gc_resume()
				local m = messages()
				if m ~= seen then
					seen, deadline = m, skynet.now() + seconds * 100
				elseif skynet.now() > deadline then
					error(format("script still running after %g s: stopped; "
						.. "a longer --timeout gives it longer", seconds), 2)
				end
			elseif not hushing then
				local f = getinfo(2, "f").func
				if guard then
					guard(f)
				end
				if f == yield then
					gc_resume(true)
				end
				if n < LIMIT_ENTRIES and not calls[f] then
					n = n + 1
					calls[f] = true
				end
			end
		end
	end

	-- While a script whose snapshot is only begun runs, its environment's
	-- __index, _P and _U stand in for them (see keep_ahead); returns what puts
	-- them back, so that what the script defined goes on as in a stock
	-- inject's environment.
	local function stand_in(ctx, env)
		local mt, P0, U0 = getmetatable(env), rawget(env, "_P"), rawget(env, "_U")
		for _, h in next, rawget(env, "hotfix") do
			ctx.own[h] = true
		end
		ctx.own[rawget(env, "print")], ctx.own[errmsg] = true, true
		local P = {}
		for name, c in next, P0 do
			P[name] = ctx.view(c, name)
		end
		env._P, env._U, mt.__index = P, ctx.view(U0, false), ctx.global
		return function()
			env._P, env._U, mt.__index = P0, U0, _G
			ctx.settle()
		end
	end

	-- Run f (chunk name chunkname) with its debug writes recorded in a new
	-- context (see recorder; tables it reaches are added to snap, if given),
	-- the functions it calls noted in calls if given (and snap, if only
	-- begun, kept ahead of it: env is then its environment, see stand_in),
	-- stopped after timeout seconds; return ok, the error or the results
	-- packed, and the context (ctx.yielded: other messages were handled while
	-- it ran).
	local function run_recorded(f, chunkname, args, snap, timeout, calls, env)
		local ctx = recorder(chunkname, snap)
		local restore = calls and snap and not snap.full and env and stand_in(ctx, env)
		local real_set, real_join, real_get = dbg.setupvalue, dbg.upvaluejoin, dbg.getupvalue
		local hook, mask, count = dbg.gethook()
		local outer, m0 = active, messages()
		if not calls then -- no call hook to see the script yield
			gc_resume(true)
		end
		dbg.setupvalue, dbg.upvaluejoin, dbg.getupvalue = ctx.set, ctx.join, ctx.get
		active = ctx
		local hooked = watchdog(timeout, calls, restore and ctx.guard)
		function ctx.rehook() -- in a helper about to run the service's code (see hushed)
			sethook(hooked, calls and "c" or "", 100000)
		end
		ctx.running = true
		local r = pack(xpcall(function(...) -- the hook set here sees the script's calls alone
			ctx.rehook()
			return f(...)
		end, errmsg, unpack(args, 1, args.n or #args)))
		ctx.running = false
		dbg.sethook(hook, mask, count)
		if restore then
			restore()
		end
		active = outer
		dbg.setupvalue, dbg.upvaluejoin, dbg.getupvalue = real_set, real_join, real_get
		ctx.yielded = m0 ~= messages()
		if not r[1] then
			return false, r[2], ctx
		end
		return true, r, ctx
	end

	-- What a script schedules through skynet: the coroutines it forks (what
	-- it adds to fork_queue) and its timers (the sessions it files in
	-- session_id_coroutine).  sched_start before it runs returns the queue,
	-- its end, the sessions' table and the sessions in it (nil if none);
	-- sched_end, given them after, what the script scheduled (nil if
	-- nothing): an undo cancels that rather than leave it to run
	-- (sched_cancel).
	local function sched_start(U)
		local q, s = rawget(U, "fork_queue"), rawget(U, "session_id_coroutine")
		if type(q) ~= "table" or type(s) ~= "table" then
			return nil
		end
		local sessions
		if next(s) ~= nil then
			sessions = {}
			for k in next, s do
				sessions[k] = true
			end
		end
		return q, rawget(q, "t") or #q, s, sessions
	end
	local function sched_end(q, t, s, sessions)
		local timers
		for k, v in next, s do
			if type(v) == "thread" and not (sessions and sessions[k]) then
				timers = timers or {}
				timers[#timers + 1] = k
			end
		end
		local tn = rawget(q, "t") or #q
		if tn > t or timers then
			local forks = {}
			for i = t + 1, tn do
				forks[#forks + 1] = q[i]
			end
			return { q = q, t = t, forks = forks, s = s, timers = timers or {} }
		end
	end
	-- Cancel what a script scheduled: its forks leave the queue (their
	-- coroutines, never started, are dropped), its timers' sessions become
	-- "BREAK" (skynet drops their answer).  A script that forked, then
	-- waited, saw its forks run meanwhile (their changes are the
	-- script's): they were never in the queue at its end.  False if the
	-- forks are not where the script left them.
	local function sched_cancel(m)
		local q, forks = m.q, m.forks
		local tn = m.t + #forks
		if (rawget(q, "t") or #q) ~= tn then
			return false
		end
		for i = 1, #forks do
			if q[m.t + i] ~= forks[i] then
				return false
			end
		end
		for i = tn, m.t + 1, -1 do
			q[i] = nil
		end
		if rawget(q, "t") then
			q.t = m.t
		end
		for _, k in ipairs(m.timers) do
			m.s[k] = "BREAK"
		end
		return true
	end

	-- Run one script in a fresh inject-style environment (see run_recorded)
	local function run_script(sc, args, P, U, out, timeout, snap, calls)
		local env = setmetatable({ print = printer(out), _P = P, _U = U, hotfix = helpers() },
			{ __index = _G })
		local chunkname = "@" .. sc.name
		local f, err = load(sc.code, chunkname, "b", env)
		if not f then
			return false, err, recorder(chunkname)
		end
		local q, t, s, sessions = sched_start(U)
		local ok, r, ctx = run_recorded(f, chunkname, args, snap, timeout, calls, env)
		ctx.env, ctx.scheduled = env, q and sched_end(q, t, s, sessions)
		return ok, r, ctx
	end
	---------------------------------------------------------------- checks

	-- the value of name in env as a function reading it would see, running
	-- no metamethod but an __index table chain
	local function lookup(env, name)
		for _ = 1, 8 do
			if type(env) ~= "table" then
				return nil
			end
			local v = rawget(env, name)
			if v ~= nil then
				return v
			end
			local m = getmetatable(env)
			env = m and rawget(m, "__index")
		end
	end

	-- the edit distance of a and b, an adjacent swap counting as one
	local function distance(a, b)
		local d = {}
		for i = 0, #a do
			d[i] = { [0] = i }
		end
		for j = 1, #b do
			d[0][j] = j
		end
		for i = 1, #a do
			for j = 1, #b do
				local cost = a:byte(i) == b:byte(j) and 0 or 1
				d[i][j] = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
				if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1)
					and a:byte(i - 1) == b:byte(j) then
					d[i][j] = math.min(d[i][j], d[i - 2][j - 2] + 1)
				end
			end
		end
		return d[#a][#b]
	end

	-- the name among names nearest to name (a name of 6 letters or fewer may
	-- be one edit away, a longer one two), or nil
	local function nearest(name, names)
		local best, bd = nil, #name > 6 and 3 or 2
		for _, n in ipairs(names) do
			local d = math.abs(#n - #name) < bd and distance(name, n) or bd
			if d < bd then
				best, bd = n, d
			end
		end
		return best
	end

	local function upvalue_names(f)
		local names, ids = {}, {}
		for i, n in upvalues(f) do
			names[i], ids[upvalueid(f, i)] = n, true
		end
		return names, ids
	end

	local function lua_function(f)
		return type(f) == "function" and info_of(f).what ~= "C"
	end

	-- A global the new function new (label) reads (r: where) that the
	-- service does not have.  An upvalue of the function old it replaces by
	-- that name (old_names) is the classic mistake: the new function was
	-- written as if it shared the old one's locals, and fails at every call.
	-- A name an edit or two from an upvalue of either function is a
	-- misspelling.  Otherwise a warning: a global may be nil on purpose (a
	-- flag).
	local function nil_global(add, r, file, label, old_names, new, old)
		local near = nearest(r.name, old_names)
		if near == r.name then
			add("error", "%s: a global in %s (read at %s:%d), nil in the service, but an "
				.. "upvalue of the function it replaces (%s): declare `local %s` in the script, "
				.. "and hotfix.replace joins it", r.name, label, file, r.line, where(old), r.name)
			return
		end
		near = near or nearest(r.name, (upvalue_names(new)))
		if near and #r.name > 2 then -- (any one letter is one edit from another)
			add("error", "%s: global is nil in the service (read at %s:%d, in %s); did you "
				.. "mean %s?", r.name, file, r.line, label, near)
		else
			add("warning", "%s: global is nil in the service (read at %s:%d, in %s)", r.name,
				file, r.line, label)
		end
	end

	-- The checks of one script run (its changes, its context): a list of
	-- { level = "error" | "warning", msg = }.  An error is a patch that
	-- cannot work as meant; inject refuses it unless forced.  reads: the
	-- global names the script reads, found by the hub (lua/agent.lua).
	local function lint(changes, ctx, reads, chunkname, snap)
		local list = {}
		local function add(level, msg, ...)
			list[#list + 1] = { level = level, msg = format(msg, ...) }
		end
		for _, m in ipairs(ctx.missing) do
			add("error", "hotfix.replace at %s: %s has no key %s to replace "
				.. "(to add one, assign it)", m.at,
				snap.key[m.t] and tpath(snap, m.t) or describe(m.t), describe(m.k))
		end
		local kept = false -- the script's environment, by a function it installed
		for _, c in ipairs(changes) do
			local new, old = c.new, c.old
			if c.kind == "field" and type(new) == "function"
				and info_of(new).source == chunkname then
				local label = type(c.k) == "string" and c.k or c.path
				local info = info_of(new)
				local names, ids = {}, {}
				if lua_function(old) then
					names, ids = upvalue_names(old)
					local oinfo = info_of(old)
					if oinfo.nparams ~= info.nparams or oinfo.isvararg ~= info.isvararg then
						add("warning", "%s: the new function (%s) takes %d parameter%s%s, "
							.. "the one it replaces (%s) took %d%s", label, where(new),
							info.nparams, info.nparams == 1 and "" or "s",
							info.isvararg and " and ..." or "", where(old), oinfo.nparams,
							oinfo.isvararg and " and ..." or "")
					end
				end
				local env
				for i, name, v in upvalues(new) do
					if name == "_ENV" then
						env = v
					elseif v == nil and not ids[upvalueid(new, i)]
						and not (ctx.joined[new] and ctx.joined[new][i]) then
						local near = nearest(name, names)
						if lua_function(old) and near == name then
							add("error", "%s: not joined to the upvalue of that name in %s (%s): "
								.. "use hotfix.replace", name, label, where(old))
						elseif lua_function(old) then
							add("error", "%s: no upvalue of that name in %s (%s)%s", name, label,
								where(old), near and "; did you mean " .. near .. "?" or "")
						else
							add("warning", "%s: an upvalue of the new %s (%s) that is nil and "
								.. "joins nothing", name, label, where(new))
						end
					end
				end
				kept = kept or rawequal(env, ctx.env)
				if env ~= nil then
					local seen = {}
					for _, r in ipairs(reads) do
						local inside = false
						for _, l in ipairs(r.within) do
							inside = inside or l == info.linedefined
						end
						if inside and not seen[r.name] and lookup(env, r.name) == nil then
							seen[r.name] = true
							nil_global(add, r, chunkname:sub(2), label, names, new, old)
						end
					end
				end
			end
		end
		-- globals the script set stay in its own environment, as in a stock
		-- inject: the service's _G never sees them, and with no function of
		-- the script's keeping that environment they are gone with the run
		for k in next, ctx.env do
			if not kept and k ~= "print" and k ~= "_P" and k ~= "_U" and k ~= "hotfix" then
				add("warning", "%s: a global of the script's own environment, gone with "
					.. "the run: the service's _G is unchanged (_G.%s = ... sets it there)",
					tostring(k), tostring(k))
			end
		end
		return #list > 0 and list or nil
	end

	---------------------------------------------------------------- operations

	-- The paths under _P of the service's handlers among the functions called:
	-- a dry run cannot undo what they did to the service's state.  Not
	-- skynet's scheduler, which the debug protocol holds as _P.debug.export
	-- (dispatch, suspend, resume): skynet.fork and timeout hand a pooled
	-- coroutine its function through resume, and what they schedule is
	-- found apart (sched_start).
	local function handlers(snap, called)
		local list = {}
		for _, t in ipairs(snap.order) do
			if snap.inP[t] and not (snap.key[t] == "export" and snap.up[t] == "_P.debug") then
				local F, first, last = snap.F, span(snap, t)
				for i = first, last, 2 do
					if called[F[i + 1]] then
						called[F[i + 1]] = nil
						list[#list + 1] = keypath(tpath(snap, t), F[i])
					end
				end
			end
		end
		sort(list)
		return #list > 0 and list or nil
	end

	-- whether the script sent messages to other services (skynet.call and
	-- the rest, which newservice, cluster and snax calls go through): what
	-- those did with them is theirs, no undo reaches it
	local function sent(called)
		local m = skynet
		return (called[m.call] or called[m.send] or called[m.rawcall] or called[m.rawsend]
			or called[m.redirect]) and true or nil
	end

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

	-- what the run could not hold: tables too big to copy, reached by the
	-- script or found in the walk, and the limits
	local function untracked(snap, ctx_uncopied)
		local large = {}
		for j = 1, math.min(#snap.large, 20) do
			large[j] = tpath(snap, snap.large[j])
		end
		return { large = large, nlarge = #snap.large, deep = snap.deep,
			truncated = snap.truncated, tracked = snap.total, uncopied = ctx_uncopied,
			entries = LIMIT_ENTRIES, depth = LIMIT_DEPTH, total = LIMIT_TOTAL }
	end

	-- Apply (or, with req.dry, try and revert) the scripts in this service.
	-- A script whose patch is wholly in place already is not run again
	-- (scripts[i].already = its id) unless req.again; one changing nothing
	-- is not journaled; the checks' errors refuse the batch unless req.force.
	function OPS.apply(req)
		local t0 = clock()
		local P, U = inject_tables()
		local snap = track_start(P, U, { [S] = true, [dbg] = true })
		local res = { ok = true, scripts = {}, dry = req.dry or nil }
		local done, calls, uncopied, yielded, scheduled = {}, {}, {}, false, {}
		local function undo_all(stuck)
			for j = #done, 1, -1 do
				revert(done[j], stuck, yielded and snap.internal)
				local m = scheduled[j]
				if m and not sched_cancel(m) then
					res.scripts[j].ran = true
					stuck[#stuck + 1] = "what the script scheduled (skynet.fork, skynet.timeout): "
						.. "it may have run"
				end
			end
			return stuck
		end
		for i, sc in ipairs(req.scripts) do
			local out = {}
			local e = not req.again and in_place(sc.sha)
			if e then
				res.scripts[i] = { name = sc.name, out = out, changes = {}, already = e[J.id] }
				done[i] = {}
			else
				local ok, err, ctx = run_script(sc, req.args or {}, P, U, out, req.timeout or 10,
					snap, calls)
				yielded = yielded or ctx.yielded
				for _, p in ipairs(ctx.uncopied) do
					uncopied[#uncopied + 1] = p
				end
				local changes = diff(snap, ctx.log)
				local checks = ok and lint(changes, ctx, sc.reads, "@" .. sc.name, snap) or nil
				local m = ctx.scheduled
				scheduled[i] = m
				res.scripts[i] = { name = sc.name, out = out, changes = export_all(changes),
					lint = checks, forks = m and #m.forks > 0 and #m.forks or nil,
					timers = m and #m.timers > 0 and #m.timers or nil }
				done[i] = changes
				if ok and not req.force then
					for _, l in ipairs(checks or {}) do
						if l.level == "error" then
							ok, err, res.refused = false, l.msg, true
							break
						end
					end
				end
				if not ok then
					res.ok, res.err, res.failed = false, err, i
					res.undone = 0
					for j = 1, i do
						res.undone = res.undone + #done[j]
					end
					local stuck = undo_all({})
					res.undone = res.undone - #stuck
					res.stuck = #stuck > 0 and stuck or nil
					break
				end
			end
		end
		if res.ok then
			res.busy = busy(U, done)
		end
		res.sent = sent(calls)
		res.calls, res.yielded = handlers(snap, calls), yielded or nil
		if res.ok and req.dry then
			local stuck = undo_all({})
			res.stuck = #stuck > 0 and stuck or nil
		elseif res.ok then
			for i, sc in ipairs(req.scripts) do
				if #done[i] > 0 then
					res.scripts[i].id = journal_add(sc.name, sc.sha, req, done[i])
				end
			end
		end
		res.untracked = untracked(snap, #uncopied > 0 and uncopied or nil)
		res.cost = clock() - t0
		return res
	end

	-- Run scripts as they are, one after the other: no tracking, no undo, no
	-- journal (skyctl exec).  Returns each one's output and results.
	function OPS.exec(req)
		gc_resume(true) -- these scripts may wait, and no hook sees them yield
		local res = { ok = true, scripts = {} }
		local P, U = inject_tables()
		for i, sc in ipairs(req.scripts) do
			local out = {}
			local env = setmetatable({ print = printer(out), _P = P, _U = U, hotfix = helpers() },
				{ __index = _G })
			local f, err = load(sc.code, "@" .. sc.name, "b", env)
			local hook, mask, count = dbg.gethook()
			local r
			if f then
				dbg.sethook(watchdog(req.timeout or 10), "", 100000)
				r = table.pack(xpcall(f, errmsg, unpack(req.args or {}, 1, (req.args or {}).n
					or #(req.args or {}))))
				dbg.sethook(hook, mask, count)
				if not r[1] then
					f, err = nil, r[2]
				end
			end
			local values = {}
			for j = 2, f and r.n or 0 do
				values[j - 1] = describe(r[j])
			end
			res.scripts[i] = { name = sc.name, out = out, values = values }
			if not f then
				res.ok, res.err, res.failed = false, err, i
				break
			end
		end
		return res
	end

	-- Run f, a line typed at a prompt (session name), with its changes to the
	-- tracked tables and upvalues recorded; changes to code (functions,
	-- upvalues, metatables) are journaled as a patch named "repl <session>", and a line
	-- saying so is added to out.  Returns xpcall's results packed.
	local function run_line(f, chunkname, session, out, timeout, who)
		local P, U = inject_tables()
		local snap = track(P, U, { [S] = true, [dbg] = true })
		local ok, r, ctx = run_recorded(f, chunkname, {}, snap, timeout)
		local changes, code = diff(snap, ctx.log), false
		for _, c in ipairs(changes) do
			code = code or c.kind == "upvalue" or c.kind == "join" or c.kind == "metatable"
				or type(c.old) == "function" or type(c.new) == "function"
		end
		if code then
			local id = journal_add("repl " .. tostring(session), nil,
				{ who = who, batch = "repl " .. tostring(session) }, changes)
			out[#out + 1] = format("(journaled as patch #%d: %d change%s; "
				.. "skyctl rollback undoes it)", id, #changes, #changes == 1 and "" or "s")
		end
		if not ok then
			return table.pack(false, r)
		end
		return r
	end

	E.helpers, E.printer, E.watchdog, E.run_line = helpers, printer, watchdog, run_line
end

operations()
