-- skynet.socket: the part of skynet's socket API the console needs:
-- listen, start, readline, read, write, close, netstat.  Input arrives as
-- socket messages and waits in a per-connection buffer; a reader blocks
-- with skynet.wait (so a waiting read counts as a task, as on skynet).
local skynet = require "skynet"
local core = require "sandbox.core"

local socket = {}
local conns = {}	-- id -> { buf, scan, closed, co, accept, want, pause }

-- skynet's socket.lua pauses a connection whose buffer holds more than
-- this once a read it waits for is complete (or while nobody reads),
-- logging it, and logs the resume when its reader next waits: a console
-- line past 128 KB leaves both lines in the node's log
local BUFFER_LIMIT = 128 * 1024

local function pause(id, c, size)
	if c.pause == nil then
		skynet.error(string.format("Pause socket (%d) size : %d", id, size))
		c.pause = true
	end
end

local function wake(c)
	local co = c.co
	if co then
		c.co = nil
		skynet.wakeup(co)
	end
end

-- wait for more input; want: a line's separator, or a number of bytes
local function suspend(id, c, want)
	assert(not c.co, "socket read by two coroutines")
	c.co, c.want = coroutine.running(), want
	if c.pause then
		skynet.error(string.format("Resume socket (%d)", id))
		c.pause = nil
	end
	skynet.wait(c.co)
end

-- data came: as skynet's socket_message[1] decides to pause
local function arrived(id, c)
	local size, want = #c.buf, c.want
	local done = type(want) == "number" and size >= want or
		type(want) == "string" and c.buf:find(want, c.scan, true)
	if done then
		c.want = nil
		if size > BUFFER_LIMIT then
			pause(id, c, size)
		end
	elseif want == nil and size > BUFFER_LIMIT then
		pause(id, c, size)
	end
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
				arrived(id, c)
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
		suspend(id, c, sep)
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
			suspend(id, c, 0)
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
		suspend(id, c, n)
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
