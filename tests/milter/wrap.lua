-- wrap.lua - run one test script (global `script`), print why it failed.
local ok, err = pcall(dofile, script)
if not ok then
	print("error: " .. tostring(err))
	os.exit(1)
end
