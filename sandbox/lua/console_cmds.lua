-- console_cmds: the console's commands.  COMMAND entries get the words of
-- the line; COMMANDX entries (call, debug) get the whole line in [1] and
-- the connection in .fd.  A command returns nothing, a string (printed as
-- is) or a table (printed as key\tvalue lines).  Replies and errors are
-- those of the real console, quirks included.
local skynet = require "skynet"
require "skynet.manager"

return function(COMMAND, COMMANDX, ctx)
local socket, core, TIMEOUT = ctx.socket, ctx.core, ctx.TIMEOUT

function COMMAND.help()
	return {
		help = "This help message",
		list = "List all the service",
		stat = "Dump all stats",
		info = "info address : get service infomation",
		exit = "exit address : kill a lua service",
		kill = "kill address : kill service",
		mem = "mem : show memory status",
		gc = "gc : force every lua service do garbage collect",
		start = "lanuch a new lua service",
		snax = "lanuch a new snax service",
		clearcache = "clear lua code cache",
		service = "List unique service",
		task = "task address : show service task detail",
		uniqtask = "task address : show service unique task detail",
		inject = "inject address luascript.lua",
		logon = "logon address",
		logoff = "logoff address",
		log = "launch a new lua service with log",
		debug = "debug address : debug a lua service",
		signal = "signal address sig",
		cmem = "Show C memory info",
		jmem = "Show jemalloc mem stats",
		ping = "ping address",
		call = "call address ...",
		trace = "trace address [proto] [on|off]",
		netstat = "netstat : show netstat",
		profactive = "profactive [on|off] : active/deactive jemalloc heap profilling",
		dumpheap = "dumpheap : dump heap profilling",
		killtask = "killtask address threadname : threadname listed by task",
		dbgcmd = "run address debug command",
		getenv = "getenv name : skynet.getenv(name)",
		setenv = "setenv name value: skynet.setenv(name,value)",
	}
end

-- ".name" -> its handle; bare hex -> handle (with our harbor bits);
-- ":hex" is passed on as the string itself (so `kill :c` replies ":c nil")
local function adjust_address(address)
	local prefix = address:sub(1, 1)
	if prefix == "." then
		local handle = skynet.localname(address)
		if not handle then
			error "Not a valid name"
		end
		return handle
	elseif prefix ~= ":" then
		local n = tonumber("0x" .. address)
		if not n then
			error "Need an address"
		end
		return n | (skynet.harbor(skynet.self()) << 24)
	end
	return address
end

-- the per-service wait of stat/mem/gc, in ticks (nil: wait for all)
local function wait_ticks(ti)
	if ti == nil then
		return TIMEOUT
	end
	ti = tonumber(ti)
	if ti <= 0 then
		return nil
	end
	return ti
end

function COMMAND.list()
	return skynet.call(".launcher", "lua", "LIST")
end

function COMMAND.stat(ti)
	return skynet.call(".launcher", "lua", "STAT", wait_ticks(ti))
end

function COMMAND.mem(ti)
	return skynet.call(".launcher", "lua", "MEM", wait_ticks(ti))
end

function COMMAND.gc(ti)
	return skynet.call(".launcher", "lua", "GC", wait_ticks(ti))
end

function COMMAND.kill(address)
	return skynet.call(".launcher", "lua", "KILL", adjust_address(address))
end

function COMMAND.exit(address)
	skynet.send(adjust_address(address), "debug", "EXIT")
end

function COMMAND.start(...)
	local ok, addr = pcall(skynet.newservice, ...)
	if not ok then
		return "Failed"
	elseif not addr then
		return "Exit"
	end
	return { [skynet.address(addr)] = ... }
end

function COMMAND.log(...)
	local ok, addr = pcall(skynet.call, ".launcher", "lua", "LOGLAUNCH", "snlua", ...)
	if ok and addr then
		return { [skynet.address(addr)] = ... }
	end
	return "Failed"
end

function COMMAND.snax(name, ...)
	local ok, addr = pcall(skynet.newservice, "snaxd", name, ...)
	if not ok then
		return "Failed"
	end
	return { [skynet.address(addr)] = name }
end

function COMMAND.service()
	return skynet.call(".service", "lua", "LIST")
end

function COMMAND.clearcache() end

-- the node opens the file; failing that is reported inside <CMD OK>
function COMMAND.inject(address, filename, ...)
	address = adjust_address(address)
	local f = io.open(filename, "rb")
	if not f then
		return "Can't open " .. filename
	end
	local source = f:read "a"
	f:close()
	local ok, output = skynet.call(address, "debug", "RUN", source, filename, ...)
	if ok == false then
		error(output)
	end
	return output
end

local function dbgcmd(address, cmd, ...)
	return skynet.call(adjust_address(address), "debug", cmd, ...)
end
COMMAND.dbgcmd = dbgcmd

function COMMAND.task(address)
	return dbgcmd(address, "TASK")
