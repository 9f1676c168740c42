-- augur for Neovim 0.11+ (inline completion needs 0.12: vim.lsp.inline_completion).
-- Put this file on your runtimepath (e.g. ~/.config/nvim/plugin/augur.lua) with `augur` on PATH.
vim.lsp.config('augur', {
  cmd = { 'augur', 'serve', '--stdio' },
  root_markers = { 'augur.toml', '.augur.toml', '.git' },
  -- Settings are also read from augur.toml; these win over it.
  settings = { augur = {} },
})
vim.lsp.enable('augur')

if vim.lsp.inline_completion then
  vim.lsp.inline_completion.enable(true)
  -- Accept the ghost text with <Tab> in insert mode, falling back to a plain <Tab>.
  vim.keymap.set('i', '<Tab>', function()
    if not vim.lsp.inline_completion.get() then
      return '<Tab>'
    end
  end, { expr = true, desc = 'Accept augur inline completion' })
end
