-- Larder's Lua sandbox, loaded once per interpreter as the internal chunk "=[larder]".
--
-- Stock Lua 5.1 has no read-only tables (Redis patches its Lua for them), so protection is
-- built from proxies: every table a script can reach through the globals (the globals
-- themselves, string, math, table, coroutine, redis, cjson, cmsgpack, bit, struct) is an
-- empty proxy whose metatable reads through to a hidden table and refuses writes. The
-- builtins that bypass metatables (rawset, rawget, next, pairs, ipairs, setmetatable,
-- table.insert/remove/sort/concat) are wrapped so that they see through proxies for reading
-- and refuse them for writing. Nothing here is reachable from scripts except through the
-- proxies.

local M = {}

local error, type, tostring, select = error, type, tostring, select
local rawget, rawset, next, pcall, xpcall = rawget, rawset, next, pcall, xpcall
local setmetatable, getmetatable = setmetatable, getmetatable
local orig_ipairs, orig_loadstring, orig_load = ipairs, loadstring, load
local strbyte, tconcat = string.byte, table.concat

local real_of = setmetatable({}, { __mode = 'k' })
local RO = 'Attempt to modify a readonly table'

local function ro_error()
  error(RO, 2)
end

-- The __index of the globals: reading an undefined global is an error, as in Redis.
function M.missing(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end

local RO_META

-- A read-only view of `real`.
local function protect(real, view)
  local p = {}
  real_of[p] = real
  setmetatable(p, { __index = real, __newindex = ro_error, __metatable = view or RO_META })
  return p
end
M.protect = protect

RO_META = protect({})
getmetatable(RO_META).__metatable = RO_META

local function unwrap(t)
  return real_of[t] or t
end

local function typename(n, v)
  if n == 0 then
    return 'no value'
  end
  return type(v)
end

-- Raises Lua's own "bad argument" error at the script's line when `t` is not a table.
local function want_table(fname, n, t)
  if type(t) ~= 'table' then
    error("bad argument #1 to '" .. fname .. "' (table expected, got " .. typename(n, t) .. ')', 3)
  end
end

-- Redis's pcall: an error table is returned as its message.
local errvalue

local function pcall_result(ok, ...)
  if ok then
    return ok, ...
  end
  local e = ...
  if type(e) == 'userdata' then
    e = errvalue(e)
  end
  local te = type(e)
  if te == 'table' then
    local m = rawget(e, 'err')
    local tm = type(m)
    if tm == 'string' or tm == 'number' then
      return false, m
    end
  end
  return false, e
end

local function install_builtins(H)
  H.pcall = function(f, ...)
    return pcall_result(pcall(f, ...))
  end
  H.xpcall = function(f, h)
    return xpcall(f, function(e)
      if type(e) == 'userdata' then
        e = errvalue(e)
      end
      return h(e)
    end)
  end
  H.rawset = function(...)
    local t, k, v = ...
    want_table('rawset', select('#', ...), t)
    if real_of[t] then
      error(RO, 2)
    end
    return rawset(t, k, v)
  end
  H.rawget = function(...)
    local t, k = ...
    want_table('rawget', select('#', ...), t)
    return rawget(unwrap(t), k)
  end
  H.setmetatable = function(...)
    local t, mt = ...
    want_table('setmetatable', select('#', ...), t)
    if real_of[t] then
      error(RO, 2)
    end
    return setmetatable(t, mt)
  end
  local function proxy_next(...)
    local t, k = ...
    want_table('next', select('#', ...), t)
    return next(unwrap(t), k)
  end
  H.next = proxy_next
  H.pairs = function(...)
    local t = ...
    want_table('pairs', select('#', ...), t)
    return proxy_next, t, nil
  end
  H.ipairs = function(...)
    local t = ...
    want_table('ipairs', select('#', ...), t)
    return orig_ipairs(unwrap(t))
  end
  -- Compiled (binary) chunks could break the interpreter: only source is accepted.
  local function safe_loadstring(s, name)
    if type(s) == 'string' and strbyte(s, 1) == 27 then
      return nil, 'binary chunks are not allowed'
    end
    if name == nil then
      return orig_loadstring(s)
    end
    return orig_loadstring(s, name)
  end
  H.loadstring = safe_loadstring
  H.load = function(f, name)
    if type(f) ~= 'function' then
      return orig_load(f, name)
    end
    local parts, n = {}, 0
    while true do
      local piece = f()
      if piece == nil or piece == '' then
        break
      end
      if type(piece) ~= 'string' then
        return nil, 'reader function must return a string'
      end
      n = n + 1
      parts[n] = piece
    end
    return safe_loadstring(tconcat(parts), name or '=(load)')
  end

  local T = H.table
  local insert, remove, sort, concat, getn, maxn = T.insert, T.remove, T.sort, T.concat, T.getn, T.maxn
  local function writer(fname, f)
    return function(...)
      local t = ...
      want_table(fname, select('#', ...), t)
      if real_of[t] then
        error(RO, 2)
      end
      return f(...)
    end
  end
  local function reader(fname, f)
    return function(t, ...)
      want_table(fname, select('#', t, ...), t)
      return f(unwrap(t), ...)
    end
  end
  T.insert = writer('insert', insert)
  T.remove = writer('remove', remove)
  T.sort = writer('sort', sort)
  T.concat = reader('concat', concat)
  T.getn = reader('getn', getn)
  T.maxn = reader('maxn', maxn)
end

-- Moves every global into a hidden table, protects the libraries named in `libs`, and makes
-- the globals table `G` itself a read-only proxy. `ev` turns an error raised by a Rust
-- function (a userdata) into the string or table Redis's C function would have raised. Returns the hidden table (where the
-- interpreter writes KEYS and ARGV) and the globals' metatable (whose __index a function
-- library load switches to its own environment).
function M.seal(G, libs, ev)
  errvalue = ev
  local H = {}
  for k, v in next, G do
    H[k] = v
  end
  for k in next, H do
    rawset(G, k, nil)
  end
  install_builtins(H)
  for i = 1, #libs do
    local name = libs[i]
    if type(H[name]) == 'table' then
      H[name] = protect(H[name])
    end
  end
  H._G = G
  setmetatable(H, { __index = M.missing })
  local view = protect({ __index = M.missing, __newindex = ro_error })
  local gmeta = { __index = H, __newindex = ro_error, __metatable = view }
  setmetatable(G, gmeta)
  real_of[G] = H
  local smeta = getmetatable('')
  smeta.__index = H.string
  smeta.__metatable = protect({ __index = H.string })
  return H, gmeta
end

-- The environment a function library's code runs in while FUNCTION LOAD evaluates it: only a
-- read-only `redis` table with register_function, log and the version fields.
function M.load_env(R)
  setmetatable(R, { __index = M.missing })
  local L = { redis = protect(R) }
  setmetatable(L, { __index = M.missing })
  return L
end

-- Runs a compiled script, with KEYS and ARGV (from `fetch`: the run's, or nil outside a run)
-- set in the hidden globals `H`, under the message handler `h`.
function M.eval_runner(h, H, fetch)
  return function(f)
    H.KEYS, H.ARGV = fetch()
    return xpcall(f, h)
  end
end

-- Runs a library function with the run's KEYS and ARGV under the message handler `h`.
function M.function_runner(h, fetch)
  return function(f)
    local keys, args = fetch()
    return xpcall(function()
      return f(keys, args)
    end, h)
  end
end

return M
