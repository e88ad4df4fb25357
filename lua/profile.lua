-- skyctl profile: sample the Lua stacks of every coroutine that runs in
-- this service for a window, with no C module.  skyctl sends this chunk
-- with each profile request (req.chunk); lua/engine.lua runs it once and
-- keeps nothing of it.
--
-- A Lua count hook costs while it is set, whatever its count: every
-- instruction of the hooked thread goes through the hook check (about
-- twice as slow).  So no hook stays set: each coroutine is looked at as
-- it is resumed, by standing in for the resume function of skynet's
-- scheduler (the upvalue `cresume`: every message handler, pooled or new,
-- timeout and fork runs through it), of other modules that keep
-- coroutine.resume, and for the global coroutine.resume.  The stand-in
-- times each run.  A coroutine being resumed gets, with a chance of its
-- typical run time (its recent runs) times hz, a count hook due after a
-- random number of instructions within such a run (at the measured
-- instruction rate), which records the stack and removes itself; a hook
-- still set when the run ends is removed then.  So samples follow the
-- service's cpu time and land anywhere in a run.  The instructions run
-- with a hook set are kept under BUDGET of all (scaled with hz): services
-- whose runs are long (a handler busy for many ms) get fewer samples.
-- Coroutines of coroutine.wrap are not seen; one with a hook of its own (a
-- debugger's, a watchdog's) is left alone.
--
-- The window ends inside the service (skynet.timeout): every hook still
-- set is removed and every function stood in for is put back, whether or
-- not anyone still waits for the reply.  A hook that fires after the end
-- removes itself.
local E, req = ...
local skynet = require "skynet"
local dbg = debug
local getinfo, sethook, gethook, getupvalue, setupvalue =
	dbg.getinfo, dbg.sethook, dbg.gethook, dbg.getupvalue, dbg.setupvalue
local co_running, concat, pairs, type, random = coroutine.running, table.concat, pairs, type,
	math.random

local hz = math.max(1, req.hz or 100)
local BUDGET = 0.03 * hz / 100	-- share of the instructions run with a hook set, at most
local KCAP = 2e7	-- instructions before an armed hook fires, at most
local MAXDEPTH, MAXSTACKS = 64, 4000
local seconds = math.max(0.01, req.seconds or 5)

-- a clock in seconds: skynet's high-performance counter when it has one
local clock = os.clock
if type(skynet.hpc) == "function" then
	local hpc = skynet.hpc
	clock = function() return hpc() * 1e-9 end
end

local active, busy = true, 0	-- busy: seconds coroutines ran in the window
local ips, cost, typical = 1e8, 0, 0	-- instructions per second; armed so far; a run's s
local runtime = setmetatable({}, { __mode = "k" })	-- co -> its typical run, s
local armed_at = setmetatable({}, { __mode = "k" })	-- co -> clock when armed
local stacks, nstacks, samples = {}, 0, 0
local armed = setmetatable({}, { __mode = "k" })	-- co -> instructions our hook waits
local seen = setmetatable({}, { __mode = "k" })	-- co -> true (ours) / false (foreign)
local ncoroutines, nforeign = 0, 0
local names = setmetatable({}, { __mode = "k" })	-- function -> frame text
local frames = {}

-- Names by where functions are kept, found before the window: "CMD.work"
-- for a handler in a table of the service's dispatch functions (_P),
-- "skynet.call" for a module's; a handler called through a local (`f`)
-- or a tail call has no better name.
local known = {}
local function name_fields(prefix, t, budget)
	for k, v in next, t do
		budget = budget - 1
		if budget < 0 then
			break
		elseif type(v) == "function" and type(k) == "string" and not known[v] then
			known[v] = prefix .. k
		end
	end
	return budget
end
do
	local budget = 20000
	local ok, P = pcall(E.inject_tables)
	for _, tables in pairs(ok and type(P) == "table" and P or {}) do
		for name, t in pairs(tables) do
			if type(t) == "table" and type(name) == "string" and budget > 0 then
				budget = name_fields(name == "_ENV" and "" or name .. ".", t, budget)
			end
		end
	end
	for mod, t in pairs(package.loaded) do
		if type(t) == "table" and type(mod) == "string" and mod ~= "_G" and budget > 0 then
			budget = name_fields(mod .. ".", t, budget)
		end
	end
end

-- "name (file.lua:12)", "name [C]": a function as a frame (first name seen)
local function frame(level)
	local f = getinfo(level, "f")
	if not f then
		return nil
	end
	local s = names[f.func]
	if s then
		return s
	end
	local info = getinfo(level, "Sn")
	local name = known[f.func] or info.name or (info.what == "main" and "main chunk")
		or "anonymous"
	if info.what == "C" then
		s = name .. " [C]"
	else
		s = name .. " (" .. info.short_src:match("[^/]*$") .. ":" .. info.linedefined .. ")"
	end
	s = s:gsub(";", ",")
	names[f.func] = s
	return s
end

