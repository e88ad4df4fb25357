-- A service with suspended tasks (for `task`, `uniqtask`, `killtask`):
-- `nap` blocks the caller on a long sleep; `hold` parks the caller on a
-- skynet.wait until `release`; `park n` forks n tasks that sleep for an
-- hour. Registered as `.sleeper`.  `nap` logs "sleeper: napping" as it
-- goes to sleep: tests wait for that line.
local skynet = require "skynet"
require "skynet.manager"

local held = {}
local CMD = {}

function CMD.nap(ticks)
	skynet.error("sleeper: napping")
	skynet.sleep(ticks or 360000)
	return "rested"
end

function CMD.hold()
	local co = coroutine.running()
	table.insert(held, co)
	skynet.wait(co)
	return "released"
end

function CMD.release()
	local n = #held
	for _, co in ipairs(held) do
		skynet.wakeup(co)
	end
	held = {}
	return n
end

function CMD.park(n)
	for _ = 1, n or 1 do
		skynet.fork(function()
			skynet.sleep(360000)
		end)
	end
	return n or 1
end

skynet.start(function()
	skynet.dispatch("lua", function(session, _, cmd, ...)
		local f = assert(CMD[cmd], cmd)
		if session == 0 then
			f(...)
		else
			skynet.ret(skynet.pack(f(...)))
		end
	end)
	skynet.register ".sleeper"
end)
