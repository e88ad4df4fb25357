-- skyctl journal operations: a service's patch journal (op journal) and
-- rolling patches back (op rollback).  They run in a service next to
-- lua/engine.lua and are kept out of it: every byte of the engine is sent
-- to each of the thousand services an inject may reach, and these are
-- needed only by the requests that ask for them.  The hub (lua/agent.lua)
-- loads this chunk for itself and sends it along with a journal or
-- rollback request (req.journal_ops); a service loads it once and keeps it.
-- The chunk is called with the engine's internals and adds its
-- operations to their OPS.
--
-- journal: req.brief leaves out the changes (their count stays).
-- rollback: the newest patch still in place, or req.id and every one
-- applied after it, or every one (req.all); an item whose value changed
-- since the patch is a conflict, left alone (it stays in the journal
-- entry, state "partly rolled back") unless req.force.
local E = ...
local S, OPS, undo, export, export_all, describe =
	E.S, E.OPS, E.undo, E.export, E.export_all, E.describe
local current, is_current = E.current, E.is_current
local ipairs, tostring = ipairs, tostring

-- a journal entry as the client sees it; brief leaves out the changes
-- (their count stays): a cluster-wide `patches` asks many services
local function export_entry(e, brief)
	local changes = e.changes or {}
	return {
		id = e.id, kind = e.kind, name = e.name, sha = e.sha, batch = e.batch,
		time = e.time, who = e.who, args = e.args, state = e.state, of = e.of, nchanges = #changes,
		changes = not brief and export_all(changes) or nil, conflicts = e.conflicts,
		restored = e.restored, left = e.left and #e.left or nil,
	}
end

function OPS.journal(req)
	local list = {}
	for i, e in ipairs(S.journal) do
		list[i] = export_entry(e, req.brief)
	end
	return { ok = true, journal = list }
end

-- whether a patch is still (partly) in place
local function carried(e)
	return e.kind == "apply" and (e.state == "applied" or e.state == "partly rolled back")
end

-- undo one patch's changes that are still in place (newest first); an
-- item whose value changed since is a conflict, left alone unless force
-- and kept in e.left, so a later forced rollback can finish the patch
local function rollback_one(e, force)
	local restored, conflicts, left = {}, {}, {}
	local changes = e.left or e.changes
	for j = #changes, 1, -1 do
		local c = changes[j]
		if force or is_current(c) then
			if undo(c) then
				restored[#restored + 1] = export(c)
			else
				conflicts[#conflicts + 1] = { path = c.path, why = "cannot be undone" }
			end
		else
			conflicts[#conflicts + 1] = { path = c.path, upvalue = c.name,
				why = "changed since", now = describe(current(c)), patched = describe(c.new) }
			table.insert(left, 1, c)
		end
	end
	e.left = #left > 0 and left or nil
	e.state = e.left and "partly rolled back" or "rolled back"
	return restored, conflicts
end

-- undo the newest patch still in place, or req.id and every one applied
-- after it (newest first); req.all: every one.  The journal records each.
function OPS.rollback(req)
	local J, targets = S.journal, {}
	for i = #J, 1, -1 do
		local e = J[i]
		if carried(e) then
			targets[#targets + 1] = e
			if e.id == req.id or not (req.id or req.all) then
				break
			end
		end
	end
	if req.id and (#targets == 0 or targets[#targets].id ~= req.id) then
		return { ok = false, err = "no patch #" .. tostring(req.id) .. " in place" }
	end
	if #targets == 0 then
		return { ok = false, err = "no patch to roll back" }
	end
	local res = { ok = true, rolled = {} }
	for _, e in ipairs(targets) do
		local restored, conflicts = rollback_one(e, req.force)
		local id = S.nextid
		S.nextid = id + 1
		J[#J + 1] = { id = id, kind = "rollback", of = e.id, name = e.name, sha = e.sha,
			batch = req.batch, time = req.time or os.time(), who = req.who, state = "done",
			restored = #restored, conflicts = #conflicts > 0 and conflicts or nil }
		res.rolled[#res.rolled + 1] = { id = e.id, name = e.name, restored = restored,
			conflicts = conflicts, state = e.state, journal = id }
		if #conflicts > 0 then
			res.conflict = true
		end
	end
	return res
end
