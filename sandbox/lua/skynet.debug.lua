-- skynet.debug: the "debug" protocol every service answers (PING, INFO,
-- MEM, STAT, GC, TASK, UNIQTASK, KILLTASK, RUN, REMOTEDEBUG, EXIT, TERM,
-- TRACELOG, SUPPORT, LINK), skynet.info_func, and reg_debugcmd for
-- commands of one's own.
local core = require "sandbox.core"

local extern_dbgcmd = {}

local function init(skynet, export)
	local info_func

	function skynet.info_func(func)
		info_func = func
	end

	local cmds

	local function make_cmds()
		local c = {}

		function c.PING()
			skynet.ret()
		end

		function c.MEM()
			skynet.ret(skynet.pack(collectgarbage "count"))
		end

		local collecting = false
		function c.GC()
			if collecting then
				return
			end
			collecting = true
			local before, t0 = collectgarbage "count", skynet.now()
			collectgarbage "collect"
			skynet.yield()
			local after, t1 = collectgarbage "count", skynet.now()
			skynet.error(string.format("GC %.2f Kb -> %.2f Kb, cost %.2f sec",
				before, after, (t1 - t0) / 100))
			collecting = false
		end

		function c.STAT()
			skynet.ret(skynet.pack {
				task = skynet.task(),
				mqlen = core.stat "mqlen",
				cpu = core.stat "cpu",
				message = core.stat "message",
			})
		end

		function c.TASK(session)
			if session then
				skynet.ret(skynet.pack(skynet.task(session)))
			else
				local t = {}
				skynet.task(t)
				skynet.ret(skynet.pack(t))
			end
		end

		function c.UNIQTASK()
			skynet.ret(skynet.pack(skynet.uniqtask()))
		end

		function c.KILLTASK(name)
			local co = skynet.killthread(name)
			if co then
				skynet.error(string.format("Kill %s", co))
				skynet.ret()
			else
				skynet.error(string.format("Kill %s : Not found", name))
				skynet.ret(skynet.pack "Not found")
			end
		end

		function c.INFO(...)
			if info_func then
				skynet.ret(skynet.pack(info_func(...)))
			else
				skynet.ret(skynet.pack(nil))
			end
		end

		function c.EXIT()
			skynet.exit()
		end

		function c.RUN(source, filename, ...)
			local run = require "sandbox.runcode"
			local ok, output = run(source, filename, table.pack(...),
				export.dispatch, skynet.register_protocol)
			collectgarbage "collect"
			skynet.ret(skynet.pack(ok, table.concat(output, "\n")))
		end

		function c.TERM(service)
			skynet.term(service)
		end

		function c.REMOTEDEBUG(...)
			require("sandbox.debugger").start(export, ...)
		end

		function c.SUPPORT(pname)
			skynet.ret(skynet.pack(skynet.dispatch(pname) ~= nil))
		end

		function c.LINK()
			skynet.response()	-- answered (with an error) only when we exit
		end

		function c.TRACELOG(proto, flag)
			if type(proto) ~= "string" then
				flag = proto
				proto = "lua"
			end
			skynet.error(string.format("Turn trace log %s for %s", flag, proto))
			skynet.traceproto(proto, flag)
			skynet.ret()
		end

		return c
	end

	local function debug_dispatch(_, _, cmd, ...)
		cmds = cmds or make_cmds()
		local f = cmds[cmd] or extern_dbgcmd[cmd]
		assert(f, cmd)
		f(...)
	end

	skynet.register_protocol {
		name = "debug",
		id = skynet.PTYPE_DEBUG,
		pack = skynet.pack,
		unpack = skynet.unpack,
		dispatch = debug_dispatch,
	}
end

local function reg_debugcmd(name, fn)
	extern_dbgcmd[name] = fn
end

return {
	init = init,
	reg_debugcmd = reg_debugcmd,
}
