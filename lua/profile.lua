-- skyctl profile: sample the Lua stacks of every coroutine that runs in
-- this service for a window, with no C module.  skyctl sends this chunk
-- with each profile request (req.chunk); lua/engine.lua runs it once and
-- keeps nothing of it.
--
-- A count hook is set per coroutine (debug.sethook hooks one thread):
-- on the main thread, and on each coroutine the moment it is resumed
-- during the window, by standing in for the `cresume` upvalue of skynet's
-- scheduler (every message handler, pooled or new, timeout and fork is
-- resumed through it) and for the globals coroutine.resume, .create and
-- .wrap (coroutines of the service's own).  Every COUNT instructions the
-- hook reads a clock; once per 1/hz s of Lua running it records the stack,
-- so samples follow the service's cpu time, not the wall clock.  A
-- coroutine that already has a hook (a debugger's, a watchdog's) is left
-- alone.
--
-- The window ends inside the service (skynet.timeout): every hook set is
-- removed and every function stood in for is put back, whether or not
-- anyone still waits for the reply.  A hook that fires after the end
-- removes itself.
local E, req = ...
local skynet = require "skynet"
local dbg = debug
local getinfo, sethook, gethook, getupvalue, setupvalue =
	dbg.getinfo, dbg.sethook, dbg.gethook, dbg.getupvalue, dbg.setupvalue
local co_running, concat, pairs, type = coroutine.running, table.concat, pairs, type

local COUNT = req.count or 1000	-- instructions between two looks at the clock
local MAXDEPTH, MAXSTACKS = 64, 4000
local GAP = 0.0005	-- a longer time between two looks is idle time, mostly
local seconds = math.max(0.01, req.seconds or 5)
local hz = math.max(1, req.hz or 100)

-- a clock in seconds: skynet's high-performance counter when it has one
local clock = os.clock
if type(skynet.hpc) == "function" then
	local hpc = skynet.hpc
	clock = function() return hpc() * 1e-9 end
end
local period = 1 / hz

local active, last, credit = true, clock(), 0
local stacks, nstacks, samples = {}, 0, 0
local hooked = setmetatable({}, { __mode = "k" })	-- co -> true (ours) / false (foreign)
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
	if not active then
		return sethook()
	end
	-- sample once per period of Lua running: the time between two looks
	-- counts, up to GAP (beyond it the service was mostly idle)
	local now = clock()
	local gap = now - last
	last = now
	credit = credit + (gap < GAP and gap or GAP)
	if credit < period then
		return
	end
	credit = credit - period
	local n = 0
	for level = 3, MAXDEPTH + 2 do	-- 1 is this hook, 2 frame's caller: start past both
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

-- hook co for the window, unless it has a hook of its own
local function watch(co)
	if hooked[co] ~= nil or not active then
		return
	end
	if gethook(co) then
		hooked[co], nforeign = false, nforeign + 1
	else
		sethook(co, hook, "", COUNT)
		hooked[co], ncoroutines = true, ncoroutines + 1
	end
end

-- a resume function that hooks the coroutine first
local function resumer(resume)
	return function(co, ...)
		if hooked[co] == nil and active then
			watch(co)
		end
		return resume(co, ...)
	end
end

-- the functions stood in for, to put back: { t = , k = , old = , new = }
-- for a field, { f = , i = , old = , new = } for an upvalue
local swaps = {}

-- the scheduler's resume: the upvalue `cresume` of a function reachable
-- from the skynet module's functions through upvalues
local function swap_scheduler()
	local seen, queue, qn = {}, {}, 0
	for _, f in pairs(skynet) do
		if type(f) == "function" then
			qn = qn + 1
			queue[qn] = f
		end
	end
	local qi = 1
	while qi <= qn and qi <= 20000 do
		local f = queue[qi]
		qi = qi + 1
		if not seen[f] then
			seen[f] = true
			for i = 1, 255 do
				local name, v = getupvalue(f, i)
				if name == nil then
					break
				elseif name == "cresume" and type(v) == "function" then
					local new = resumer(v)
					setupvalue(f, i, new)
					swaps[#swaps + 1] = { f = f, i = i, old = v, new = new }
					return true
				elseif type(v) == "function" and not seen[v] then
					qn = qn + 1
					queue[qn] = v
				end
			end
		end
	end
	return false
end

-- a coroutine body that hooks its own coroutine when it starts
local function starter(f)
	return function(...)
		watch(co_running())
		return f(...)
	end
end

local function swap_field(t, k, new)
	swaps[#swaps + 1] = { t = t, k = k, old = t[k], new = new }
	t[k] = new
end

local function start()
	local reg = dbg.getregistry()
	for _, k in ipairs({ 1, 3 }) do	-- LUA_RIDX_MAINTHREAD: 1 in Lua 5.4, 3 in 5.5
		if type(reg[k]) == "thread" then
			watch(reg[k])
			break
		end
	end
	local scheduler = swap_scheduler()
	local co = coroutine
	local create, wrap = co.create, co.wrap
	swap_field(co, "resume", resumer(co.resume))
	swap_field(co, "create", function(f) return create(starter(f)) end)
	swap_field(co, "wrap", function(f) return wrap(starter(f)) end)
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
	for co, ours in pairs(hooked) do
		if ours and gethook(co) == hook then
			sethook(co)
		end
	end
end

local me = co_running()
hooked[me] = false	-- the window's own wait is not the service's work
local scheduler = start()
skynet.timeout(math.ceil(seconds * 100), function()
	stop()
	skynet.wakeup(me)
end)
skynet.wait(me)
stop()
return {
	ok = true, stacks = stacks, samples = samples, seconds = seconds, hz = hz,
	coroutines = ncoroutines, foreign = nforeign, scheduler = scheduler,
}
