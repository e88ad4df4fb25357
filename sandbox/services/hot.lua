-- A service with a known hot function, for `skyctl profile`: a driver
-- sends this service "work" messages, 20 at a time; each is handled in
-- one of skynet's pooled coroutines, where CMD.work calls `crunch` (and
-- the lighter `rank`) for about hot_ms ms of cpu (default 0.25); then
-- the driver sleeps hot_sleep ticks (default 1, 1/100 s each).  CMD.bench(n) runs crunch n times, in
-- messages of 10, and returns the node's cpu seconds meanwhile
-- (bench/bench_profile.py); CMD.leftovers says
-- what a profile left in the service (the tests).  Registered as
-- `.hot`.  Only the common skynet API, so it runs unchanged on real skynet.
local skynet = require "skynet"
require "skynet.manager"

-- the hot function: arithmetic on a small table, all in Lua
local function crunch(rounds)
	local t, x = { 1, 2, 3, 4, 5, 6, 7, 8 }, 0
	for i = 1, rounds do
		x = (x + t[i % 8 + 1] * i) % 1000003
	end
	return x
end

-- a lighter one: rank a few numbers (an insertion sort, all in Lua)
local function rank(x)
	local a = {}
	for i = 1, 40 do
		local v, j = (x * i) % 97, i - 1
		while j > 0 and a[j] > v do
			a[j + 1] = a[j]
			j = j - 1
		end
		a[j + 1] = v
	end
	return a[1]
end

-- crunch (and rank) for about ms of cpu
local function burn(ms)
	local stop, x = os.clock() + ms / 1000, 0
	while os.clock() < stop do
		x = x + crunch(2000)
		x = x + rank(x)
	end
	return x
end

local CMD = {}

function CMD.work(ms)
	local x = burn(ms)	-- not a tail call: CMD.work stays on the stack
	return x
end

function CMD.crunch(n)
	for _ = 1, n do
		crunch(2000)
	end
end

-- a cpu-bound service's load: n crunches, 10 per message sent to itself
-- (each handled in a pooled coroutine, about 0.2 ms of cpu)
function CMD.bench(n)
	local t0 = os.clock()
	for _ = 1, n // 10 do
		skynet.call(skynet.self(), "lua", "crunch", 10)
	end
	return os.clock() - t0
end

-- what a profile would leave behind, for the tests: a hook on this
-- (pooled) coroutine or the main thread, coroutine functions not the
-- service's own
local resume, create, wrap = coroutine.resume, coroutine.create, coroutine.wrap
function CMD.leftovers()
	local main
	for _, k in ipairs({ 1, 3 }) do	-- LUA_RIDX_MAINTHREAD in Lua 5.4, 5.5
		local t = debug.getregistry()[k]
		main = main or (type(t) == "thread" and t)
	end
	local left = {}
	if debug.gethook() then
		left[#left + 1] = "hook on the handler's coroutine"
	end
	if main and debug.gethook(main) then
		left[#left + 1] = "hook on the main thread"
	end
	if coroutine.resume ~= resume or coroutine.create ~= create or coroutine.wrap ~= wrap then
		left[#left + 1] = "coroutine functions replaced"
	end
	return table.concat(left, ", ")
end

skynet.start(function()
	local ms = tonumber(skynet.getenv "hot_ms") or 0.25
	local ticks = tonumber(skynet.getenv "hot_sleep") or 1
	skynet.dispatch("lua", function(_, _, cmd, ...)
		skynet.ret(skynet.pack(CMD[cmd](...)))
	end)
	skynet.register ".hot"
	if ms > 0 then
		skynet.fork(function()
			while true do
				for _ = 1, 20 do
					skynet.call(skynet.self(), "lua", "work", ms)
				end
				skynet.sleep(ticks)
			end
		end)
	end
end)
