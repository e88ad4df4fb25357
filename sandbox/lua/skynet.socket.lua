-- skynet.socket: the part of skynet's socket API the console needs:
-- listen, start, readline, read, write, close, netstat.  Input arrives as
-- socket messages and waits in a per-connection buffer; a reader blocks
-- with skynet.wait (so a waiting read counts as a task, as on skynet).
local skynet = require "skynet"
local core = require "sandbox.core"

local socket = {}
local conns = {}	-- id -> { buf, scan, closed, co, accept }

local function wake(c)
	local co = c.co
	if co then
		c.co = nil
		skynet.wakeup(co)
	end
end

local function suspend(c)
	assert(not c.co, "socket read by two coroutines")
	c.co = coroutine.running()
	skynet.wait(c.co)
end

skynet.register_protocol {
	name = "socket",
	id = skynet.PTYPE_SOCKET,
	unpack = core.sunpack,
	dispatch = function(_, _, kind, id, ud, data)
		local c = conns[id]
		if kind == 1 then	-- data
			if c then
				c.buf = c.buf .. data
				wake(c)
			end
		elseif kind == 3 then	-- peer closed
			if c then
				c.closed = true
				wake(c)
			end
		elseif kind == 4 then	-- accepted ud on listener id
			if c and c.accept then
				c.accept(ud, data)
			else
				core.sclose(ud)
			end
		end
	end,
}

function socket.listen(host, port)
	local id, err = core.listen(host, port)
	if not id then
		error(string.format("Listen error %s:%s : %s", host, port, err))
	end
	return id, host, port
end

-- a connection to host:port (not started yet)
function socket.open(host, port)
	local id, err = core.open(host, port)
	if not id then
		error(string.format("Connect to %s:%s failed : %s", host, port, err))
	end
	return id
end

-- start delivering: accepts to func for a listener, data for a connection
function socket.start(id, func)
	conns[id] = { buf = "", scan = 1, accept = func }
	core.sstart(id)
	return id
end

-- a line without its separator, or nil once the peer closed
function socket.readline(id, sep)
	sep = sep or "\n"
	local c = conns[id]
	while c do
		local i = c.buf:find(sep, c.scan, true)
		if i then
			local line = c.buf:sub(1, i - 1)
			c.buf = c.buf:sub(i + #sep)
			c.scan = 1
			return line
		end
		if c.closed then
			return nil
		end
		c.scan = math.max(1, #c.buf - #sep + 2)
		suspend(c)
		c = conns[id]
	end
end

-- exactly n bytes (or, without n, whatever came, waiting for something);
-- nil (and what came) once the peer closed
function socket.read(id, n)
	local c = conns[id]
	if n == nil then
		while c do
			if #c.buf > 0 then
				local data = c.buf
				c.buf, c.scan = "", 1
				return data
			elseif c.closed then
				return nil
			end
			suspend(c)
			c = conns[id]
		end
		return nil
	end
	while c do
		if #c.buf >= n then
			local data = c.buf:sub(1, n)
			c.buf = c.buf:sub(n + 1)
			c.scan = 1
			return data
		end
		if c.closed then
			return nil, c.buf
		end
		suspend(c)
		c = conns[id]
	end
end

function socket.write(id, data)
	return core.swrite(id, data)
end

function socket.close(id)
	local c = conns[id]
	conns[id] = nil
	core.sclose(id)
	if c then
		wake(c)
	end
end

function socket.invalid(id)
	return conns[id] == nil
end

socket.netstat = core.netstat

return socket
