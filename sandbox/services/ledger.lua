-- A service keeping its data where hot fixes reach it only through
-- upvalues: accounts in a table, a count in a number, and `skynet` in a
-- local (so a fix calling the global `skynet` fails).  The hot-fix safety
-- tests (tests/test_hotfix_*.py) patch, dry-run and break it.
local skynet = require "skynet"

local accounts = {}
local count = 0
local CMD = {}

function CMD.deposit(name, n)
	accounts[name] = (accounts[name] or 0) + n
	count = count + 1
	return accounts[name]
end

function CMD.get(name)
	return accounts[name] or 0
end

function CMD.count()
	return count
end

function CMD.names()
	local list = {}
	for name in pairs(accounts) do
		list[#list + 1] = name
	end
	table.sort(list)
	return table.concat(list, ",")
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		local f = assert(CMD[cmd], cmd)
		skynet.ret(skynet.pack(f(...)))
	end)
end)
