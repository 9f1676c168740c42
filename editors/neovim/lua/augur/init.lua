-- augur for Neovim: require('augur').setup({...}) starts the language server for every file
-- buffer and shows its suggestions, as ghost text on Neovim 0.12 (vim.lsp.inline_completion) or
-- as completion items on older versions. `:help augur` documents the options and commands.

local config = require('augur.config')

local M = {}

--- The augur client attached to `bufnr` (default: the current buffer), or nil.
---@param bufnr integer|nil
---@return vim.lsp.Client|nil
function M.client(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr or 0, name = 'augur' })[1]
end

--- The augur client for a command: the current buffer's, else any running one, else nil after
--- telling the user how to start it.
---@return vim.lsp.Client|nil
function M.client_or_warn()
  local client = M.client(0) or vim.lsp.get_clients({ name = 'augur' })[1]
  if not client then
    vim.notify(
      'augur is not running: open a file after require("augur").setup(), or see :checkhealth augur',
      vim.log.levels.WARN
    )
  end
  return client
end

--- `value` with every JSON null (vim.NIL) in it taken out, so that a missing field reads as nil.
---@generic T
---@param value T
---@return T
function M.without_nulls(value)
  if value == vim.NIL then
    return nil
  end
  if type(value) == 'table' then
    for key, item in pairs(value) do
      value[key] = M.without_nulls(item)
    end
  end
  return value
end

--- The options in use.
function M.options()
  return config.options
end

--- Turns augur's suggestions on or off (`:AugurToggle`); `on` nil flips them.
---@param on boolean|nil
function M.toggle(on)
  local completion = require('augur.completion')
  if on == nil then
    on = not completion.enabled
  end
  completion.set_enabled(on)
  vim.notify(('augur suggestions %s'):format(on and 'on' or 'off'))
end

--- Sets augur up: the server's configuration, ghost text or completion items, and the keys.
---@param opts augur.Options|table|nil
function M.setup(opts)
  local options = config.resolve(opts)
  config.options = options
  local overrides = {}
  if options.cmd then
    overrides.cmd = options.cmd
  end
  local settings = vim.deepcopy(options.settings or {})
  if not config.uses_inline(options) then
    -- Neovim 0.12 announces inline completion; augur then keeps items off unless told.
    settings.completion = vim.tbl_extend('keep', settings.completion or {}, { mode = 'items' })
  end
  if next(settings) then
    overrides.settings = { augur = settings }
  end
  if #options.skip_filetypes > 0 then
    local markers = (vim.lsp.config.augur or {}).root_markers or { 'augur.toml', '.git' }
    local skip = options.skip_filetypes
    overrides.root_dir = function(bufnr, on_dir)
      if not vim.tbl_contains(skip, vim.bo[bufnr].filetype) then
        on_dir(vim.fs.root(bufnr, markers))
      end
    end
  end
  if next(overrides) then
    vim.lsp.config('augur', overrides)
  end
  require('augur.completion').setup(options)
  if options.enable then
    vim.lsp.enable('augur')
  end
end

return M
