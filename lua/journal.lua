-- skyctl journal operations: a service's patch journal (op journal),
-- rolling patches back (op rollback) and patch sets (op set).  They run in a service next to
-- lua/engine.lua and are kept out of it: every byte of the engine is sent
-- to each of the thousand services an inject may reach, and these are
-- needed only by the requests that ask for them.  The hub (lua/agent.lua)
-- loads this chunk for itself and sends it along with a journal, rollback
-- or set request (req.ops, with lua/apply.lua for set); a service runs it
-- for that request and keeps none of it.
-- The chunk is called with the engine's internals and adds its
-- operations to their OPS.
--
-- journal: req.brief leaves out the changes (their count stays).
-- rollback: the newest patch still in place, or req.id and every one
-- applied after it, or every one (req.all); an item whose value changed
-- since the patch is a conflict, left alone (it stays in the journal
-- entry, state "partly rolled back") unless req.force.
-- set: bring the service to an ordered set of scripts (skyctl apply), see
-- OPS.set below.
local E = ...
local S, OPS, undo, export, export_all, describe =
	E.S, E.OPS, E.undo, E.export, E.export_all, E.describe
local current, is_current, journal_add, wholly, J, change =
	E.current, E.is_current, E.journal_add, E.wholly, E.J, E.change
local ipairs, tostring, format, sort = ipairs, tostring, string.format, table.sort

-- a journal entry (lua/engine.lua's J) as the client sees it; brief
-- leaves out the changes (their count stays): a cluster-wide `patches`
-- asks many services
local function export_entry(e, brief)
	local records, changes = e[J.changes] or {}, {}
	for j, r in ipairs(brief and {} or records) do
		changes[j] = change(r)
	end
	return {
		id = e[J.id], kind = e[J.of] and "rollback" or "apply", name = e[J.name],
		sha = e[J.sha], batch = e[J.batch], time = e[J.time], who = e[J.who], args = e[J.args],
		state = e[J.state], of = e[J.of], nchanges = #records,
		changes = not brief and export_all(changes) or nil, conflicts = e[J.conflicts],
		restored = e[J.restored], left = e[J.left] and #e[J.left] or nil,
	}
end

-- whether a patch is still (partly) in place
local function carried(e)
	local state = e[J.state]
	return not e[J.of] and (state == "applied" or state == "partly rolled back")
end

-- undo one patch's changes that are still in place (newest first); an
-- item whose value changed since is a conflict, left alone unless force
-- and kept in slot left, so a later forced rollback can finish the patch
local function rollback_one(e, force)
	local restored, conflicts, left = {}, {}, {}
	local records = e[J.left] or e[J.changes]
	for j = #records, 1, -1 do
		local c = change(records[j])
		if force or is_current(c) then
			if undo(c) then
				restored[#restored + 1] = export(c)
			else
				conflicts[#conflicts + 1] = { path = c.path, why = "cannot be undone" }
			end
		else
			conflicts[#conflicts + 1] = { path = c.path, upvalue = c.name,
				why = "changed since", now = describe(current(c)), patched = describe(c.new) }
			table.insert(left, 1, records[j])
		end
	end
	e[J.left] = #left > 0 and left or nil
	e[J.state] = e[J.left] and "partly rolled back" or "rolled back"
	return restored, conflicts
end

-- roll patch e back, journal that, and add it to res.rolled (res.conflict
-- when an item was left alone)
local function rollback_entry(e, req, res)
	local restored, conflicts = rollback_one(e, req.force)
	local id = #S.journal + 1
	S.journal[id] = { id, e[J.name], e[J.sha], req.batch, req.time or os.time(), req.who, nil,
		"done", nil, nil, e[J.id], #restored, #conflicts > 0 and conflicts or nil }
	res.rolled[#res.rolled + 1] = { id = e[J.id], name = e[J.name], restored = restored,
		conflicts = conflicts, state = e[J.state], journal = id }
	if #conflicts > 0 then
		res.conflict = true
	end
end

-- undo the newest patch still in place, or req.id and every one applied
-- after it (newest first); req.all: every one.  The journal records each.
function OPS.rollback(req)
	local journal, targets = S.journal, {}
	for i = #journal, 1, -1 do
		local e = journal[i]
		if carried(e) then
			targets[#targets + 1] = e
			if e[J.id] == req.id or not (req.id or req.all) then
				break
			end
		end
	end
	if req.id and (#targets == 0 or targets[#targets][J.id] ~= req.id) then
		return { ok = false, err = "no patch #" .. tostring(req.id) .. " in place" }
	end
	if #targets == 0 then
		return { ok = false, err = "no patch to roll back" }
	end
	local res = { ok = true, rolled = {} }
	for _, e in ipairs(targets) do
		rollback_entry(e, req, res)
	end
	return res
end

---------------------------------------------------------------- patch sets

-- How far the service got along a set (its scripts' sha256, in order):
-- held, the length of the prefix of the set in place in order, each
-- wholly; extra, the other patches in place that are not in the set or
-- repeat one of the prefix; ahead, those of the set in place out of order
-- (after a gap, or no longer wholly).
local function set_plan(shas)
	local pos, held, strays, extra, ahead = {}, 0, {}, {}, {}
	for i, sha in ipairs(shas) do
		pos[sha] = pos[sha] or i
	end
	for _, e in ipairs(S.journal) do
		if carried(e) then
			local p = e[J.sha] and pos[e[J.sha]]
			if p == held + 1 and e[J.state] == "applied" and wholly(e) then
				held = p
			else
				strays[#strays + 1] = e
			end
		end
	end
	for _, e in ipairs(strays) do
		local p = e[J.sha] and pos[e[J.sha]]
		local list = p and p > held and ahead or extra
		list[#list + 1] = e
	end
	return held, extra, ahead
end

local function export_strays(list)
	local out = {}
	for i, e in ipairs(list) do
		out[i] = { id = e[J.id], name = e[J.name], sha = e[J.sha], state = e[J.state] }
	end
	return out
end

-- the set the service was last brought to and how far it got
local function set_progress()
	local set = S.set
	if not set then
		return nil
	end
	local held, extra, ahead = set_plan(set.shas)
	return { version = set.version, total = #set.shas, held = held, next = set.names[held + 1],
		extra = #extra, ahead = #ahead, time = set.time, who = set.who }
end

function OPS.journal(req)
	local list = {}
	for i, e in ipairs(S.journal) do
		list[i] = export_entry(e, req.brief)
	end
	return { ok = true, journal = list, set = set_progress() }
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
