-- wrk script for benchmarks/server.py: POST one AdmissionReview on every request.
--
-- BULKHEAD_BENCH_BODY  path of the JSON body to post (required)

local path = os.getenv("BULKHEAD_BENCH_BODY")
if path == nil then
  error("set BULKHEAD_BENCH_BODY to the AdmissionReview JSON file")
end
local file = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"

-- wrk itself reports "Non-2xx or 3xx responses" when any answer is not a success.
