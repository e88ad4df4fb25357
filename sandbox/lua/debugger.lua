-- debugger: debug mode inside the debugged service (the debug protocol's
-- REMOTEDEBUG).  Before every message the service handles, and on a tick
-- every 0.1 s, it reads the lines the debug_agent put in the channel and
-- runs them: first as `return <line>`, printing the values; when that
-- fails, again as a statement.  Output goes straight to the console's
-- connection, each reply ending with the prompt (no newline).
-- watch(proto [, cond]) pauses the next such message at its first line;
-- then s (step), n (next line here), c (continue) move on, and lines are
-- evaluated in the paused frame (its locals and upvalues).  `cont` ends.
local skynet = require "skynet"
local core = require "sandbox.core"

local M = {}
local session	-- the debug session in progress, or nil

local function normal_prompt()
	return string.format(":%08x>", skynet.self())
end

local function make_print(fd)
	return function(...)
		local t = table.pack(...)
		for i = 1, t.n do
			t[i] = tostring(t[i])
		end
		t[t.n + 1] = "\n"
		core.swrite(fd, table.concat(t, "\t"))
	end
end

local function find_upvalue(f, name)
	local i = 1
	while true do
		local n, v = debug.getupvalue(f, i)
		if n == nil then
			return nil
		elseif n == name then
			return v, i
		end
		i = i + 1
	end
end

-- compile src so that its first line is line 3 of chunk "(debug)" (the
-- line numbers real skynet reports), run it; return ok, results...
local function run(src, env)
	local f, err = load("--\ndo\n" .. src .. "\nend", "=(debug)", "t", env)
	if not f then
		return false, err
	end
	return pcall(f)
end

local function run_line(s, line, env)
	local r = table.pack(run("return " .. line, env))
	if r[1] then
		s.print(table.unpack(r, 2, r.n))
		return
	end
	r = table.pack(run(line, env))
	s.print(table.unpack(r, 2, r.n))
end

-- an environment seeing the paused frame of breakpoint bp: its locals,
-- then its function's upvalues, then that function's globals.  The local
-- names were taken when it paused: a coroutine paused by a hook reports
-- the instruction before, where they may not be active yet, but their
-- stack slots are the same.
local function frame_env(s, bp)
	local co = bp.co
	local info = debug.getinfo(co, 0, "f")
	local f = info and info.func
	local locals, upvals = bp.locals, {}
	local i
	if f then
		i = 1
		while true do
			local name = debug.getupvalue(f, i)
			if name == nil then
				break
			end
			upvals[name] = i
			i = i + 1
		end
	end
	local globals = f and upvals._ENV and select(2, debug.getupvalue(f, upvals._ENV)) or _G
	return setmetatable({ print = s.print, _CO = co }, {
		__index = function(_, k)
			if locals[k] then
				return select(2, debug.getlocal(co, 0, locals[k]))
			elseif upvals[k] then
				return select(2, debug.getupvalue(f, upvals[k]))
			end
			return globals[k]
		end,
		__newindex = function(_, k, v)
			if locals[k] then
				debug.setlocal(co, 0, locals[k], v)
			elseif upvals[k] then
				debug.setupvalue(f, upvals[k], v)
			else
				globals[k] = v
			end
		end,
	})
end

-- how deep the stack of the running coroutine is
local function frames()
	local n = 1
	while debug.getinfo(n, "") do
		n = n + 1
	end
	return n
end

