-- snaxd: a snax service, `snlua snaxd NAME` as on skynet: NAME.lua is
-- found on the config's `snax` path and run with the `response` and
-- `accept` tables (and `init`) it fills.  Enough of snax for the console:
-- the service lives, is listed and answers the debug protocol; the snax
-- message protocol itself is not served.
local skynet = require "skynet"

local name, args = ..., table.pack(select(2, ...))
local path = assert(skynet.getenv "snax", "please set snax in config file")

local env = setmetatable({ response = {}, accept = {} }, { __index = _ENV })
local errs = {}
local main
for pattern in path:gmatch "[^;]+" do
	local f, err = loadfile((pattern:gsub("%?", name)), "bt", env)
	if f then
		main = f
		break
	end
	errs[#errs + 1] = err
end
assert(main, table.concat(errs, "\n"))
main()
SERVICE_NAME = name

skynet.start(function()
	if env.init then
		env.init(table.unpack(args, 1, args.n))
	end
end)