local function hook()
	local co = co_running()
	local k, dt = armed[co], clock() - (armed_at[co] or 0)
	sethook()
	armed[co] = nil
	if not active then
		return
	end
	if k and k >= 10000 and dt > 0 then	-- hooked code runs at about half speed
		ips = math.max(2e7, math.min(2e9, ips + (2 * k / dt - ips) * 0.25))
	end
	local n = 0
	for level = 3, MAXDEPTH + 2 do	-- 1 is frame, 2 this hook: start past both
		local s = frame(level)
		if not s then
			break
		end
		n = n + 1
		frames[n] = s
	end
	for i = 1, n // 2 do	-- root first
		frames[i], frames[n + 1 - i] = frames[n + 1 - i], frames[i]
	end
	local key = concat(frames, ";", 1, n)
	if not stacks[key] then
		if nstacks >= MAXSTACKS then
			key = "[other stacks]"
		end
		nstacks = nstacks + 1
	end
	stacks[key] = (stacks[key] or 0) + 1
	samples = samples + 1
end

-- arm the hook in co, unless it has a hook of its own
local function arm(co)
	if gethook(co) then
		if seen[co] == nil then
			nforeign = nforeign + 1
		end
		seen[co] = false
		return
	end
	if not seen[co] then
		seen[co], ncoroutines = true, ncoroutines + 1
	end
	local span = math.floor((runtime[co] or typical) * ips)
	local k = random(1, math.max(100, math.min(KCAP, span)))
	armed[co], armed_at[co], cost = k, clock(), cost + k
	sethook(co, hook, "", k)
end

local function ran(co, t0, ...)
	local d = clock() - t0
	busy = busy + d
	if armed[co] then	-- the run ended first
		if gethook(co) == hook then
			sethook(co)
		end
		armed[co] = nil
	end
	runtime[co] = (runtime[co] or d) * 0.75 + d * 0.25
	typical = typical * 0.9 + d * 0.1
	return ...
end

-- a resume function that times the run and arms the hook when one is due
local function resumer(resume)
	return function(co, ...)
		if not active then
			return resume(co, ...)
		end
		if not armed[co] and seen[co] ~= false and random() < (runtime[co] or typical) * hz
			and cost <= BUDGET * busy * ips then
			arm(co)
		end
		return ran(co, clock(), resume(co, ...))
	end
end

-- the functions stood in for, to put back: { t = , k = , old = , new = }
-- for a field, { f = , i = , old = , new = } for an upvalue
local swaps = {}

-- Stand in for every upvalue reachable from the loaded modules' functions
-- that holds coroutine.resume or is called `cresume` (skynet's scheduler);
-- true if skynet's scheduler was among them.
local function swap_upvalues()
	local real, scheduler = coroutine.resume, false
	local visited, queue, qn = {}, {}, 0
	for _, m in pairs(package.loaded) do
		if type(m) == "table" then
			for _, f in pairs(m) do
				if type(f) == "function" and qn < 20000 then
					qn = qn + 1
					queue[qn] = f
				end
			end
		end
	end
	local qi = 1
	while qi <= qn and qi <= 20000 do
		local f = queue[qi]
		qi = qi + 1
		if not visited[f] then
			visited[f] = true
			for i = 1, 255 do
				local name, v = getupvalue(f, i)
				if name == nil then
					break
				elseif type(v) == "function" and (v == real or name == "cresume") then
					local new = resumer(v)
					setupvalue(f, i, new)
					swaps[#swaps + 1] = { f = f, i = i, old = v, new = new }
					scheduler = scheduler or name == "cresume"
				elseif type(v) == "function" and not visited[v] then
					qn = qn + 1
					queue[qn] = v
				end
			end
		end
	end
	return scheduler
end

local function start()
	local scheduler = swap_upvalues()
	local co = coroutine
	swaps[#swaps + 1] = { t = co, k = "resume", old = co.resume, new = resumer(co.resume) }
	co.resume = swaps[#swaps].new
	return scheduler
end

local function stop()
	if not active then
		return
	end
	active = false
	for j = #swaps, 1, -1 do	-- put back what is still ours
		local s = swaps[j]
		if s.t and rawequal(s.t[s.k], s.new) then
			s.t[s.k] = s.old
		elseif s.f and rawequal(select(2, getupvalue(s.f, s.i)), s.new) then
			setupvalue(s.f, s.i, s.old)
		end
	end
	for co in pairs(armed) do
		if gethook(co) == hook then
			sethook(co)
		end
		armed[co] = nil
	end
end

local me = co_running()
seen[me] = false	-- the window's own wait is not the service's work
local scheduler = start()
skynet.timeout(math.ceil(seconds * 100), function()
	stop()
	skynet.wakeup(me)
end)
skynet.wait(me)
stop()
return {
	ok = true, stacks = stacks, samples = samples, seconds = seconds, busy = busy,
	coroutines = ncoroutines, foreign = nforeign, scheduler = scheduler,
}
