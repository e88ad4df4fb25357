-- A typical game service: a CMD table dispatched from the "lua" protocol,
-- with state held in upvalues. The tests patch, diff and roll it back.
local skynet = require "skynet"

local id = ...
local balance = 0
local CMD = {}

function CMD.deposit(n)
	balance = balance + n
	return balance
end

function CMD.balance()
	return balance
end

function CMD.echo(...)
	return ...
end

skynet.start(function()
	skynet.info_func(function() return { id = id, balance = balance } end)
	skynet.dispatch("lua", function(_, _, cmd, ...)
		local f = assert(CMD[cmd], cmd)
		skynet.ret(skynet.pack(f(...)))
	end)
end)
