-- Drives a real Neovim 0.12 with augur's Neovim plugin (editors/neovim, on 'runtimepath') against a
-- real model: runs "Document ... with AI" from the code action menu (resolved lazily), then
-- :AugurRewrite on the function's body line with an instruction, and writes what happened as JSON
-- to $AUGUR_E2E_OUT. Run headless: nvim --headless --clean --cmd "set rtp^=editors/neovim"
-- -c "luafile neovim_action.lua".
local env = function(name)
  local value = os.getenv(name)
  assert(value and value ~= '', name .. ' is not set')
  return value
end
local bin, file, out = env('AUGUR_BIN'), env('AUGUR_E2E_FILE'), env('AUGUR_E2E_OUT')
local timeout = tonumber(os.getenv('AUGUR_E2E_TIMEOUT_MS') or '120000')

local result = { attached = false, documented = false }
local function finish()
  local f = assert(io.open(out, 'w'))
  f:write(vim.json.encode(result))
  f:close()
  vim.cmd('qa!')
end

-- The plugin starts `augur` from PATH.
vim.env.PATH = vim.fs.dirname(bin) .. ':' .. vim.env.PATH
require('augur').setup()

vim.cmd.edit(vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
local function text()
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
end
result.before = text()
result.attached = vim.wait(15000, function()
  local client = vim.lsp.get_clients({ bufnr = buf, name = 'augur' })[1]
  return client ~= nil and client.initialized == true
end, 20)
if not result.attached then
  return finish()
end

-- 1. The code action menu: pick "Document ... with AI"; Neovim resolves it and applies the edit.
vim.api.nvim_win_set_cursor(0, { 2, 4 })
vim.lsp.buf.code_action({
  filter = function(action)
    return action.title:match('^Document') ~= nil
  end,
  apply = true,
})
result.documented = vim.wait(timeout, function()
  return text() ~= result.before
end, 50)
result.after_document = text()

-- 2. :AugurRewrite on the function's body line; its outcome is told with vim.notify.
local answers = {}
vim.notify = function(msg)
  local status = msg:match('^augur rewrite (%S+):')
  if status then
    table.insert(
      answers,
      { status = status, message = msg, err = status == 'error' and msg or nil }
    )
  end
end
local body = #vim.api.nvim_buf_get_lines(buf, 0, -1, false) - 1
vim.cmd(body .. 'AugurRewrite use wrapping_add')
vim.wait(timeout, function()
  return #answers > 0
end, 50)
result.rewrite = answers[1]
result.after_rewrite = text()
finish()
