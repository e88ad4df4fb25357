-- service_mgr: unique services (skynet.uniqueservice / queryservice) under
-- the name .service; LIST is what the console's `service` shows.
local skynet = require "skynet"
require "skynet.manager"

local unique = {}	-- name -> address, or a list of waiting responses

local cmd = {}

function cmd.LAUNCH(name, ...)
	local s = unique[name]
	if type(s) == "number" then
		return s
	elseif s then
		s[#s + 1] = skynet.response()
		return
	end
	local waiting = { skynet.response() }
	unique[name] = waiting
	local ok, addr = pcall(skynet.newservice, name, ...)
	unique[name] = ok and addr or nil
	for _, resp in ipairs(waiting) do
		resp(ok and addr ~= nil, addr)
	end
end

function cmd.QUERY(name)
	local s = unique[name]
	if type(s) == "number" then
		return s
	end
	s = s or {}
	unique[name] = s
	s[#s + 1] = skynet.response()
end

function cmd.LIST()
	local list = {}
	for name, s in pairs(unique) do
		if type(s) == "number" then
			list[name] = skynet.address(s)
		end
	end
	return list
end

cmd.GLAUNCH = cmd.LAUNCH
cmd.GQUERY = cmd.QUERY

skynet.start(function()
	skynet.dispatch("lua", function(session, _, command, ...)
		local f = cmd[command]
		if f == nil then
			skynet.ret(skynet.pack(nil, "Invalid command " .. tostring(command)))
			return
		end
		local ok, r = pcall(f, ...)
		if not ok then
			skynet.ret(skynet.pack(nil, r))
		elseif session ~= 0 and r ~= nil then
			skynet.ret(skynet.pack(r))
		end
	end)
	skynet.register ".service"
end)
