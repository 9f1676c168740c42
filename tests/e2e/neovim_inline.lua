-- Drives a real Neovim 0.12 against augur: opens a file, enters insert mode at the end of a line,
-- waits for augur's inline completion to show as ghost text, accepts it, and writes what happened
-- as JSON to $AUGUR_E2E_OUT. Run headless: nvim --headless --clean -c "luafile neovim_inline.lua".
local env = function(name)
  local value = os.getenv(name)
  assert(value and value ~= '', name .. ' is not set')
  return value
end
local bin, file, out, root =
  env('AUGUR_BIN'), env('AUGUR_E2E_FILE'), env('AUGUR_E2E_OUT'), env('AUGUR_E2E_ROOT')
local line = tonumber(env('AUGUR_E2E_LINE'))
local timeout = tonumber(os.getenv('AUGUR_E2E_TIMEOUT_MS') or '60000')

local result = { initialized = false, ghost = false, accepted = false }
local function finish()
  local f = assert(io.open(out, 'w'))
  f:write(vim.json.encode(result))
  f:close()
  vim.cmd('qa!')
end

vim.cmd.edit(vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
result.before = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
local id = vim.lsp.start({ name = 'augur', cmd = { bin, 'serve', '--stdio' }, root_dir = root })
result.initialized = vim.wait(15000, function()
  local client = id and vim.lsp.get_client_by_id(id)
  return client ~= nil and client.initialized == true
end, 20)
if not result.initialized then
  return finish()
end
result.has_inline_api = vim.lsp.inline_completion ~= nil
vim.lsp.inline_completion.enable(true)

local text = vim.api.nvim_buf_get_lines(buf, line - 1, line, false)[1]
vim.api.nvim_win_set_cursor(0, { line, #text })
-- Typeahead is processed only once this script returns to the main loop, so the rest runs from
-- a timer: enter insert mode at the end of the line, then poll for the ghost text.
vim.api.nvim_feedkeys('A', 'n', false)

local function marks()
  local ns = vim.api.nvim_get_namespaces()['nvim.lsp.inline_completion']
  if not ns then
    return {}
  end
  return vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })
end

local function ghost_text(mark)
  local details = mark[4] or {}
  local pieces = {}
  for _, chunk in ipairs(details.virt_text or {}) do
    table.insert(pieces, chunk[1])
  end
  for _, virt_line in ipairs(details.virt_lines or {}) do
    local parts = {}
    for _, chunk in ipairs(virt_line) do
      table.insert(parts, chunk[1])
    end
    table.insert(pieces, '\n' .. table.concat(parts))
  end
  return table.concat(pieces)
end

-- A small model may suggest nothing useful at first (its output differs between CPUs). Like a
-- user, keep typing a plausible continuation, one character every few seconds, until a
-- suggestion shows; each keystroke asks augur again with a new prompt.
local typing = os.getenv('AUGUR_E2E_TYPE') or ''
local typed = 0
local retype_ms = tonumber(os.getenv('AUGUR_E2E_RETYPE_MS') or '4000')
local started = vim.uv.now()
local last_key = started
local timer = vim.uv.new_timer()
timer:start(
  100,
  100,
  vim.schedule_wrap(function()
    result.mode = vim.api.nvim_get_mode().mode
    local found = marks()
    local now = vim.uv.now()
    if #found == 0 and now - started < timeout then
      if typed < #typing and now - last_key >= retype_ms and result.mode == 'i' then
        typed = typed + 1
        last_key = now
        vim.api.nvim_feedkeys(typing:sub(typed, typed), 'n', false)
      end
      return
    end
    result.typed = typing:sub(1, typed)
    timer:stop()
    if #found > 0 then
      result.ghost = true
      result.ghost_text = ghost_text(found[1])
      result.accepted = vim.lsp.inline_completion.get() == true
    end
    -- Let the accepted text land, then report. Accepting ran the item's `augur.accepted`
    -- command; augur/metrics tells whether augur counted it.
    vim.defer_fn(function()
      result.after = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
      local client = vim.lsp.get_client_by_id(id)
      vim.wait(5000, function()
        local reply = client and client:request_sync('augur/metrics', nil, 2000)
        local features = reply and reply.result and reply.result.llm.features
        result.accepted_count = features and features.completionsAccepted or nil
        return result.accepted_count ~= nil and result.accepted_count > 0
      end, 100)
      finish()
    end, 300)
  end)
)
