-- A slow consumer and, on demand, a fast producer, for `skyctl top`'s queue
-- column.  `.flood` works 6 ms of cpu per "work" message (about 166 a
-- second); `call .flood "start", SECONDS` (default 5) launches a feeder
-- (`snlua flood feed ADDR SECONDS`) that sends it 2 messages every tick
-- (about 200 a second) for that long and then exits, so the queue grows by
-- some 30 messages a second while it runs -- slowly enough that `stat` still
-- gets through it for a few seconds -- then drains.  Only the common skynet
-- API.
local skynet = require "skynet"
require "skynet.manager"

local role, target, seconds = ...

-- burn ms of cpu (os.clock is the node's cpu: keep one burner per node)
local function burn(ms)
	local stop = os.clock() + ms / 1000
	local x = 0
	while os.clock() < stop do
		x = x + 1
	end
	return x
end

if role == "feed" then
	skynet.start(function()
		local to = tonumber(target)
		local stop = skynet.now() + math.floor(100 * tonumber(seconds))
		skynet.fork(function()
			while skynet.now() < stop do
				for _ = 1, 2 do
					skynet.send(to, "lua", "work")
				end
				skynet.sleep(1)
			end
			skynet.exit()
		end)
	end)
else
	local handled = 0
	local CMD = {}

	function CMD.work()
		handled = handled + 1
		burn(6)
	end

	function CMD.start(secs)
		skynet.newservice("flood", "feed", skynet.self(), secs or 5)
		return true
	end

	function CMD.count()
		return handled
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
		skynet.register ".flood"
	end)
end
