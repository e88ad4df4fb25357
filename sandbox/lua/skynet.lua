-- skynet: the sandbox's own implementation of skynet's Lua API, on top of
-- the C module sandbox.core.  Every message is handled in a coroutine of
-- its own; a coroutine session_id_coroutine for something (a response, a timeout, a
-- wakeup) is filed under a session number until the answer comes.
-- Protocols live in the upvalue `proto` of register_protocol (inject's
-- _P/_U and skyctl find them there, as on real skynet).
local core = require "sandbox.core"

local cresume = core.resume
local yield = coroutine.yield
local create = coroutine.create
local running = coroutine.running
local traceback = debug.traceback
local tunpack, tremove = table.unpack, table.remove

local skynet = {
	PTYPE_TEXT = 0, PTYPE_RESPONSE = 1, PTYPE_MULTICAST = 2, PTYPE_CLIENT = 3,
	PTYPE_SYSTEM = 4, PTYPE_HARBOR = 5, PTYPE_SOCKET = 6, PTYPE_ERROR = 7,
	PTYPE_QUEUE = 8, PTYPE_DEBUG = 9, PTYPE_LUA = 10, PTYPE_SNAX = 11,
	PTYPE_TRACE = 12,
}

local proto = {}
-- skynet 1.7 on keeps its protocols in skynet._proto too; 1.4 to 1.6 (the
-- console_version = "1.4" node) in register_protocol's upvalue alone
if core.command("GETENV", "console_version") ~= "1.4" then
	skynet._proto = proto
end

function skynet.register_protocol(class)
	local name, id = class.name, class.id
	assert(proto[name] == nil and proto[id] == nil, "protocol registered twice")
	assert(type(name) == "string" and type(id) == "number" and id >= 0 and id <= 255,
		"bad protocol")
	proto[name] = class
	proto[id] = class
end

-- session -> coroutine session_id_coroutine for it, or "BREAK" for an abandoned wait
local session_id_coroutine = {}
-- session -> address, for the calls in flight (an error from it fails them)
local watching_session = {}
-- coroutine -> session/address of the request it must answer
local session_coroutine_id, session_coroutine_address = {}, {}
-- token -> session of a sleep or wait that skynet.wakeup can break
local sleep_session = {}
local wakeup_queue = {}
local error_queue = {}
local fork_queue = { h = 1, t = 0 }
-- response closures not yet used -> address they answer
local unresponse = {}
local init_thread

-- Coroutines are reused as skynet's are: one that finished its task parks
-- in coroutine_pool, suspended where co_create's resume hands it the next
-- function (so handling a message makes no garbage, and a service's memory
-- holds still between messages).  A coroutine taken from the pool has been
-- handed its function: put back in the pool by hand, it would run that
-- function for the next message instead of the message's handler.
local coroutine_pool = setmetatable({}, { __mode = "kv" })

local function resume(co, ...)
	return cresume(co, ...)
end

