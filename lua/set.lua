-- skyctl patch sets: bringing a service to an ordered set of scripts (op
-- set, skyctl apply), brought by the request that asks for it after
-- lua/apply.lua, lua/journal.lua and lua/rollback.lua, whose operations
-- it builds on (see lua/journal.lua).
local E = ...
local S, OPS, journal_add, set_plan, rollback_entry, J =
	E.S, E.OPS, E.journal_add, E.set_plan, E.rollback_entry, E.J
local ipairs, tostring, format, sort = ipairs, tostring, string.format, table.sort

-- patches of a plan (set_plan's extra or ahead) as the client sees them
local function export_strays(list)
	local out = {}
	for i, e in ipairs(list) do
		out[i] = { id = e[J.id], name = e[J.name], sha = e[J.sha], state = e[J.state] }
	end
	return out
end

-- apply script i of the set alone (atomic: OPS.apply undoes a failing
-- one), journaled even when it changes nothing, so the prefix finds it
local function set_apply_one(req, i)
	local sc = req.scripts[i]
	local r = OPS.apply({ scripts = { sc }, again = true, force = req.force, batch = req.batch,
		who = req.who, time = req.time, timeout = req.timeout })
	local s1 = r.scripts[1] or {}
	if r.ok and not s1.id then
		s1.id = journal_add(sc.name, sc.sha, req, {})
	end
	r.pos, r.name, r.scripts = i, sc.name, nil
	r.id, r.changes, r.out, r.lint = s1.id, s1.changes, s1.out, s1.lint
	return r
end

-- Bring the service to the set req.scripts (version req.version): with
-- req.prune roll back the patches in place that are not its prefix
-- (newest first, conflicts left alone unless req.force); refuse when a
-- patch of the set is in place out of order (--prune fixes that); then
-- apply the missing ones in order, each alone, stopping at the first
-- failure: the service always holds a prefix.  req.dry: what it would
-- get, tried and undone (OPS.apply's dry run), nothing rolled back.
function OPS.set(req)
	local shas, names = {}, {}
	for i, sc in ipairs(req.scripts) do
		shas[i], names[i] = sc.sha, sc.name
	end
	local held, extra, ahead = set_plan(shas)
	local res = { ok = true, total = #shas, was = held, dry = req.dry or nil, rolled = {},
		applied = {} }
	if req.prune and not req.dry then
		local strays = {}
		for _, list in ipairs({ extra, ahead }) do
			for _, e in ipairs(list) do
				strays[#strays + 1] = e
			end
		end
		sort(strays, function(a, b) return a[J.id] > b[J.id] end)
		for _, e in ipairs(strays) do
			rollback_entry(e, req, res)
		end
		held, extra, ahead = set_plan(shas)
	end
	if not req.dry then
		S.set = { version = req.version, shas = shas, names = names, time = req.time,
			who = req.who }
	end
	res.extra, res.ahead, res.held = export_strays(extra), export_strays(ahead), held
	if #ahead > 0 then
		res.ok = false
		res.err = format("holds %s out of order (it lacks %s): --prune rolls it back",
			ahead[1][J.name], names[held + 1])
		return res
	end
	if req.dry and held < #shas then
		local missing = {}
		for i = held + 1, #shas do
			missing[#missing + 1] = req.scripts[i]
		end
		res.would = OPS.apply({ scripts = missing, again = true, dry = true, force = req.force,
			timeout = req.timeout })
		res.ok, res.err = res.would.ok, res.would.err
		return res
	end
	for i = held + 1, req.dry and 0 or #shas do
		local r = set_apply_one(req, i)
		if not r.ok then
			res.ok, res.failed = false, r
			res.err = format("%s failed: %s", names[i], tostring(r.err))
			break
		end
		res.applied[#res.applied + 1] = r
		res.held = i
	end
	return res
end
