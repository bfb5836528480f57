-- wrk script: GET <WRK_PREFIX><line><WRK_SUFFIX> for a line drawn at random
-- from the file WRK_LINES (credentials, or codes), with WRK_TOKEN as a
-- bearer key when set. Used by benches/verify.rs; runnable on its own:
--   WRK_LINES=creds.txt WRK_PREFIX=/api/v1/verify/ wrk -t2 -c64 -d10s -s benches/wrk/random_path.lua http://127.0.0.1:8080
local lines = {}
local token = os.getenv("WRK_TOKEN")
local prefix = os.getenv("WRK_PREFIX") or "/api/v1/verify/"
local suffix = os.getenv("WRK_SUFFIX") or ""

function init(args)
  for l in io.lines(os.getenv("WRK_LINES")) do
    lines[#lines + 1] = l
  end
  -- A different sequence per thread.
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  local headers = {}
  if token then
    headers["Authorization"] = "Bearer " .. token
  end
  return wrk.format("GET", prefix .. lines[math.random(#lines)] .. suffix, headers)
end
