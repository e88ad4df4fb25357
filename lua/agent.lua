-- skyctl agent: what skyctl installs in the service it talks to (the "hub")
-- over the stock debug console, so hot-fix scripts reach live services with
-- no file on the server.  This chunk is sent by skyctl; it is not loaded
-- locally.  It is lua/engine.lua (the part every patched service runs)
-- plus what only a hub needs: requests from the console, the fan-out to
-- other services, and eval/complete for a prompt.
--
-- How it arrives (see src/agent.c):
--   1. a session's first request goes through the stock RUN
--      (lua/run.lua's line running lua/probe.lua): the agent answers it,
--      or the reply asks for the agent, with no error in the node's log;
--   2. `dbgcmd <hub> RUN <lua/run.lua's line> skyctl <this chunk> load
--      <version> <wire.lua> <engine.lua> <apply.lua> <journal.lua> <rollback.lua>
--      <set.lua>` runs this chunk in
--      mode "load": it registers SKYCTL1 and SKYCTL (where RUN fails, one
--      debug-mode line, lua/boot.lua, registers SKYCTL, which loads it);
--   3. `dbgcmd <hub> SKYCTL1 <version> <request>` runs a request (a client
--      of another version is told to upgrade first).  A request naming
--      other targets is fanned out by the hub: each target gets
--      `skynet.call(t, "debug", "RUN", PEER_RUN, ..., engine, "runonce", req)`,
--      engine and req.ops the node's shared copy of the engine and of the
--      operation's chunks (see shared_engine), else their bytecode; it runs
--      req and leaves nothing but the journal, and SKYCTLP, through which
--      the hub sends a target that keeps a journal its next requests
--      (`skynet.call(t, "debug", "SKYCTLP", engine, "runonce", version,
--      req)`: see PEER): the engine is resident in the hub alone.
--   With --no-agent (and for sweeps and uninstall) this chunk runs in mode
--   "once", the request passed along, through RUN as in step 2 (where the
--   console has no dbgcmd, through the one-shot SKYCTL_ONCE the boot line
--   registers): nothing stays registered.
--
-- Operations: lua/engine.lua's and those of lua/apply.lua, lua/journal.lua,
-- lua/rollback.lua and lua/set.lua (the hub sends these along with a
-- request for one of their operations), plus eval, complete and compile.  A
-- request with req.targets is run by the hub in each target (req.sub) with
-- req.par at once, stopping after a failure when req.stop.
--
-- Requests and replies are tables in lua/wire.lua's format; on the console
-- a request is one %XX-escaped argument and a reply one line "SKYCTL1 <escaped>",
-- so no reply line can read <CMD OK> or <CMD Error>.
--
-- What stays in a service is listed in lua/engine.lua.
-- (the loaders hand a chunk its own source first: this one has no use for it)
local _, MODE, VERSION, WIRE_SRC, ENGINE_SRC, APPLY_SRC, JOURNAL_SRC, ROLLBACK_SRC, SET_SRC,
	REQUEST = ...
local _G = _G
local error, load, next, pairs, pcall, xpcall, setmetatable, tostring, type, rawget,
	ipairs, assert = error, load, next, pairs, pcall, xpcall, setmetatable, tostring,
	type, rawget, ipairs, assert
local concat, sort = table.concat, table.sort
local sub, find = string.sub, string.find
local dbg = debug
local skynet = require "skynet"
local sdebug = require "skynet.debug"

local CMD, LOADER, ONCE = "SKYCTL1", "SKYCTL", "SKYCTL_ONCE"
local PREFIX = CMD .. " "

local function unescape(s)
	return (s:gsub("%%(%x%x)", function(h)
		return string.char(tonumber(h, 16))
	end))
end
local engine_src = unescape(ENGINE_SRC)
local engine_chunk = assert(load(engine_src, "=skyctl-engine", "t", _G))
local wire = assert(load(unescape(WIRE_SRC), "=skyctl-wire", "t", _G))()
local E = engine_chunk("lib", VERSION, wire)
local S, OPS, describe, errmsg = E.S, E.OPS, E.describe, E.errmsg

-- each chunk's source by name, until the hub has shared them (shared_engine)
local SOURCES = { engine = engine_src }

-- an operations' chunk (escaped source src), run here with the engine's
-- internals: the chunk, and the operations it added (a request for one of
-- them brings the chunk to the services it reaches)
local function operations(src, name)
	SOURCES[name] = unescape(src)
	local chunk = assert(load(SOURCES[name], "=skyctl-" .. name, "t", _G))
	local before = {}
	for op in pairs(OPS) do
		before[op] = true
	end
	chunk(E)
	local added = {}
	for op in pairs(OPS) do
		added[op] = not before[op] or nil
	end
	return chunk, added
end
local apply_chunk, APPLY_OPS = operations(APPLY_SRC, "apply")
local journal_chunk, JOURNAL_OPS = operations(JOURNAL_SRC, "journal")
local rollback_chunk, ROLLBACK_OPS = operations(ROLLBACK_SRC, "rollback")
local set_chunk, SET_OPS = operations(SET_SRC, "set")

---------------------------------------------------------------- prompt

-- a value as text for a prompt: tables to a bounded depth and width,
-- cycles marked, no metamethod run
local function pretty(v, depth, seen)
	if type(v) ~= "table" then
		return describe(v)
	elseif seen[v] then
		return "<cycle " .. describe(v) .. ">"
	elseif depth <= 0 then
		return "{...}"
	end
	seen[v] = true
	local keys, n = {}, 0
	for k in next, v do
		n = n + 1
		if n > 50 then
			break
		end
		keys[n] = k
	end
	sort(keys, function(a, b)
		local ta, tb = type(a), type(b)
		if ta ~= tb then
			return ta < tb
		elseif ta == "number" or ta == "string" then
			return a < b
		end
		return describe(a) < describe(b)
	end)
	local parts, i = {}, 1
	for _, k in ipairs(keys) do
		local key
		if k == i then
			key, i = "", i + 1
		elseif type(k) == "string" and k:match("^[%a_][%w_]*$") then
			key = k .. " = "
		else
			key = "[" .. pretty(k, 0, seen) .. "] = "
		end
		parts[#parts + 1] = key .. pretty(rawget(v, k), depth - 1, seen)
	end
	if n > 50 then
		parts[#parts + 1] = "..."
	end
	seen[v] = nil
	return "{" .. concat(parts, ", ") .. "}"
end

-- Evaluate a line or chunk for a prompt in session req.session: as an
-- expression first, else as statements.  Names it assigns stay in the
-- session's environment; _G.x reaches the service's globals.
-- A service keeps the environments of its last MAX_SESSIONS prompts
-- (a prompt killed with -9 never says goodbye); the least recently used
-- goes first.
local MAX_SESSIONS = 16
local function session_env(name)
	S.sessions, S.used = S.sessions or {}, S.used or {}
	local env = S.sessions[name]
	if not env then
		env = setmetatable({ hotfix = E.helpers(), skynet = skynet }, { __index = _G })
		S.sessions[name] = env
		local n, oldest = 0, nil
		for k in pairs(S.sessions) do
			n = n + 1
			if k ~= name and (not oldest or (S.used[k] or 0) < (S.used[oldest] or 0)) then
				oldest = k
			end
		end
		if n > MAX_SESSIONS then
			S.sessions[oldest], S.used[oldest] = nil, nil
		end
	end
	S.tick = (S.tick or 0) + 1
	S.used[name] = S.tick
	return env
end

function OPS.eval(req)
	local env = session_env(req.session or "")
	local P, U = E.inject_tables()
	local out = {}
	env.print, env._P, env._U = E.printer(out), P, U
	local name = req.name or "=repl"
	local f = load("return " .. req.src, name, "t", env)
	local f2, err = f or load(req.src, name, "t", env)
	if not f2 then
		return { ok = false, err = err, syntax = true }
	end
	-- code changed at a prompt is journaled (lua/apply.lua's run_line)
	local r = E.run_line(f2, name, req.session or "", out, req.timeout or 10, req.who)
	if not r[1] then
		return { ok = false, err = r[2], out = out }
	end
	local values = {}
	for i = 2, r.n do
		values[i - 1] = pretty(r[i], req.depth or 3, {})
	end
	return { ok = true, values = values, n = r.n - 1, out = out }
end

-- names for completing req.expr ("_P.lua.CM"): the keys of the table the
-- dotted path before the last '.' or ':' names, that start with the rest
function OPS.complete(req)
	local env = (S.sessions or {})[req.session or ""] or _G
	local base, sep, prefix = req.expr:match("^(.-)([.:]?)([%w_]*)$")
	local t
	if sep == "" then
		t = env
	else
		t = env
		for part in base:gmatch("[^.:]+") do
			t = type(t) == "table" and (rawget(t, part) or (t == env and _G[part])) or nil
		end
	end
	local names, seen = {}, {}
	local function add(tbl)
		if type(tbl) ~= "table" then
			return
		end
		for k in next, tbl do
			if type(k) == "string" and not seen[k] and k:sub(1, #prefix) == prefix then
				seen[k] = true
				names[#names + 1] = k
			end
		end
	end
	add(t)
	if t == env then
		add(_G)
	end
	sort(names)
	return { ok = true, names = names }
end

---------------------------------------------------------------- checks

-- What the checks learn from a script's text alone is found here, once
-- per script, and sent with it: every service of a batch would otherwise
-- tokenize the same source (lua/apply.lua's lint uses sc.reads).

local KEYWORDS = {}
for w in ("and break do else elseif end false for function goto if in local nil not or "
	.. "repeat return then true until while"):gmatch("%a+") do
	KEYWORDS[w] = true
end

local OPS2 = {}
for op in ("..,==,~=,<=,>=,::,//,<<,>>"):gmatch("[^,]+") do
	OPS2[op] = true
end

-- the tokens of Lua source src: { {v = text, name = bool, line = n} }
local function tokens(src)
	local list, pos, line, n = {}, 1, 1, #src
	local function skip_long(at)
		local eq = src:match("^%[(=*)%[", at)
		if not eq then
			return nil
		end
		local _, e = src:find("]" .. eq .. "]", at, true)
		return e or n
	end
	while pos <= n do
		local c = src:sub(pos, pos)
		local e
		if c == "\n" then
			line = line + 1
			pos = pos + 1
		elseif c:match("%s") then
			pos = pos + 1
		elseif src:sub(pos, pos + 1) == "--" then
			e = skip_long(pos + 2) or (src:find("\n", pos, true) or n + 1) - 1
		elseif c == "[" and src:match("^%[=*%[", pos) then
			e = skip_long(pos)
			list[#list + 1] = { v = "<string>", line = line }
		elseif c == '"' or c == "'" then
			e = pos + 1
			while e <= n and src:sub(e, e) ~= c do
				e = e + (src:sub(e, e) == "\\" and 2 or 1)
			end
			list[#list + 1] = { v = "<string>", line = line }
		elseif c:match("[%a_]") then
			e = src:find("[^%w_]", pos) or n + 1
			e = e - 1
			local w = src:sub(pos, e)
			list[#list + 1] = { v = w, name = not KEYWORDS[w], line = line }
		elseif c:match("%d") or (c == "." and src:match("^%.%d", pos)) then
			e = (src:find("[^%w_%.]", pos) or n + 1) - 1
			list[#list + 1] = { v = "<number>", line = line }
		else
			local op = src:sub(pos, pos + 2) == "..." and "..." or OPS2[src:sub(pos, pos + 1)]
				and src:sub(pos, pos + 1) or c
			e = pos + #op - 1
			list[#list + 1] = { v = op, line = line }
		end
		if e then
			local _, nl = src:sub(pos, e):gsub("\n", "")
			line = line + nl
			pos = e + 1
		end
	end
	return list
end

-- The global names src reads, with their lines and the lines of the
-- functions they are read in (within): names neither declared
-- local in an enclosing block nor field names, keys or assignment
-- targets.  Blocks are followed by their keywords, which is enough for
-- the checks (a name declared by `local x = x` counts from its statement).
local function free_reads(src)
	local toks, scopes, pending, reads = tokens(src), { {} }, nil, {}
	local function declared(name)
		for i = #scopes, 1, -1 do
			if scopes[i][name] then
				return true
			end
		end
	end
	local function push()
		scopes[#scopes + 1] = pending or {}
		pending = nil
	end
	local i = 1
	while i <= #toks do
		local t, prev, nxt = toks[i], toks[i - 1], toks[i + 1]
		local v = t.v
		if v == "local" and nxt and nxt.v ~= "function" then
			i = i + 1
			while toks[i] and toks[i].name do
				scopes[#scopes][toks[i].v] = true
				i = i + 1
				if toks[i] and toks[i].v == "<" then
					i = i + 3
				end
				if not (toks[i] and toks[i].v == ",") then
					break
				end
				i = i + 1
			end
			i = i - 1
		elseif v == "local" then -- local function NAME
			scopes[#scopes][toks[i + 2] and toks[i + 2].v or ""] = true
			i = i + 2
		elseif v == "function" then
			local params = {}
			i = i + 1
			while toks[i] and toks[i].v ~= "(" do
				if toks[i].v == ":" then
					params.self = true
				end
				i = i + 1
			end
			i = i + 1
			while toks[i] and toks[i].v ~= ")" do
				if toks[i].name then
					params[toks[i].v] = true
				end
				i = i + 1
			end
			pending = params
			push()
			scopes[#scopes].fn = t.line
		elseif v == "for" then
			pending = {}
			i = i + 1
			while toks[i] and toks[i].v ~= "in" and toks[i].v ~= "=" do
				if toks[i].name then
					pending[toks[i].v] = true
				end
				i = i + 1
			end
		elseif v == "do" or v == "then" or v == "repeat" then
			push()
		elseif v == "else" then
			scopes[#scopes] = nil
			push()
		elseif v == "end" or v == "until" or v == "elseif" then
			if #scopes > 1 then
				scopes[#scopes] = nil
			end
		elseif t.name and not declared(v) and not (prev and (prev.v == "." or prev.v == ":"
			or prev.v == "goto" or prev.v == "::")) and not (nxt and nxt.v == "=") then
			local within = {} -- the lines of the functions it is read in
			for j = 2, #scopes do
				within[#within + 1] = scopes[j].fn
			end
			reads[#reads + 1] = { name = v, line = t.line, within = within }
		end
		i = i + 1
	end
	return reads
end

---------------------------------------------------------------- fan-out

-- the bytecode of lua/engine.lua and the operations' chunks, made when
-- first needed: a hub sends them to the services it installs the engine
-- in.  Stripped of debug information: half the size, and a quarter less
-- time to install in a thousand services (only the engine's own line
-- numbers are lost)
local function dumper(f)
	local code
	return function()
		code = code or string.dump(f, true)
		return code
	end
end
local CODE = { engine = dumper(engine_chunk),
	apply = dumper(apply_chunk), journal = dumper(journal_chunk),
	rollback = dumper(rollback_chunk), set = dumper(set_chunk) }
-- the chunks a request for each operation brings to the services it
-- reaches, in load order (a set applies scripts, plans with the journal's
-- set_plan and prunes with rollback's rollback_entry)
local OP_CHUNKS = {}
local function bring(ops, chunks)
	for op in pairs(ops) do
		OP_CHUNKS[op] = chunks
	end
end
bring(APPLY_OPS, { "apply" })
bring(JOURNAL_OPS, { "journal" })
bring(ROLLBACK_OPS, { "rollback" })
bring(SET_OPS, { "apply", "journal", "rollback", "set" })

-- The engine and the operations' chunks, shared by the services of the
-- node: skynet.sharetable.core (in skynet.so, 1.4 to HEAD) runs a chunk in a
-- Lua state of its own and shares the table it returns, with the code of
-- its functions, with any service handed its pointer.  A peer then makes
-- the engine's closures from that code instead of loading 30 KB of
-- bytecode (and collecting it): an inject costs it a fifth less.  The
-- functions must have no upvalues: each chunk is wrapped in
-- function(_ENV, ...), _ENV the peer's own.  Stripped, as CODE's.  Made
-- at the hub's first fan-out; skynet never frees it (a peer may still be
-- running its code), so it lives as long as the node: 110 KB, outside any
-- service's heap, once per service that has been a hub for a batch.  A
-- pointer means something only in the process that made it: services on
-- other harbors get the bytecode.  skynet 1.4 shares a function but not
-- its code, whose string constants then match no string of a service
-- (reading a key that way finds nothing): a probe in the shared table
-- tells, and such a node gets the bytecode too (its matrix stays).
-- Returns { pointer, the C library that has the module (true: require
-- it), the harbor }, or false where the node has no such module.  A peer
-- opens the library itself: to require it would look for a file in each
-- directory of the search paths, per request (8 opens, a sixth of its
-- cost).
local shared
local PROBE = "skyctl: shared code reads this key"
local function shared_engine()
	if shared == nil then
		shared = false
		local ok, core = pcall(require, "skynet.sharetable.core")
		if ok and type(core) == "table" then
			local clib = package.searchpath("skynet.sharetable.core", package.cpath) or
				package.searchpath("skynet", package.cpath) or true
			local parts = { ("probe=function(t) return t[%q] end,"):format(PROBE) }
			local part = "%s=load(string.dump(assert(load(%q,%q,'t')),true),nil,'b')(),"
			for name, src in pairs(SOURCES) do
				parts[#parts + 1] = part:format(name,
					"return function(_ENV,...) " .. src .. "\nend", "=skyctl-" .. name)
			end
			local made, box = pcall(core.matrix, "return{" .. concat(parts) .. "}")
			if made then
				S.shared = box -- kept in sight; never closed
				if core.clone(box:getptr()).probe({ [PROBE] = true }) then
					shared = { box:getptr(), clib, skynet.self() >> 24 }
				end
			end
		end
		SOURCES = nil
	end
	return shared
end

local function call_error(e)
	return { ok = false, unreached = true, err = tostring(e):gsub("^.-:%d+: ", "") }
end

-- What runs a hub's request in a peer: the node's shared copy of this chunk
-- (see shared_engine), else its bytecode, called with skynet.sharetable's
-- clone and the pointer to the hub's shared engine (or nothing) returns
-- run(env, engine, mode, version, req), which runs the engine (shared:
-- the pointer; else its bytecode) with req in env and returns the reply
-- (whether it went well, "t" or "f", and the bytes of its packed table),
-- and the debug command a peer that keeps a journal registers as SKYCTLP
-- (see PEER_RUN).
-- The collector waits while run runs: RUN collects all garbage once the
-- chunk returns, so until then a step of the collector is work done
-- twice (stopping it only once the engine had loaded left 11-13% of a
-- peer's time to those steps; a profile, brought as req.chunk, waits: the
-- collector runs); through SKYCTLP, the service's collector takes the
-- request's garbage afterwards, as it does any message's.  It is back on
-- once the request has made 16 MB,
-- before a script waits (the engine's gc_resume), and whatever happens,
-- when the engine returns: a service never keeps its collector stopped.
local PEER = [[
local clone, shared = ...
local function run(env, engine, mode, version, req)
	local registry = debug.getregistry()
	local hooks = registry._HOOKKEY -- debug.sethook's table of hooks by thread
	local at = not req.chunk and collectgarbage("isrunning") and collectgarbage("count")
	if at then
		collectgarbage("stop")
	end
	local function resume(now)
		if at and (now or collectgarbage("count") > at + 16384) then
			at = nil
			collectgarbage("restart")
		end
	end
	local f, err
	if clone then
		local m = clone(engine)
		f = function(...)
			return m.engine(env, ...)
		end
		for i, name in ipairs(req.ops or {}) do
			local chunk = m[name]
			req.ops[i] = function(...)
				return chunk(_ENV, ...)
			end
		end
	else
		f, err = load(engine, "=skyctl-engine", "bt", env)
	end
	local ok = f ~= nil
	if ok then
		ok, err = pcall(f, mode, version, nil, req, resume) -- (nil: no wire module)
	end
	if ok then -- the engine's chunk returned what runs req (see lua/engine.lua)
		ok, err = pcall(err)
	end
	resume(true)
	-- the hook table the engine's watchdog made here, with no hook left in
	-- it (its one key is then __mode: it is its own metatable): 0.1 KB a
	-- service that sets no hook of its own need not keep (sethook makes
	-- another when one is set)
	local made = not hooks and registry._HOOKKEY
	if made and next(made) == "__mode" and next(made, "__mode") == nil then
		registry._HOOKKEY = nil
	end
	if not ok then
		error(err, 0)
	end
	return err
end
-- SKYCTLP: a request of the hub whose shared engine this peer's command
-- was made for, run as RUN would but for RUN's own work: no inject
-- environment (the engine finds _P and _U itself, when it needs them), and
-- no full collection at the end (the garbage is the service's collector's,
-- as any message's is): a patched service with a heap of 100 MB is not
-- stopped for 40 ms or more by each request skyctl sends it.  What is not
-- that hub's pointer (another hub's, a console's stray line) is refused
-- before anything runs.  It takes run from the shared copy at each call
-- rather than keep it: in the sandbox, whose services each load the
-- shared code they use, the command's code is then all that stays (and
-- skynet's module, a lookup in package.loaded, is no upvalue to keep).
local function command(engine, mode, version, req)
	local skynet = require "skynet"
	if engine ~= shared or type(req) ~= "table" then
		return skynet.ret(skynet.pack(false, "skyctl: not this command's engine"))
	end
	local fresh = clone(engine).peer(_ENV, clone, engine)
	skynet.ret(skynet.pack(pcall(fresh, _ENV, engine, mode, version, req)))
end
return run, command]]
local peer_chunk = assert(load(PEER, "=skyctl-peer", "t", _G))

-- What a peer RUNs: run (PEER, shared or brought) with RUN's environment.
-- Where the engine is shared and keep is set (by a resident agent, for any
-- request but uninstall's), a peer that keeps a journal afterwards
-- registers PEER's command, SKYCTLP, and says so ("T" or "F" for "t" or
-- "f"): the hub sends it the next requests, and a service that skyctl
-- patched keeps only that closure (about 200 bytes of its heap: the code
-- is shared) besides its journal.  A peer with no journal keeps nothing.
local PEER_RUN = [[
local engine, mode, version, req, clib, harbor, peer, keep = ...
if not clib then -- engine and peer: bytecode (or source)
	print(load(peer, "=skyctl-peer", "bt", _G)()(_ENV, engine, mode, version, req))
	return
end
-- engine: the pointer to the hub's shared engine (see shared_engine)
local name = "skynet.sharetable.core"
local here = harbor == require("skynet").self() >> 24
local open = here and clib ~= true and package.loadlib(clib, "luaopen_skynet_sharetable_core")
local loaded, ok, core = package.loaded[name], false, nil
if here then
	ok, core = pcall(open or require, name)
	package.loaded[name] = loaded
end
if not ok or type(core) ~= "table" then
	error("skyctl: no shared engine here", 0)
end
local run, command = core.clone(engine).peer(_G, core.clone, engine)
local line = run(_ENV, engine, mode, version, req)
if keep and package.loaded.skyctl then
	require("skynet.debug").reg_debugcmd("SKYCTLP", command)
	-- the hub this command is for, and any whose command it replaced (that
	-- hub still counts on one here): each is told if another service takes
	-- it away (see forget)
	local S = package.loaded.skyctl
	if S.hub and S.hub ~= req.hub then
		S.hubs = S.hubs or {}
		S.hubs[S.hub] = true
	end
	S.hub = req.hub
	line = line:sub(1, 1):upper() .. line:sub(2)
end
print(line)]]
local peer_run_code = dumper(assert(load(PEER_RUN, "=skyctl-run", "t", _G)))
CODE.peer, SOURCES.peer = dumper(peer_chunk), PEER

-- req.ops: the names of the chunks its operation brings (share: the
-- shared engine's), else their bytecode
local function bring_ops(req, share)
	local ops = {}
	for i, name in ipairs(OP_CHUNKS[req.op] or {}) do
		ops[i] = share and name or CODE[name]()
	end
	req.ops = ops[1] and ops or nil
end

-- The debug message of a fan-out, RUN the engine with req, packed
-- (skynet.packstring) when first needed and once for all the peers: a
-- copy for each of them rather than a packing of 20 KB.  With share, the
-- one that points at the shared engine (with command, the one for a
-- peer's SKYCTLP); without, the one that brings it.
local function run_message(req)
	local msgs = {}
	return function(share, command)
		local which = command and "command" or share and "shared" or "brought"
		if not msgs[which] then
			bring_ops(req, share)
			if command then
				msgs[which] = skynet.packstring("SKYCTLP", share[1], "runonce", VERSION, req)
			elseif share then
				msgs[which] = skynet.packstring("RUN", peer_run_code(), "skyctl-engine",
					share[1], "runonce", VERSION, req, share[2], share[3], nil,
					MODE == "load" and req.op ~= "remove")
			else
				msgs[which] = skynet.packstring("RUN", peer_run_code(), "skyctl-engine",
					CODE.engine(), "runonce", VERSION, req, nil, nil, CODE.peer())
			end
		end
		return msgs[which]
	end
end

-- skynet.call(t, "debug", ...) with the arguments in msg, packed already
local function call_packed(t, msg)
	local ok, m, sz = pcall(skynet.rawcall, t, "debug", msg)
	if not ok then
		error(tostring(m):find("invalid address", 1, true) and
			"call to invalid address " .. skynet.address(t) or m, 0)
	end
	return skynet.unpack(m, sz)
end

-- The peers that registered SKYCTLP for this service's agent (see
-- PEER_RUN), a bit each by handle in S.commands: 1.3 KB for 10,000 of
-- them.  A request goes to that command; where it is another hub's, to
-- RUN, which registers it again.  An uninstall through this service (its
-- first target; mode "once", which registers nothing) clears the bits of
-- the peers it takes the command from; one through another service
-- (`skyctl uninstall :c`, which goes through :c) tells this one (see
-- tell_hubs), so that no request goes to a command that is gone (the
-- peer's debug dispatch would log it).
local function has_command(t)
	local id, commands = t & 0xffffff, S.commands
	return commands ~= nil and (commands[id >> 6] or 0) & (1 << (id & 63)) ~= 0
end
local function set_command(t, has)
	local id, commands = t & 0xffffff, S.commands
	if not commands then
		if not has then
			return
		end
		commands = {}
		S.commands = commands
	end
	local w, bit = id >> 6, 1 << (id & 63)
	commands[w] = has and (commands[w] or 0) | bit or (commands[w] or 0) & ~bit
end
-- the services in list no longer have SKYCTLP (S.forget, for tell_hubs)
local function forget(list)
	for _, t in ipairs(list) do
		set_command(t, false)
	end
end

-- After an uninstall: each hub whose SKYCTLP it took away somewhere (the
-- replies' hub, see lua/engine.lua's OPS.remove) is told where, in one
-- stock RUN (it may have no command of skyctl's left), sent without
-- waiting; the replies lose the field.
local FORGET = "local S, list = package.loaded.skyctl, ... if S and S.forget then S.forget(list) end"
local function tell_hubs(reps)
	local gone = {}
	for _, rep in pairs(reps) do -- (a target never started has none)
		for _, hub in ipairs(rep.hubs or {}) do
			gone[hub] = gone[hub] or {}
			gone[hub][#gone[hub] + 1] = rep.addr or skynet.self()
		end
		rep.hubs = nil
	end
	for hub, list in pairs(gone) do
		skynet.send(hub, "debug", "RUN", FORGET, "skyctl", list)
	end
end

-- Run the engine with req in peer t (msg: run_message's): through its
-- command, else RUN it there shared, else as bytecode, or as source where
-- the node refuses binary chunks; returns pcall's results
local function peer_run(t, req, msg)
	local share = shared_engine()
	share = share and t >> 24 == share[3] and share
	if share and has_command(t) then
		local ok, done, out = pcall(call_packed, t, msg(share, true))
		if ok and (done or not tostring(out):find("not this command's engine", 1, true)) then
			return ok, done, out
		end
		set_command(t, false)
	end
	local ok, done, out = pcall(call_packed, t, msg(share))
	if share and ok and not done and tostring(out):find("no shared engine", 1, true) then
		ok, done, out = pcall(call_packed, t, msg(false))
	end
	if ok and not done and tostring(out):find("binary", 1, true) then
		bring_ops(req, false)
		ok, done, out = pcall(skynet.call, t, "debug", "RUN", PEER_RUN, "skyctl-engine",
			engine_src, "runonce", VERSION, req, nil, nil, PEER)
	end
	return ok, done, out
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

-- the value wire-encoded in s (lua/wire.lua's grammar), or nil and a
-- message when s is not well formed
local function decode(s)
	local ok, v, i = pcall(dec, s, 1, 0)
	if not ok then
		return nil, v
	end
	if i ~= #s + 1 then
		return nil, "trailing bytes at " .. i
	end
	return v
end

-- a peer's reply (packed: see lua/engine.lua's peer_reply) as a value;
-- nil if it is none
local function peer_value(bytes)
	local ok, v = pcall(skynet.unpack, bytes)
	return ok and v or nil
end

-- A peer's reply as a piece of this hub's reply line (lua/wire.lua's b or
-- p): in base64 by skynet.crypt, in C, where the node has it (1.4 to
-- HEAD do), else escaped in Lua, a gsub pass for each byte that needs it,
-- which in each peer was a twentieth of a first contact's instructions.
-- The module is loaded at the first fan-out and left out of the
-- service's package.loaded (as --no-agent leaves nothing).
local base64
local function peer_piece(bytes)
	if base64 == nil then
		local name = "skynet.crypt"
		local loaded = package.loaded[name]
		local ok, crypt = pcall(require, name)
		package.loaded[name] = loaded
		base64 = ok and type(crypt) == "table" and crypt.base64encode or false
	end
	if base64 then
		local text = base64(bytes)
		return wire.raw("b" .. #text .. ":" .. text)
	end
	return wire.raw(wire.packed(bytes))
end

-- Run req (msg: run_message's) in peer service t: the engine comes with each
-- request and goes when it is done (mode "runonce"), so a peer keeps
-- nothing of skyctl's but its journal (and the command that brings the
-- engine, SKYCTLP).  The peer replies "t" or "f" ("T" or "F": it has
-- registered SKYCTLP) and its reply, packed.  Returns ok and the reply: a
-- table, or its peer_piece.
local function call_peer(t, req, msg)
	if t == skynet.self() then
		local rep = E.handle_local(req)
		return rep.ok, rep
	end
	local ok, done, out = peer_run(t, req, msg)
	local removing = req.op == "remove"
	if removing then -- (its command is gone, see has_command)
		set_command(t, false)
	end
	if not ok then
		return false, call_error(done)
	end
	local flag = done and out:sub(1, 1)
	if flag == "T" or flag == "F" then
		set_command(t, true)
		flag = flag:lower()
	end
	if flag == "t" or flag == "f" then
		local bytes = out:sub(2)
		if removing then -- read here: it may name a hub to tell (tell_hubs)
			return flag == "t", peer_value(bytes) or peer_piece(bytes)
		end
		return flag == "t", peer_piece(bytes)
	end
	return false, { ok = false, err = "agent failed: " .. tostring(out) }
end

-- Run own(), the hub's own turn, with what its script forks held back
-- until the fan-out is done; returns what puts them back at the end of
-- skynet's fork queue.  Skynet runs forks once the handler yields, and the
-- fan-out yields: a fork that does not yield soon would otherwise hold
-- every other target's turn and the reply (a stock RUN replies before its
-- script's forks run).  Nothing is held when the turn waited (the queue
-- ran meanwhile) or the queue is not found.
local function holding_forks(own)
	local q
	for i = 1, 32 do
		local name, v = debug.getupvalue(skynet.fork, i)
		if name == nil or name == "fork_queue" then
			q = v
			break
		end
	end
	local m0 = type(q) == "table" and E.messages()
	local t0 = m0 and (rawget(q, "t") or #q)
	own()
	local held = {}
	if t0 and E.messages() == m0 then
		local t1 = rawget(q, "t") or #q
		for i = t0 + 1, t1 do
			held[#held + 1], q[i] = q[i], nil
		end
		if rawget(q, "t") then
			q.t = t0
		end
	end
	return function()
		for _, co in ipairs(held) do
			if rawget(q, "t") then
				q.t = q.t + 1
				q[q.t] = co
			else
				q[#q + 1] = co
			end
		end
	end
end

-- run req.sub in every service of req.targets with req.par workers; stop
-- starting new ones after a failure when req.stop.  Results are in target
-- order; a target never started has no result.
local function fanout(req)
	local targets, sub, me, t0 = req.targets, req.sub, skynet.self(), skynet.now()
	sub.v, sub.hub = req.v, me -- (a peer keeps hub with its SKYCTLP: see forget)
	local results, nextk, stop = {}, 1, false
	local msg = run_message(sub)
	local function run(k)
		local ok, r = call_peer(targets[k], sub, msg)
		if r.ok ~= nil then -- a table made here, not a peer's line
			r.addr = targets[k]
		end
		results[k] = r
		if not ok and req.stop then
			stop = true
		end
	end
	-- this service's own turn comes first, alone: a script that yields
	-- must not see the fan-out's own traffic change code tables meanwhile
	local release = function() end
	for k, t in ipairs(targets) do
		if t == me and not sub.together then -- (a profile's window runs everywhere at once)
			release = holding_forks(function()
				run(k)
			end)
			break
		end
	end
	local function work()
		while not stop and nextk <= #targets do
			local k = nextk
			nextk = k + 1
			if not results[k] then
				run(k)
			end
		end
	end
	local par = math.min(req.par or 1, #targets)
	if (par <= 1 and not req.wait) or not (skynet.fork and skynet.wait and skynet.wakeup) then
		work()
	else
		-- a token of this fan-out's own: a late timer or worker cannot
		-- wake a later wait of this coroutine
		local token, running = {}, par
		for _ = 1, par do
			skynet.fork(function()
				work()
				running = running - 1
				if running == 0 then
					skynet.wakeup(token)
				end
			end)
		end
		if req.wait then -- counted from the request, this service's own turn included
			local left = math.floor(req.wait * 100) - (skynet.now() - t0)
			skynet.timeout(math.max(0, left), function()
				skynet.wakeup(token)
			end)
		end
		skynet.wait(token)
		stop = true
	end
	-- a target still running at the deadline settles "pending" (it may or
	-- may not finish): the others' results go back now, not with it
	for k = 1, nextk - 1 do
		results[k] = results[k] or { ok = false, pending = true, addr = targets[k],
			err = ("no answer within %g s"):format(req.wait or 0) }
	end
	release()
	return { ok = true, results = results, n = #targets }
end

-- The node's Lua is the truth: skyctl compiles a script locally only for
-- a node of its own Lua.  The hub compiles every script of a request here
-- first, so one that does not compile fails the request before anything
-- runs, reported at file:line as a service would; the services get its
-- bytecode (a load costs a tenth of a compile) and its reads, not its text.
local function compile(scripts)
	for _, sc in ipairs(scripts or {}) do
		local f, err = load(sc.src, "@" .. sc.name, "t", {})
		if not f then
			return err
		end
		sc.code, sc.reads, sc.src = string.dump(f), free_reads(sc.src), nil
	end
end

-- req.scripts compiled in this node's Lua, not run: handle has done it
function OPS.compile()
	return { ok = true }
end

local function handle(req)
	local err = compile((req.targets and req.sub or req).scripts)
	if err then
		return { ok = false, err = err }
	end
	local rep
	if req.targets and req.v == VERSION then
		rep = fanout(req)
	else
		rep = E.handle_local(req)
	end
	if (req.sub or req).op == "remove" then
		tell_hubs(rep.results or { rep })
	end
	return rep
end

-- the reply line the console prints: prefix + escaped wire encoding
local function reply_line(rep)
	return PREFIX .. wire.line(rep)
end

---------------------------------------------------------------- console

local function decode_request(arg)
	local req, err = decode(wire.unescape(arg or ""))
	if type(req) ~= "table" then
		error("bad request: " .. (err or "not a table"), 0)
	end
	return req
end

-- The SKYCTL1 debug command.  From a hub: one request table, answered
-- with peer_reply (a hub of another version gets an upgrade table).  From
-- the console: the client's agent version and the escaped request; a
-- version other than this agent's gets the line "SKYCTL1 upgrade
-- <version>", and the client loads its own agent through SKYCTL.
local function command(ver, arg)
	if ver ~= VERSION then
		return skynet.ret(skynet.pack(PREFIX .. "upgrade " .. VERSION))
	end
	local ok, rep = pcall(function()
		local req = decode_request(arg)
		req.v = VERSION
		return handle(req)
	end)
	if not ok then
		rep = { ok = false, err = tostring(rep) }
	end
	skynet.ret(skynet.pack(reply_line(rep)))
end

---------------------------------------------------------------- main

if MODE == "once" then
	-- --no-agent: nothing is registered; only the journal data stays
	local ok, rep = pcall(function()
		local req = decode_request(REQUEST)
		req.v = VERSION
		return handle(req)
	end)
	if not ok then
		rep = { ok = false, err = tostring(rep) }
	end
	E.tidy()
	return skynet.ret(skynet.pack(reply_line(rep)))
end

if S.cmd and S.cmd ~= CMD then
	sdebug.reg_debugcmd(S.cmd, nil) -- an older agent's command
end
if S.version ~= VERSION then
	-- (peers and journaled: an older agent's record of resident engines)
	S.U, S.Useen, S.peers, S.journaled, S.commands = nil, nil, nil, nil, nil
end
-- command: for lua/probe.lua, which answers a session's first request
S.version, S.cmd, S.command, S.forget = VERSION, CMD, command, forget
sdebug.reg_debugcmd(CMD, command)
sdebug.reg_debugcmd(LOADER, E.loader)
sdebug.reg_debugcmd(ONCE, nil)
skynet.ret(skynet.pack(reply_line({ ok = true, version = VERSION })))
