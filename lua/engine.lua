-- skyctl engine: the part of skyctl's agent every service it reaches
-- runs.  A hub (lua/agent.lua, in the service a client talks to) shares
-- this chunk with the services it reaches (skynet.sharetable.core), or
-- sends its bytecode, with each request (through lua/agent.lua's PEER
-- chunk: mode, version, wire, req, gc_resume):
--   mode "runonce"  returns what runs req and returns the reply line (see
--                   the end): once it is done the service keeps only its
--                   journal and the command that brings the engine,
--                   SKYCTLP (the engine is not resident: 66 KB of Lua
--                   heap in each of 10,000 services is a game server's
--                   memory doubled);
--   mode "lib"      (the hub's own copy) returns the engine's functions.
-- This chunk is the core every request needs: the journal's format,
-- describing values, undoing a change, the request loop.  The operations
-- come in chunks of their own, sent only with the requests that need them
-- (req.ops): lua/apply.lua (apply, exec: running scripts, tracking what
-- they change, the checks), lua/journal.lua (journal), lua/rollback.lua
-- (rollback) and lua/set.lua (set, which brings all three).
-- Where the bytecode comes, loading it is most of what a request costs
-- a service that has not run one lately (its memory is cold: a RUN of 36
-- KB of bytecode that does nothing cost 0.24 ms more than one of 2 KB,
-- over 10,000 services), so a listing of the journal brings no tracking
-- code, and no peer gets the hub's fan-out, console and prompt code.
--
-- Operations here: ping, remove.  lua/agent.lua adds eval and complete
-- (for a prompt) and runs requests naming other targets.
--
-- What stays in a peer: the table package.loaded["skyctl"] with its patch
-- journal, only when it has one, and then (where the hub shares the
-- engine) the debug command SKYCTLP (lua/agent.lua's PEER chunk) and the
-- handle of the hub it is for (and of any hub whose SKYCTLP it replaced).
-- In a hub, the debug commands SKYCTL and SKYCTL1 (lua/agent.lua) and the
-- engine state besides.  The request {op = "remove"} (`skyctl uninstall`)
-- unregisters the three and keeps only the journal, or nothing when the
-- journal is empty;
-- `package.loaded.skyctl = nil` in a debug session drops a journal too.
local RUN_P, RUN_U = _P, _U -- set when this chunk runs under debug RUN
-- WIRE: in a hub (mode "lib"), lua/wire.lua's module, for its SKYCTL
-- command (loader): a peer needs none of it (see peer_reply);
-- GC_RESUME: in a peer, what turns the collector back on (see gc_resume)
local MODE, VERSION, WIRE, REQUEST, GC_RESUME = ...
local _G = _G
local assert, load, next, pairs, pcall, xpcall, select, setmetatable,
	tostring, type, rawget, rawset, rawequal, ipairs =
	assert, load, next, pairs, pcall, xpcall, select, setmetatable,
	tostring, type, rawget, rawset, rawequal, ipairs
local format = string.format
local dbg = debug
local getupvalue, setupvalue, upvalueid, upvaluejoin, getinfo =
	dbg.getupvalue, dbg.setupvalue, dbg.upvalueid, dbg.upvaluejoin, dbg.getinfo
local getmetatable, setmetatable_raw = dbg.getmetatable, dbg.setmetatable
local skynet = require "skynet"
local sdebug = require "skynet.debug"

local CMD, LOADER, PEER = "SKYCTL1", "SKYCTL", "SKYCTLP"

local wire = WIRE

-- per-service state, kept across upgrades: the journal must survive them
local S = package.loaded.skyctl
if type(S) ~= "table" then
	S = { journal = {} }
end
package.loaded.skyctl = S

-- A journal entry is an array (its slots named by J; an entry's id is its
-- index), each change in it a record (keep): every service a batch
-- patches keeps them, and named fields would cost it a hash part per table
-- and their key strings, which in a small service can double the size of
-- Lua's string table.  Entries of rollbacks have slot of.
local J = { id = 1, name = 2, sha = 3, batch = 4, time = 5, who = 6, args = 7, state = 8,
	changes = 9, left = 10, of = 11, restored = 12, conflicts = 13 }
-- the kinds of change, by number and number by name
local KINDS = { "field", "metatable", "upvalue", "join", "overflow",
	field = 1, metatable = 2, upvalue = 3, join = 4, overflow = 5 }

-- a change as the journal keeps it: {kind, t or f, k or i, old, new, path}
-- and for an upvalue {..., name}, for a join {..., name, newid, anchor}
local function keep(c)
	local r = { KINDS[c.kind], c.t or c.f, c.k or c.i, c.old, c.new, c.path }
	if c.name then
		r[7], r[8], r[9] = c.name, c.newid, c.anchor
	end
	return r
end

-- the change a journal record stands for
local function change(r)
	local kind, old, new = KINDS[r[1]], r[4], r[5]
	local c = { kind = kind, old = old, new = new, path = r[6], name = r[7], newid = r[8],
		anchor = r[9], what = kind == "join" and "joined" or kind == "overflow" and "overflow"
		or kind == "field" and (old == nil and "added" or new == nil and "removed") or "changed" }
	if r[1] <= 2 then
		c.t, c.k = r[2], r[3]
	else
		c.f, c.i = r[2], r[3]
	end
	return c
end

if S.nextid then -- kept by a skyctl whose entries had named fields
	local function keepall(list)
		for j, c in ipairs(list or {}) do
			list[j] = keep(c)
		end
		return list
	end
	for i, e in ipairs(S.journal) do
		S.journal[i] = { i, e.name, e.sha, e.batch, e.time, e.who, e.args, e.state,
			keepall(e.changes), keepall(e.left), e.of, e.restored, e.conflicts }
	end
	S.nextid = nil
end

---------------------------------------------------------------- describing

-- (anchored: "[^/]*$" is tried at each byte in turn, and reads the rest
-- of a name at each: 2 us for a path of 40 bytes, anchored 0.25)
local function basename(src)
	return src:match("^.*/(.*)$") or src
end

-- debug.getinfo(f, "Su") of function f, asked once: what a function is
-- never changes, describing a change and the checks ask it of the same
-- few functions several times a request, and each getinfo makes a table
-- (weak: a hub's copy outlives its requests)
local infos = setmetatable({}, { __mode = "k" })
local function info_of(f)
	local info = infos[f]
	if not info then
		info = getinfo(f, "Su")
		infos[f] = info
	end
	return info
end

-- where a Lua function was defined, "agent.lua:9"; nil for C functions
local function where(f)
	local info = info_of(f)
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

-- the upvalues of f: for i, name, value in upvalues(f)
local function upvalues(f)
	local i = 0
	return function()
		i = i + 1
		local name, v = getupvalue(f, i)
		if name ~= nil then
			return i, name, v
		end
	end
end

-- stock inject's walk: table-valued upvalues of f and of the functions
-- reachable through its upvalues, by name (a loop of its own, not
-- upvalues(): every request to a peer through SKYCTLP walks some 80
-- upvalues, and the iterator's call for each was half the walk)
local function uptables(u, f, seen)
	for i = 1, 255 do
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
	end
end

-- true while this chunk runs under a RUN that brought a request (mode
-- "runonce"): RUN_P and RUN_U are then what inject_tables would compute,
-- fresh and at no cost
local running = RUN_U ~= nil and MODE == "runonce"

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
	local U, useen = S.U, S.Useen
	if not U then
		U, useen = {}, {}
		uptables(U, d, useen)
		uptables(U, r, useen)
		if MODE == "lib" then -- a hub's; a peer keeps nothing of a request's (see footprint)
			S.U, S.Useen = U, useen
		end
	end
	local proto = U.proto
	if type(proto) ~= "table" then
		return {}, U
	end
	local seen = setmetatable({}, { __index = useen })
	local P = {}
	for _, p in pairs(proto) do
		local name, dispatch = p.name, p.dispatch
		if name and dispatch and not P[name] then
			local pp = {}
			P[name] = pp
			uptables(pp, dispatch, seen)
		end
	end
	return P, U
end

---------------------------------------------------------------- changes

local function same(a, b)
	return rawequal(a, b) or (a ~= a and b ~= b)
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

local function errmsg(e)
	return type(e) == "string" and e or describe(e)
end

---------------------------------------------------------------- journal

local OPS = {}

-- the value a change put in place, as it is now
local function current(c)
	if c.kind == "field" then
		return rawget(c.t, c.k)
	elseif c.kind == "metatable" then
		return getmetatable(c.t)
	elseif c.kind == "upvalue" or c.kind == "join" then
		return select(2, getupvalue(c.f, c.i))
	end
end

-- whether what change c put in place is still there
local function is_current(c)
	if c.kind == "join" then
		return upvalueid(c.f, c.i) == c.newid
	elseif c.kind == "overflow" then
		return false
	end
	return same(current(c), c.new)
end

-- whether every change of patch e is still what it put in place
local function wholly(e)
	for _, r in ipairs(e[J.changes]) do
		if not is_current(change(r)) then
			return false
		end
	end
	return true
end

-- whether a patch is still (partly) in place
local function carried(e)
	local state = e[J.state]
	return not e[J.of] and (state == "applied" or state == "partly rolled back")
end

-- the journal entry of a patch with this sha256 still wholly in place
local function in_place(sha)
	for i = #S.journal, 1, -1 do
		local e = S.journal[i]
		if sha and e[J.sha] == sha and not e[J.of] and e[J.state] == "applied" then
			return wholly(e) and e or nil
		end
	end
end

-- add a journal entry for changes; returns its id
local function journal_add(name, sha, req, changes)
	local id, kept, args = #S.journal + 1, {}, req.args
	for j, c in ipairs(changes) do
		kept[j] = keep(c)
	end
	S.journal[id] = { id, name, sha, req.batch, req.time or os.time(), req.who,
		args and next(args) ~= nil and args or nil, "applied", kept }
	return id
end

---------------------------------------------------------------- operations

function OPS.ping()
	return { ok = true, version = VERSION, journal = #S.journal }
end

-- unregister the commands; keep only the journal (and the patch set it was
-- brought to) in package.loaded.skyctl.  hubs: those but the request's
-- own that registered a SKYCTLP here, this one or one it replaced (S.hub,
-- S.hubs: see lua/agent.lua's PEER_RUN), each of which still counts on it
-- (they are told: see lua/agent.lua's tell_hubs)
function OPS.remove(req)
	local all, hubs = S.hubs or {}, {}
	if S.hub then
		all[S.hub] = true
	end
	for h in pairs(all) do
		if h ~= req.hub then
			hubs[#hubs + 1] = h
		end
	end
	sdebug.reg_debugcmd(CMD, nil)
	sdebug.reg_debugcmd(LOADER, nil)
	sdebug.reg_debugcmd(PEER, nil)
	for k in pairs(S) do
		if k ~= "journal" and k ~= "set" then
			S[k] = nil
		end
	end
	return { ok = true, removed = true, journal = #S.journal, hubs = hubs[1] and hubs or nil }
end

-- In a peer the collector waits while a request runs (lua/agent.lua's
-- PEER_RUN stops it before this chunk loads): gc_resume() turns it back
-- on once the request has made 16 MB, gc_resume(true) at once, before a
-- script waits (lua/apply.lua's watchdog and exec call it).
local gc_resume = GC_RESUME or function() end

-- how many messages this service has handled: code that waits
-- (skynet.call, sleep) lets others run meanwhile; nil where skynet
-- does not count them
local function messages()
	local ok, n = pcall(skynet.stat, "message")
	return ok and n or nil
end

-- what the operations' chunks (and lua/agent.lua, in a hub) build on;
-- lua/apply.lua adds helpers, printer, watchdog and run_line,
-- lua/journal.lua set_plan, lua/rollback.lua rollback_entry
local E = {
	S = S, OPS = OPS, same = same, undo = undo, export = export, export_all = export_all,
	describe = describe, errmsg = errmsg, inject_tables = inject_tables, current = current,
	is_current = is_current, journal_add = journal_add, wholly = wholly, in_place = in_place,
	carried = carried, J = J, change = change, basename = basename, where = where,
	keypath = keypath, upvalues = upvalues, gc_resume = gc_resume, info_of = info_of,
	messages = messages,
}

local function handle_local(req)
	if req.chunk then -- an operation brought by the request (lua/profile.lua): run once, kept nowhere
		local chunk, err = load(req.chunk, "=skyctl-" .. tostring(req.op), "t", _G)
		local ok, res = chunk ~= nil, err
		if chunk then
			ok, res = xpcall(chunk, errmsg, E, req)
		end
		return ok and res or { ok = false, err = "skyctl agent: " .. tostring(res) }
	elseif not OPS[req.op] then -- its operations' chunks came with it (lua/agent.lua)
		for _, code in ipairs(req.ops or {}) do -- bytecode, or the shared engine's chunks
			local chunk, err = code, nil
			if type(code) == "string" then
				chunk, err = load(code, "=skyctl-ops", "bt", _G)
			end
			local ok = false
			if chunk then
				ok, err = pcall(chunk, E)
			end
			if not ok then
				return { ok = false, err = "skyctl agent: operations: " .. tostring(err) }
			end
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

-- A peer answers a hub's request with its reply packed by skynet (its
-- address included) and whether it went well: the hub splices a thousand
-- of them into its own reply without decoding any (lua/agent.lua's
-- peer_piece).  The bytes go to the hub in a skynet message, which takes
-- any byte: escaping them for the console's line is the hub's, in C,
-- where a peer's gsub over them was a twentieth of what a first contact
-- cost it.
local function peer_reply(rep)
	rep.addr = skynet.self()
	return rep.ok == true, skynet.packstring(rep)
end

-- after a run in a peer (or --no-agent): a service with no engine
-- registered and no patch journal keeps nothing of skyctl's
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
	E.handle_local, E.loader, E.tidy = handle_local, loader, tidy
	return E
end
-- mode "runonce": what runs the request, called once this chunk has
-- returned, so that its frame (a slot for each of its locals) is off the
-- stack meanwhile.  On skynet 1.4 (Lua 5.4.2, in generational mode) a
-- coroutine's stack never shrinks: the service would keep for good what
-- the deepest call of a request grew it to.
return function()
	local done, ok, line = pcall(function()
		return peer_reply(handle_local(REQUEST))
	end)
	if not done then
		error(ok, 0)
	end
	running = false
	tidy()
	return (ok and "t" or "f") .. line
end
