-- The cases of docs/gitops.md's health table, run against argocd-health.lua with a stock Lua 5.1
-- (Argo CD runs gopher-lua, a Lua 5.1): `lua5.1 docs/gitops/argocd-health-cases.lua` (Debian
-- package lua5.1). `make test` runs this file in gopher-lua too (test/gitops/argocd_test.go),
-- beside its own run of the script on every connection state. Exits non-zero when a case fails.
local dir = (arg and arg[0] or ""):match("^(.*/)") or "./"
local src = assert(io.open(dir .. "argocd-health.lua")):read("*a")
local chunk = assert(loadstring(src))
local function run(o) obj = o; return chunk() end
local function conn(gen, observed, conds, url)
  local st = nil
  if observed ~= nil or conds ~= nil then st = {observedGeneration = observed, conditions = conds, authorizationURL = url} end
  return {metadata = {generation = gen}, status = st}
end
local function c(t, s, r, m, g) return {type = t, status = s, reason = r, message = m, observedGeneration = g} end
local ok = c("Degraded", "False", "NoFailures", "no Instagram call is failing", 2)
local cases = {
  {"no status", conn(1, nil, nil), "Progressing"},
  {"connected", conn(2, 2, {c("Ready","True","Connected","token valid until X",2), ok}), "Healthy"},
  {"connected+degraded", conn(2, 2, {c("Ready","True","Connected","token valid",2), c("Degraded","True","RateLimited","attempt 2 failed",2)}), "Healthy"},
  {"stale gen", conn(3, 2, {c("Ready","True","Connected","token valid",2), ok}), "Progressing"},
  {"stale cond gen", conn(3, 3, {c("Ready","True","Connected","token valid",2), ok}), "Progressing"},
  {"no ready", conn(1, 1, {}), "Progressing"},
  {"awaiting", conn(1, 1, {c("Ready","False","AwaitingAuthorization","no token yet",1), ok}, "https://ig.example.com/auth/instagram/start?ticket=T"), "Suspended"},
  {"awaiting no url", conn(1, 1, {c("Ready","False","AwaitingAuthorization","no token yet (the operator runs without --public-url)",1), ok}), "Suspended"},
  {"reauth", conn(1, 1, {c("Ready","False","ReauthorizationRequired","Instagram rejected the token",1), ok}, "u"), "Degraded"},
  {"expired", conn(1, 1, {c("Ready","False","TokenExpired","expired",1), ok}, "u"), "Degraded"},
  {"deauth", conn(1, 1, {c("Ready","False","Deauthorized","removed",1), ok}, "u"), "Degraded"},
  {"mismatch", conn(1, 1, {c("Ready","False","AccountMismatch","other",1), ok}, "u"), "Degraded"},
  {"account", conn(1, 1, {c("Ready","False","AccountActionRequired","checkpoint",1), ok}, "u"), "Degraded"},
  {"conflict", conn(1, 1, {c("Ready","False","SecretConflict","taken",1), ok}), "Degraded"},
  {"creds", conn(1, 1, {c("Ready","False","AppCredentialsMissing","none",1), ok}), "Degraded"},
  {"unknown", conn(1, 1, {c("Ready","Unknown","InstagramUnavailable","could not validate",1), c("Degraded","True","InstagramUnavailable","503",1)}), "Progressing"},
}
local fails = 0
for _, tc in ipairs(cases) do
  local hs = run(tc[2])
  local mark = (hs.status == tc[3]) and "ok  " or "FAIL"
  if hs.status ~= tc[3] then fails = fails + 1 end
  print(string.format("%s %-20s %-12s %s", mark, tc[1], hs.status, hs.message))
end
print(#cases - fails .. " passed, " .. fails .. " failed")
if fails > 0 then os.exit(1) end