-- the hook of a watched coroutine.  depth counts frames above the watch
-- wrapper (the first return seen is core.sethook's own, not counted);
-- lines of the sandbox's own code are stepped through, not stopped at.
local function stepper(s, bp)
	return function(event, line)
		if bp.frames then
			-- resuming a coroutine paused at the first instruction of a
			-- function reports a call to it again: not a real call
			local phantom = event == "call" and frames() == bp.frames
			bp.frames = nil
			if phantom then
				return
			end
		end
		if event == "call" then
			bp.depth = bp.depth + 1
		elseif event == "return" and bp.armed then
			bp.armed = false
		elseif event == "return" then
			bp.depth = bp.depth - 1
			if bp.depth < 1 then	-- the watched dispatch returned
				core.sethook(bp.co)
				s.bp = nil
				s.prompt = normal_prompt()
				s.newline = true
			end
		elseif event == "line" and bp.depth >= 1 then
			local src = debug.getinfo(2, "S").short_src
			if src:sub(1, 8) ~= "sandbox/" and (bp.mode == "step" or bp.depth <= bp.stop) then
				local locals, i = {}, 1
				while true do
					local name = debug.getlocal(2, i)
					if name == nil then
						break
					end
					if name:sub(1, 1) ~= "(" then
						locals[name] = i
					end
					i = i + 1
				end
				bp.locals = locals
				bp.frames = frames()
				s.paused = true
				s.prompt = string.format("%s(%d)>", src, line)
				s.newline = true
				return true
			end
		end
	end
end

-- let the paused coroutine go on (mode "step", "next" or nil to finish)
local function go(s, mode)
	local bp = s.bp
	bp.mode, bp.stop = mode, bp.depth
	s.paused = false
	if not mode then
		core.sethook(bp.co)
		s.bp = nil
		s.prompt = normal_prompt()
		s.newline = true
	end
	local ex = s.export
	local ok, err = pcall(ex.suspend, bp.co, ex.resume(bp.co))
	if not ok then
		s.print(err)
	end
end

local function watch(s, protoname, cond)
	local proto = assert(find_upvalue(skynet.register_protocol, "proto"), "Can't find proto table")
	local p = proto[protoname]
	if p == nil then
		return "No " .. protoname
	end
	local dispatch = s.watched[p] or p.dispatch
	if dispatch == nil then
		return "No dispatch"
	end
	s.watched[p] = dispatch
	p.dispatch = function(...)
		if s.bp == nil and session == s and (not cond or cond(...)) then
			p.dispatch = dispatch
			s.watched[p] = nil
			local bp = { co = coroutine.running(), depth = 0, armed = true, mode = "step", stop = 0 }
			s.bp = bp
			core.sethook(bp.co, stepper(s, bp), "crl")
		end
		dispatch(...)
	end
end

local function leave(s)
	for p, dispatch in pairs(s.watched) do
		p.dispatch = dispatch
	end
	if s.bp then
		go(s, nil)
	end
	s.export.set_prehook(nil)
	core.chrelease(s.channel)
	session = nil
	skynet.error "Leave debug mode"
	s.respond(true)
end

-- run every line waiting in the channel
local function poll(s)
	while true do
		if s.newline then
			core.swrite(s.fd, s.prompt)
			s.newline = false
		end
		local line = core.chread(s.channel)
		if line == nil then
			return
		elseif line == "cont" then
			break
		end
		if line ~= "" then
			if not s.paused then
				run_line(s, line, s.env)
			elseif line == "s" then
				go(s, "step")
			elseif line == "n" then
				go(s, "next")
			elseif line == "c" then
				go(s, nil)
			else
				run_line(s, line, frame_env(s, s.bp))
			end
		end
		s.newline = true
	end
	leave(s)
end

function M.start(export, fd, channel)
	assert(session == nil, "Already in debug mode")
	assert(core.chretain(channel), "No channel")
	skynet.error "Enter debug mode"
	local s = {
		fd = fd, channel = channel, export = export, respond = skynet.response(),
		print = make_print(fd), prompt = normal_prompt(), newline = true,
		watched = {}, paused = false,
	}
	s.env = setmetatable({
		print = s.print,
		watch = function(...) return watch(s, ...) end,
	}, { __index = _G, __newindex = _G })
	session = s
	export.set_prehook(function() poll(s) end)
	local function tick()
		if session == s then
			skynet.timeout(10, tick)
		end
	end
	skynet.timeout(0, tick)
end

return M
