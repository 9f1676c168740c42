-- augur for Neovim 0.11+ (inline completion needs 0.12: vim.lsp.inline_completion).
-- Put this file on your runtimepath (e.g. ~/.config/nvim/plugin/augur.lua) with `augur` on PATH.
vim.lsp.config('augur', {
  cmd = { 'augur', 'serve', '--stdio' },
  root_markers = { 'augur.toml', '.augur.toml', '.git' },
  -- Settings are also read from augur.toml; these win over it.
  settings = { augur = vim.empty_dict() },
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

-- "Rewrite selection with AI…": select code, press <leader>ar, type what to change.
vim.keymap.set('x', '<leader>ar', function()
  local client = vim.lsp.get_clients({ bufnr = 0, name = 'augur' })[1]
  if not client then
    return vim.notify('augur is not running for this buffer', vim.log.levels.WARN)
  end
  -- The selection's ends, in order ('< and '> are only set once visual mode ends).
  local a, b = vim.fn.getpos('v'), vim.fn.getpos('.')
  if a[2] > b[2] or (a[2] == b[2] and a[3] > b[3]) then
    a, b = b, a
  end
  local params = vim.lsp.util.make_given_range_params(
    { a[2], a[3] - 1 },
    { b[2], b[3] - 1 },
    0,
    client.offset_encoding
  )
  vim.ui.input({ prompt = 'Rewrite with AI: ' }, function(instruction)
    if instruction and instruction ~= '' then
      client:exec_cmd({
        title = 'Rewrite selection with AI',
        command = 'augur.rewrite',
        arguments = { { uri = params.textDocument.uri, range = params.range, instruction = instruction } },
      })
    end
  end)
end, { desc = 'Rewrite the selection with augur' })