local function co_create(f)
	local co = tremove(coroutine_pool)
	if co == nil then
		co = create(function(...)
			f(...)
			while true do
				local session = session_coroutine_id[co]
				if session and session ~= 0 then
					skynet.error(string.format("Maybe forgot response session %s from %s",
						session, skynet.address(session_coroutine_address[co])))
				end
				session_coroutine_id[co], session_coroutine_address[co] = nil, nil
				f = nil
				coroutine_pool[#coroutine_pool + 1] = co
				f = yield "SUSPEND"
				f(yield())
			end
		end)
	else
		resume(co, f)
	end
	return co
end

-- what to do after a coroutine gave control back: (ok, command) is what
-- resume returned.  A failure answers its requester with an error and is
-- raised (with the coroutine's traceback) to be logged.
local function settle(co, ok, command)
	if not ok then
		local session = session_coroutine_id[co]
		if session then
			if session ~= 0 then
				core.send(session_coroutine_address[co], skynet.PTYPE_ERROR, session, "")
			end
			session_coroutine_id[co] = nil
		end
		session_coroutine_address[co] = nil
		local tb = traceback(co, tostring(command))
		coroutine.close(co)
		error(tb)
	end
	if command == "SUSPEND" or command == nil then
		return	-- session_id_coroutine, finished, or paused by the debugger
	elseif command == "QUIT" then
		coroutine.close(co)
	else
		error("Unknown command : " .. tostring(command) .. "\n" .. traceback(co))
	end
end

function skynet.timeout(ti, func)
	local session = core.timeout(ti)
	local co = co_create(func)
	session_id_coroutine[session] = co
	return co
end

local function suspend_sleep(session, token)
	session_id_coroutine[session] = running()
	assert(sleep_session[token] == nil, "token duplicative")
	sleep_session[token] = session
	return yield "SUSPEND"
end

function skynet.sleep(ti, token)
	local session = core.timeout(ti)
	token = token or running()
	local ok, ret = suspend_sleep(session, token)
	sleep_session[token] = nil
	if ok then
		return
	end
	if ret == "BREAK" then
		return "BREAK"
	end
	error(ret)
end

function skynet.yield()
	return skynet.sleep(0)
end

function skynet.wait(token)
	local session = core.genid()
	token = token or running()
	suspend_sleep(session, token)
	sleep_session[token] = nil
	session_id_coroutine[session] = nil
end

function skynet.wakeup(token)
	if sleep_session[token] then
		wakeup_queue[#wakeup_queue + 1] = token
		return true
	end
end

-- wait for the response to session from addr
local function wait_response(addr, session)
	watching_session[session] = addr
	session_id_coroutine[session] = running()
	local ok, msg, sz = yield "SUSPEND"
	watching_session[session] = nil
	if not ok then
		error "call failed"
	end
	return msg, sz
end

function skynet.call(addr, typename, ...)
	local p = proto[typename]
	local session = core.send(addr, p.id, nil, p.pack(...))
	if session == nil then
		error("call to invalid address " .. skynet.address(addr))
	end
	return p.unpack(wait_response(addr, session))
end

function skynet.rawcall(addr, typename, msg, sz)
	local p = proto[typename]
	local session = assert(core.send(addr, p.id, nil, msg, sz), "call to invalid address")
	return wait_response(addr, session)
end

function skynet.send(addr, typename, ...)
	local p = proto[typename]
	return core.send(addr, p.id, 0, p.pack(...))
end

function skynet.rawsend(addr, typename, msg, sz)
	local p = proto[typename]
	return core.send(addr, p.id, 0, msg, sz)
end

function skynet.redirect(dest, source, typename, ...)
	return core.redirect(dest, source, proto[typename].id, ...)
end

function skynet.ret(msg, sz)
	msg = msg or ""
	local co = running()
	local session = session_coroutine_id[co]
	if session == nil then
		error "No session"
	end
	session_coroutine_id[co] = nil
	if session == 0 then
		core.trash(msg, sz)
		return false
	end
	return core.send(session_coroutine_address[co], skynet.PTYPE_RESPONSE, session, msg, sz) ~= nil
end

function skynet.retpack(...)
	return skynet.ret(skynet.pack(...))
end

function skynet.context()
	local co = running()
	return session_coroutine_id[co], session_coroutine_address[co]
end

function skynet.ignoreret()
	session_coroutine_id[running()] = nil
end

function skynet.response(pack)
	pack = pack or skynet.pack
	local co = running()
	local session = assert(session_coroutine_id[co], "no session")
	session_coroutine_id[co] = nil
	local addr = session_coroutine_address[co]
	if session == 0 then
		return function() end
	end
	local function response(ok, ...)
		if ok == "TEST" then
			return unresponse[response] ~= nil
		end
		if not pack then
			error "Can't response more than once"
		end
		local sent = false
		if unresponse[response] then
			if ok then
				sent = core.send(addr, skynet.PTYPE_RESPONSE, session, pack(...)) ~= nil
			else
				sent = core.send(addr, skynet.PTYPE_ERROR, session, "") ~= nil
			end
			unresponse[response] = nil
		end
		pack = nil
		return sent
	end
	unresponse[response] = addr
	return response
end

function skynet.fork(func, ...)
	local n = select("#", ...)
	local co
	if n == 0 then
		co = co_create(func)
	else
		local args = { ... }
		co = co_create(function() func(tunpack(args, 1, n)) end)
	end
	fork_queue.t = fork_queue.t + 1
	fork_queue[fork_queue.t] = co
	return co
end

function skynet.dispatch(typename, func)
	local p = proto[typename]
	if func then
		local old = p.dispatch
		p.dispatch = func
		return old
	end
	return p and p.dispatch
end

local function unknown_request(session, address, msg, sz, prototype)
	skynet.error(string.format("Unknown request (%s): %s", prototype, core.tostring(msg, sz)))
	error(string.format("Unknown session : %d from %x", session, address))
end

function skynet.dispatch_unknown_request(unknown)
	local prev = unknown_request
	unknown_request = unknown
	return prev
end

local function unknown_response(session, address, msg, sz)
	skynet.error(string.format("Response message : %s", core.tostring(msg, sz)))
	error(string.format("Unknown session : %d from %x", session, address))
end

function skynet.dispatch_unknown_response(unknown)
	local prev = unknown_response
	unknown_response = unknown
	return prev
end

-- the "error" protocol: a callee failed our call (session), or died
-- (session 0: fail every call in flight to it)
local function error_dispatch(session, source)
	session_coroutine_id[running()] = nil
	if session == 0 then
		for resp, addr in pairs(unresponse) do
			if addr == source then
				unresponse[resp] = nil
			end
		end
		for s, addr in pairs(watching_session) do
			if addr == source then
				error_queue[#error_queue + 1] = s
			end
		end
	elseif watching_session[session] then
		error_queue[#error_queue + 1] = session
	end
end

local prehook	-- debug mode: runs before every message

local function raw_dispatch(prototype, msg, sz, session, source)
	if prehook then
		prehook()
	end
	if prototype == skynet.PTYPE_RESPONSE then
		local co = session_id_coroutine[session]
		if co == "BREAK" then
			session_id_coroutine[session] = nil
		elseif co == nil then
			unknown_response(session, source, msg, sz)
		else
			session_id_coroutine[session] = nil
			settle(co, resume(co, true, msg, sz, session))
		end
		return
	end
	local p = proto[prototype]
	local f = p and p.dispatch
	if not f then
		if prototype == skynet.PTYPE_TRACE then
			return
		elseif session ~= 0 then
			core.send(source, skynet.PTYPE_ERROR, session, "")
		else
			unknown_request(session, source, msg, sz, p and p.name or prototype)
		end
		return
	end
	local co = co_create(f)
	session_coroutine_id[co], session_coroutine_address[co] = session, source
	settle(co, resume(co, session, source, p.unpack(msg, sz)))
end

-- one piece of deferred work (a wakeup, a failed call, a fork); false
-- when there is none left
local function run_deferred()
	local token = tremove(wakeup_queue, 1)
	if token then
		local session = sleep_session[token]
		if session then
			local co = session_id_coroutine[session]
			session_id_coroutine[session] = "BREAK"
			settle(co, resume(co, false, "BREAK", nil, session))
		end
		return true
	end
	local session = tremove(error_queue, 1)
	if session then
		local co = session_id_coroutine[session]
		session_id_coroutine[session] = nil
		if type(co) == "thread" then
			settle(co, resume(co, false, nil, nil, session))
		end
		return true
	end
	if fork_queue.h <= fork_queue.t then
		local co = fork_queue[fork_queue.h]
		fork_queue[fork_queue.h] = nil
		fork_queue.h = fork_queue.h + 1
		settle(co, resume(co))
		return true
	end
	return false
end

function skynet.dispatch_message(...)
	local ok, err = pcall(raw_dispatch, ...)
	while true do
		local more, e = pcall(run_deferred)
		if more then
			if not e then
				-- the queue is empty (here as in skynet's dispatch_message,
				-- whose upvalues hold the fork queue)
				fork_queue.h, fork_queue.t = 1, 0
				break
			end
		elseif ok then
			ok, err = false, tostring(e)
		else
			err = tostring(err) .. "\n" .. tostring(e)
		end
	end
	if not ok then
		error(err, 0)
	end
end

function skynet.killthread(thread)
	local session
	if type(thread) == "string" then
		for s, co in pairs(session_id_coroutine) do
			if tostring(co):find(thread) then
				session = s
				break
			end
		end
	else
		for i = fork_queue.h, fork_queue.t do
			if fork_queue[i] == thread then
				table.move(fork_queue, i + 1, fork_queue.t, i)
				fork_queue[fork_queue.t] = nil
				fork_queue.t = fork_queue.t - 1
				return thread
			end
		end
		for s, co in pairs(session_id_coroutine) do
			if co == thread then
				session = s
				break
			end
		end
	end
	local co = session and session_id_coroutine[session]
	if type(co) ~= "thread" then
		return
	end
	local addr = session_coroutine_address[co]
	if addr then
		local s = session_coroutine_id[co]
		if s and s > 0 then
			core.send(addr, skynet.PTYPE_ERROR, s, "")
		end
		session_coroutine_id[co], session_coroutine_address[co] = nil, nil
	end
	if watching_session[session] then
		session_id_coroutine[session] = "BREAK"
		watching_session[session] = nil
	else
		session_id_coroutine[session] = nil
	end
	for token, s in pairs(sleep_session) do
		if s == session then
			sleep_session[token] = nil
			break
		end
	end
	coroutine.close(co)
	return co
end

function skynet.self()
	return core.self()
end

function skynet.localname(name)
	return core.localname(name)
end

skynet.now = core.now
skynet.hpc = core.hpc

local starttime

function skynet.starttime()
	starttime = starttime or core.command("STARTTIME")
	return starttime
end

function skynet.time()
	return skynet.now() / 100 + skynet.starttime()
end

function skynet.exit()
	fork_queue = { h = 1, t = 0 }
	skynet.send(".launcher", "lua", "REMOVE", skynet.self(), false)
	for co, session in pairs(session_coroutine_id) do
		local addr = session_coroutine_address[co]
		if session ~= 0 and addr then
			core.send(addr, skynet.PTYPE_ERROR, session, "")
		end
	end
	local me = running()
	for _, co in pairs(session_id_coroutine) do
		if type(co) == "thread" and co ~= me then
			pcall(coroutine.close, co)
		end
	end
	for resp in pairs(unresponse) do
		resp(false)
	end
	local told = {}
	for _, addr in pairs(watching_session) do
		if not told[addr] then
			told[addr] = true
			core.send(addr, skynet.PTYPE_ERROR, 0, "")
		end
	end
	core.command("EXIT")
	yield "QUIT"
end

function skynet.getenv(key)
	return (core.command("GETENV", key))
end

function skynet.setenv(key, value)
	assert(core.command("GETENV", key) == nil, "Can't setenv exist key : " .. key)
	core.command("SETENV", key .. " " .. value)
end

skynet.genid = core.genid
skynet.pack = core.pack
skynet.packstring = core.packstring
skynet.unpack = core.unpack
skynet.tostring = core.tostring
skynet.trash = core.trash
skynet.error = core.error

function skynet.newservice(name, ...)
	return skynet.call(".launcher", "lua", "LAUNCH", "snlua", name, ...)
end

function skynet.uniqueservice(name, ...)
	if name == true then
		return assert(skynet.call(".service", "lua", "GLAUNCH", ...))
	end
	return assert(skynet.call(".service", "lua", "LAUNCH", name, ...))
end

function skynet.queryservice(name, ...)
	if name == true then
		return assert(skynet.call(".service", "lua", "GQUERY", ...))
	end
	return assert(skynet.call(".service", "lua", "QUERY", name, ...))
end

function skynet.address(addr)
	if type(addr) == "number" then
		return string.format(":%08x", addr)
	end
	return tostring(addr)
end

function skynet.harbor(addr)
	return core.harbor(addr)
end

function skynet.traceproto(prototype, flag)
	local p = assert(proto[prototype])
	p.trace = flag
end

function skynet.trace() end

function skynet.tracetag() end

skynet.tracelog = function() end

function skynet.endless()
	return core.stat "endless" == 1
end

function skynet.mqlen()
	return core.stat "mqlen"
end

function skynet.stat(what)
	return core.stat(what)
end

function skynet.memlimit() skynet.memlimit = nil end

skynet.pcall = pcall

do
	local REG = skynet.register_protocol
	REG { name = "lua", id = skynet.PTYPE_LUA, pack = skynet.pack, unpack = skynet.unpack }
	REG { name = "response", id = skynet.PTYPE_RESPONSE }
	REG { name = "error", id = skynet.PTYPE_ERROR, unpack = function(...) return ... end,
		dispatch = error_dispatch }
end

local init_funcs = {}

function skynet.init(f)
	init_funcs[#init_funcs + 1] = f
end

function skynet.init_service(start)
	local ok, err = xpcall(function()
		for _, f in ipairs(init_funcs) do
			f()
		end
		init_funcs = {}
		start()
	end, traceback)
	if not ok then
		skynet.error("init service failed: " .. tostring(err))
		skynet.send(".launcher", "lua", "ERROR")
		skynet.exit()
	else
		skynet.send(".launcher", "lua", "LAUNCHOK")
	end
end

function skynet.start(start_func)
	core.callback(skynet.dispatch_message)
	init_thread = skynet.timeout(0, function()
		skynet.init_service(start_func)
		init_thread = nil
	end)
end

local function task_traceback(co)
	if co == "BREAK" then
		return co
	end
	return traceback(co)
end

function skynet.task(ret)
	if ret == nil then
		local n = 0
		for _, co in pairs(session_id_coroutine) do
			if co ~= "BREAK" then
				n = n + 1
			end
		end
		return n
	end
	if ret == "init" then
		return init_thread and traceback(init_thread) or nil
	end
	local t = type(ret)
	if t == "table" then
		for session, co in pairs(session_id_coroutine) do
			ret[string.format("%s session: %d", tostring(co), session)] = task_traceback(co)
		end
	elseif t == "number" then
		local co = session_id_coroutine[ret]
		return co and task_traceback(co) or "No session"
	elseif t == "thread" then
		for session, co in pairs(session_id_coroutine) do
			if co == ret then
				return session
			end
		end
	end
end

function skynet.uniqtask()
	local stacks = {}
	for session, co in pairs(session_id_coroutine) do
		local stack = task_traceback(co)
		local info = stacks[stack] or { count = 0, sessions = {} }
		info.count = info.count + 1
		if info.count < 10 then
			info.sessions[#info.sessions + 1] = session
		end
		stacks[stack] = info
	end
	local ret = {}
	for stack, info in pairs(stacks) do
		local sessions = table.concat(info.sessions, ",")
		if info.count > 10 then
			sessions = sessions .. "..."
		end
		ret[string.format("%d\tsessions:[%s]\n", info.count, sessions)] = stack
	end
	return ret
end

function skynet.term(service)
	return error_dispatch(0, service)
end

-- what the debug protocol (and debug mode) needs from the inside
require("skynet.debug").init(skynet, {
	dispatch = skynet.dispatch_message,
	suspend = settle,
	resume = resume,
	set_prehook = function(f) prehook = f end,
})

return skynet