end

function COMMAND.uniqtask(address)
	return dbgcmd(address, "UNIQTASK")
end

function COMMAND.killtask(address, thread)
	return dbgcmd(address, "KILLTASK", thread)
end

function COMMAND.info(address, ...)
	return dbgcmd(address, "INFO", ...)
end

function COMMAND.ping(address)
	address = adjust_address(address)
	local t0 = skynet.now()
	skynet.call(address, "debug", "PING")
	return tostring(skynet.now() - t0)
end

local function on(flag)
	return flag == "true" or flag == "on"
end

function COMMAND.trace(address, proto, flag)
	address = adjust_address(address)
	if flag == nil then
		if proto == "on" or proto == "off" then
			proto = on(proto)
		end
	else
		flag = on(flag)
	end
	skynet.call(address, "debug", "TRACELOG", proto, flag)
end

function COMMAND.logon(address)
	core.command("LOGON", skynet.address(adjust_address(address)))
end

function COMMAND.logoff(address)
	core.command("LOGOFF", skynet.address(adjust_address(address)))
end

function COMMAND.signal(address, sig)
	address = skynet.address(adjust_address(address))
	if sig then
		core.command("SIGNAL", string.format("%s %d", address, sig))
	else
		core.command("SIGNAL", address)
	end
end

function COMMAND.cmem()
	return { block = 0, total = 0 }	-- no C allocator accounting here
end

function COMMAND.jmem()
	local t = {}
	for _, k in ipairs { "active", "allocated", "mapped", "resident", "retained" } do
		t["stats." .. k] = string.format("%11d  %8.2f Mb", 0, 0)
	end
	return t
end

function COMMAND.profactive()
	return "heap profilling is deactive"	-- built without jemalloc
end

function COMMAND.dumpheap() end

function COMMAND.getenv(name)
	local value = skynet.getenv(name)
	return { [name] = tostring(value) }
end

function COMMAND.setenv(name, value)
	return skynet.setenv(name, value)
end

local function bytes(size)
	if size == nil or size == 0 then
		return nil
	elseif size < 1024 then
		return size
	elseif size < 1024 * 1024 then
		return tostring(size / 1024) .. "K"
	end
	return tostring(size / (1024 * 1024)) .. "M"
end

function COMMAND.netstat()
	local now = skynet.now()
	local function ago(t)
		if t == nil then
			return nil
		end
		t = now - t
		if t < 6000 then
			return tostring(t / 100) .. "s"
		end
		local hour = t // 360000
		t = t - hour * 360000
		local min = t // 6000
		return string.format("%s%d:%.2gs", hour == 0 and "" or (hour .. ":"), min,
			(t - min * 6000) / 100)
	end
	local list = socket.netstat()
	for _, info in ipairs(list) do
		info.address = skynet.address(info.address)
		info.read = bytes(info.read)
		info.write = bytes(info.write)
		info.rtime = ago(info.rtime)
		info.wtime = ago(info.wtime)
	end
	return list
end

-- call address expr-list: the arguments are Lua, evaluated with no globals
function COMMANDX.call(cmd)
	local address = adjust_address(cmd[2])
	local rest = cmd[1]:match "%S+%s+%S+%s(.+)"
	if not rest then
		error "need arguments"
	end
	local f = load("return " .. rest, "debug console", "t", {})
	if not f then
		error "Invalid arguments"
	end
	local args = table.pack(pcall(f))
	if not args[1] then
		error(args[2])
	end
	return table.pack(skynet.call(address, "lua", table.unpack(args, 2, args.n)))
end

-- debug address: a debug_agent attaches to the service; meanwhile a
-- forwarder hands each line the client types to the agent, until `cont`
-- or the end of the connection.  The real console's oddities follow from
-- this shape and are kept: when attaching fails after the forwarder began
-- to read, the reply waits for one more line (and swallows it); the colon
-- form fails inside the agent, which stays behind.
function COMMANDX.debug(cmd)
	local address = adjust_address(cmd[2])
	local agent = skynet.newservice "debug_agent"
	local attached	-- set once the agent answered "start"
	local waiter = coroutine.running()
	local function forward()
		repeat
			skynet.call(agent, "lua", "ping")	-- raises once the agent is gone
			local line = socket.readline(cmd.fd, "\n")
			line = line and line:gsub("\r$", "")
			if not line then
				skynet.send(agent, "lua", "cmd", "cont")
				break
			end
			skynet.send(agent, "lua", "cmd", line)
		until attached or line == "cont"
	end
	skynet.fork(function()
		pcall(forward)
		if attached then
			skynet.wakeup(waiter)
		else
			waiter = nil	-- done before the agent answered: nobody waits
		end
	end)
	local ok, err = skynet.call(agent, "lua", "start", address, cmd.fd)
	attached = true
	if waiter then
		skynet.wait(waiter)
	end
	if not ok then
		error(err)
	end
end

end
