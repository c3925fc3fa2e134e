-- wrk script: a fixed pause before every request (one request per connection in the harness's conn/s test).
local pause = tonumber(os.getenv("WRK_DELAY_MS") or "20")
function delay()
  return pause
end
