-- Argo CD health check for instagram.igconnect.dev/InstagramConnection.
--
-- Install it in the argocd-cm ConfigMap under the key
--   resource.customizations.health.instagram.igconnect.dev_InstagramConnection
-- (see docs/gitops.md). It reads what igconnect's reconciler writes: status.observedGeneration
-- and the Ready and Degraded conditions, each stamped with the generation it describes.
--
--   Healthy      Ready=True: a usable token is in the Secret. Degraded=True (a refresh failed
--                for a reason worth retrying) keeps it Healthy, with the failure as message:
--                the token still works and igconnect retries on its own.
--   Progressing  no status yet, the spec's generation not yet observed, or Ready=Unknown
--                (an imported token whose validation is being retried).
--   Suspended    Ready=False AwaitingAuthorization: waiting for a person to log in at
--                status.authorizationURL, the normal first state of a connection from Git.
--   Degraded     Ready=False for any other reason: a person must act (log in again, fix the
--                account, the Secret name or the app credentials).
local hs = {}

local function condition(conditions, conditionType)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function text(s)
  if s == nil then
    return ""
  end
  return s
end

local generation = obj.metadata.generation
if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for igconnect to reconcile the connection"
  return hs
end

local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for igconnect to observe generation " .. generation
  return hs
end

local ready = condition(obj.status.conditions, "Ready")
if ready == nil or (generation ~= nil and ready.observedGeneration ~= nil and ready.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for igconnect to report the Ready condition"
  return hs
end

if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = text(ready.message)
  local degraded = condition(obj.status.conditions, "Degraded")
  if degraded ~= nil and degraded.status == "True" then
    hs.message = "Token usable; the last call to Instagram failed (" .. text(degraded.reason) ..
      ") and igconnect retries: " .. text(degraded.message)
  end
  return hs
end

if ready.status == "False" then
  if ready.reason == "AwaitingAuthorization" then
    hs.status = "Suspended"
    hs.message = text(ready.message)
    if obj.status.authorizationURL ~= nil and obj.status.authorizationURL ~= "" then
      hs.message = hs.message .. " (" .. obj.status.authorizationURL .. ")"
    end
    return hs
  end
  hs.status = "Degraded"
  hs.message = text(ready.reason) .. ": " .. text(ready.message)
  return hs
end

hs.status = "Progressing"
hs.message = text(ready.reason) .. ": " .. text(ready.message)
return hs
