-- How augur's suggestions are shown: ghost text through vim.lsp.inline_completion (Neovim 0.12)
-- with keys to accept, cycle and dismiss it, or augur's completion items through
-- vim.lsp.completion (Neovim 0.11, or `inline = false`).

local config = require('augur.config')

local M = {}

local group = vim.api.nvim_create_augroup('augur.completion', { clear = true })

--- Whether ghost text is in use (set by setup).
M.inline = false

--- Whether suggestions are on (`:AugurToggle` flips it).
M.enabled = true

--- An insert-mode key that runs `action` and falls back to the key itself when `action` returns
--- false (nothing to accept, cycle or dismiss).
---@param lhs string|false
---@param action fun(): boolean
---@param desc string
local function map(lhs, action, desc)
  if not lhs then
    return
  end
  vim.keymap.set('i', lhs, function()
    if M.inline and action() then
      return ''
    end
    return lhs
  end, { expr = true, replace_keycodes = true, desc = desc })
end

--- Moves to another suggestion; false when none is shown.
---@param count integer
local function cycle(count)
  local ns = vim.api.nvim_get_namespaces()['nvim.lsp.inline_completion']
  local shown = ns and #vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { limit = 1 }) > 0
  if not shown then
    return false
  end
  vim.lsp.inline_completion.select({ count = count })
  return true
end

--- augur's item as a snippet: vim.lsp.completion inserts a plain-text item only up to its first
--- blank, and the whole text only through a snippet, so the text is escaped to mean itself. The
--- `convert` hook gets the item Neovim keeps for CompleteDone, which then expands it whole; the
--- word shown while choosing is the first line (the label).
---@param item lsp.CompletionItem
local function as_snippet(item)
  local edit = item.textEdit
  if item.detail ~= 'augur' or item.insertTextFormat == 2 or not edit or not edit.newText then
    return {}
  end
  edit.newText = edit.newText:gsub('[\\$}]', '\\%0')
  item.insertTextFormat = 2
  return { word = item.label }
end

--- Turns completion items on for `client` in `bufnr`.
---@param client vim.lsp.Client
---@param bufnr integer
local function enable_items(client, bufnr)
  if vim.lsp.completion and vim.lsp.completion.enable then
    vim.lsp.completion.enable(M.enabled, client.id, bufnr, { convert = as_snippet })
  end
end

--- Sets the mode and the keys from the options.
---@param options augur.Options
function M.setup(options)
  M.inline = config.uses_inline(options)
  vim.api.nvim_clear_autocmds({ group = group })
  if M.inline then
    vim.lsp.inline_completion.enable(M.enabled)
    local keys = options.keys
    map(keys.accept, function()
      return vim.lsp.inline_completion.get()
    end, 'Accept augur suggestion')
    map(keys.next, function()
      return cycle(1)
    end, 'Next augur suggestion')
    map(keys.prev, function()
      return cycle(-1)
    end, 'Previous augur suggestion')
    map(keys.dismiss, function()
      -- Taking the suggestion with a handler that inserts nothing hides it.
      return vim.lsp.inline_completion.get({ on_accept = function() end })
    end, 'Dismiss augur suggestion')
  else
    vim.api.nvim_create_autocmd('LspAttach', {
      group = group,
      callback = function(args)
        local client = vim.lsp.get_client_by_id(args.data.client_id)
        if client and client.name == 'augur' then
          enable_items(client, args.buf)
        end
      end,
    })
  end
end

--- Turns suggestions on or off everywhere.
---@param on boolean
function M.set_enabled(on)
  M.enabled = on
  if M.inline then
    vim.lsp.inline_completion.enable(on)
    return
  end
  for _, client in ipairs(vim.lsp.get_clients({ name = 'augur' })) do
    for bufnr in pairs(client.attached_buffers) do
      enable_items(client, bufnr)
    end
  end
end

return M
