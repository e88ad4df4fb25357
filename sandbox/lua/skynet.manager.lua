-- skynet.manager: launch, kill, abort, register and name, added to the
-- skynet module (as on real skynet, requiring it returns skynet itself).
local skynet = require "skynet"
local core = require "sandbox.core"

local function number_address(name)
	if type(name) == "number" then
		return name
	elseif type(name) == "string" then
		local hex = name:match "^:(%x+)"
		if hex then
			return tonumber(hex, 16)
		end
	end
end

function skynet.launch(...)
	local addr = core.command("LAUNCH", table.concat({ ... }, " "))
	if addr then
		return tonumber(addr:sub(2), 16)
	end
end

function skynet.kill(name)
	local addr = number_address(name)
	if addr then
		skynet.send(".launcher", "lua", "REMOVE", addr, true)
		name = skynet.address(addr)
	end
	core.command("KILL", name)
end

function skynet.abort()
	core.command("ABORT")
end

-- ".name" is local to the node; any other name is global, kept by the
-- harbor slave (.cslave) for every harbor of the network
function skynet.name(name, handle)
	assert(name:sub(1, 1) ~= ":")
	if name:sub(1, 1) == "." then
		core.command("NAME", name .. " " .. skynet.address(handle))
	else
		skynet.send(".cslave", "lua", "REGISTER", name, handle)
	end
end

function skynet.register(name)
	skynet.name(name, skynet.self())
end

function skynet.forward_type(map, start_func)
	local dispatch = skynet.dispatch_message
	core.callback(function(ptype, msg, sz, ...)
		dispatch(map[ptype] or ptype, msg, sz, ...)
	end)
	skynet.timeout(0, function()
		skynet.init_service(start_func)
	end)
end

function skynet.filter(f, start_func)
	local dispatch = skynet.dispatch_message
	core.callback(function(...)
		dispatch(f(...))
	end)
	skynet.timeout(0, function()
		skynet.init_service(start_func)
	end)
end

function skynet.monitor() end

return skynet
