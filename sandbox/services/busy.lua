-- A service that burns cpu on a timer, for `skyctl top`'s cpu column: it
-- works `busy_ms` ms of cpu (default 20), then sleeps `busy_sleep` ticks
-- (default 2, 1/100 s each), forever: about half a cpu. Registered as
-- `.busy`. Only the common skynet API, so it runs unchanged on real skynet.
local skynet = require "skynet"
require "skynet.manager"

-- burn ms of cpu (os.clock: cpu of this node's process, and this service is
-- its only burner, so the burn is about ms of wall time too)
local function burn(ms)
	local stop = os.clock() + ms / 1000
	local x = 0
	while os.clock() < stop do
		x = x + 1
	end
	return x
end

skynet.start(function()
	local ms = tonumber(skynet.getenv "busy_ms") or 20
	local ticks = tonumber(skynet.getenv "busy_sleep") or 2
	skynet.dispatch("lua", function(session)
		if session ~= 0 then
			skynet.ret(skynet.pack(true))
		end
	end)
	skynet.register ".busy"
	skynet.fork(function()
		while true do
			burn(ms)
			skynet.sleep(ticks)
		end
	end)
end)
