-- A service whose queue stays full, for `skyctl top`'s queue column.
-- `call .flood "start", N` (default 20) sends it N "work" messages; handling
-- one sends the next, so until `send .flood "stop"` (or `call`) the queue
-- holds N messages whatever the machine's speed: a `stat` queued behind them
-- is answered after those N, and reports the N sent meanwhile.  Registered as
-- `.flood`; only the common skynet API.
local skynet = require "skynet"
require "skynet.manager"

local running = false
local handled = 0
local CMD = {}

function CMD.work()
	handled = handled + 1
	if running then
		skynet.send(skynet.self(), "lua", "work")
	end
end

function CMD.start(n)
	running = true
	for _ = 1, n or 20 do
		skynet.send(skynet.self(), "lua", "work")
	end
	return true
end

function CMD.stop()
	running = false
	return handled
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
