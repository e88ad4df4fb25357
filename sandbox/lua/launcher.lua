-- launcher: starts services for skynet.newservice and keeps the table
-- `list` shows (address -> launch line).  It answers a launch once the new
-- service reports its start function done (LAUNCHOK) or failed (ERROR),
-- and fans STAT / MEM / GC out to every service for the console.
local skynet = require "skynet"
local core = require "sandbox.core"
require "skynet.manager"

local services = {}	-- handle -> "snlua name args"
local pending = {}	-- handle -> response of the LAUNCH waiting for it
local NORET = {}
local command = {}

function command.LIST()
	local list = {}
	for handle, line in pairs(services) do
		list[skynet.address(handle)] = line
	end
	return list
end

-- ask every service cmd over the debug protocol; after ti ticks (if
-- given) the silent ones read "TIMEOUT"; fmt(answer, handle) makes a line
local function ask_all(ti, fmt, cmd)
	local list, left = {}, 0
	local me = coroutine.running()
	local done = false
	for handle in pairs(services) do
		left = left + 1
		skynet.fork(function()
			local ok, answer = pcall(skynet.call, handle, "debug", cmd)
			if not done then
				list[skynet.address(handle)] = fmt(ok and answer or "ERROR", handle)
				left = left - 1
				if left == 0 then
					skynet.wakeup(me)
				end
			end
		end)
	end
	if left > 0 then
		if ti then
			skynet.timeout(ti, function() skynet.wakeup(me) end)
		end
		skynet.wait(me)
	end
	done = true
	for handle in pairs(services) do
		local addr = skynet.address(handle)
		if list[addr] == nil then
			list[addr] = fmt("TIMEOUT", handle)
		end
	end
	return list
end

function command.STAT(_, ti)
	return ask_all(ti, function(v) return v end, "STAT")
end

function command.MEM(_, ti)
	return ask_all(ti, function(kb, handle)
		if type(kb) == "string" then
			return string.format("%s (%s)", kb, services[handle])
		end
		return string.format("%.2f Kb (%s)", kb, services[handle])
	end, "MEM")
end

function command.GC(addr, ti)
	for handle in pairs(services) do
		skynet.send(handle, "debug", "GC")
	end
	return command.MEM(addr, ti)
end

function command.KILL(_, handle)
	skynet.kill(handle)
	local ret = { [skynet.address(handle)] = tostring(services[handle]) }
	services[handle] = nil
	return ret
end

function command.REMOVE(_, handle, kill)
	services[handle] = nil
	local response = pending[handle]
	if response then
		response(not kill)
		pending[handle] = nil
	end
	return NORET
end

local function launch(kind, ...)
	local line = kind .. " " .. table.concat({ ... }, " ")
	local handle = skynet.launch(line)
	local response = skynet.response()
	if handle then
		services[handle] = line
		pending[handle] = response
	else
		response(false)
	end
	return handle
end

function command.LAUNCH(_, kind, ...)
	launch(kind, ...)
	return NORET
end

function command.LOGLAUNCH(_, kind, ...)
	local handle = launch(kind, ...)
	if handle then
		core.command("LOGON", skynet.address(handle))
	end
	return NORET
end

function command.ERROR(handle)
	local response = pending[handle]
	if response then
		response(false)
		pending[handle] = nil
	end
	services[handle] = nil
	return NORET
end

function command.LAUNCHOK(handle)
	local response = pending[handle]
	if response then
		response(true, handle)
		pending[handle] = nil
	end
	return NORET
end

skynet.dispatch("lua", function(_, source, cmd, ...)
	local f = command[string.upper(cmd)]
	if f then
		local ret = f(source, ...)
		if ret ~= NORET then
			skynet.ret(skynet.pack(ret))
		end
	else
		skynet.ret(skynet.pack { "Unknown command" })
	end
end)

skynet.start(function() end)
