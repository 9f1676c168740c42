-- The options of require('augur').setup(): their defaults, and the check of what a user passes.

local M = {}

---@class augur.Keys
---@field accept string|false Accepts the ghost text (insert mode).
---@field next string|false Shows the next suggestion.
---@field prev string|false Shows the previous suggestion.
---@field dismiss string|false Hides the ghost text.

---@class augur.Options
---@field enable boolean Starts augur for every file buffer (vim.lsp.enable('augur')).
---@field inline boolean|nil Ghost text (true), completion items (false), or ghost text where
---  Neovim has vim.lsp.inline_completion (nil, the default).
---@field keys augur.Keys Insert-mode keys for the ghost text; false leaves a key unmapped.
---@field skip_filetypes string[] Filetypes augur never attaches to.
---@field cmd string[]|nil The command that starts the server (default: the one in lsp/augur.lua).
---@field settings table|nil augur's settings (`:help augur-settings`), over augur.toml.

---@type augur.Options
M.defaults = {
  enable = true,
  inline = nil,
  keys = {
    accept = '<Tab>',
    next = '<M-]>',
    prev = '<M-[>',
    dismiss = '<C-]>',
  },
  skip_filetypes = {},
  cmd = nil,
  settings = nil,
}

---@type augur.Options
M.options = vim.deepcopy(M.defaults)

--- Checks one option with vim.validate, and fails with a message that names augur and the option.
---@param name string
---@param value any
---@param expected string
---@param optional boolean|nil
local function check(name, value, expected, optional)
  local ok, err = pcall(vim.validate, name, value, expected, optional)
  if not ok then
    error(('augur.setup: %s'):format(tostring(err):gsub('^.-:%d+: ', '')), 0)
  end
end

--- Merges `opts` over the defaults and checks each option, naming the one that is wrong.
---@param opts table|nil
---@return augur.Options
function M.resolve(opts)
  check('opts', opts, 'table', true)
  local merged = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  check('enable', merged.enable, 'boolean')
  check('inline', merged.inline, 'boolean', true)
  check('keys', merged.keys, 'table')
  for _, name in ipairs({ 'accept', 'next', 'prev', 'dismiss' }) do
    local key = merged.keys[name]
    if key ~= false and type(key) ~= 'string' then
      error(
        ('augur.setup: keys.%s must be a key (a string) or false, not %s'):format(
          name,
          vim.inspect(key)
        ),
        0
      )
    end
  end
  check('skip_filetypes', merged.skip_filetypes, 'table')
  check('cmd', merged.cmd, 'table', true)
  check('settings', merged.settings, 'table', true)
  return merged
end

--- Whether Neovim can show ghost text (0.12 and later).
function M.has_inline()
  return vim.lsp.inline_completion ~= nil
end

--- Whether ghost text is used with these options.
---@param options augur.Options
function M.uses_inline(options)
  if options.inline == nil then
    return M.has_inline()
  end
  return options.inline and M.has_inline()
end

return M
