-- augur's user commands. They load the plugin's modules only when first used; the language server
-- starts once require('augur').setup() has run (`:help augur-setup`).

if vim.g.loaded_augur then
  return
end
vim.g.loaded_augur = true

if vim.fn.has('nvim-0.11') == 0 then
  vim.notify_once('augur needs Neovim 0.11 or later (vim.lsp.config)', vim.log.levels.ERROR)
  return
end

local function commands()
  return require('augur.commands')
end

vim.api.nvim_create_user_command('AugurStatus', function()
  commands().status()
end, { desc = "Show augur's version, models and index" })

vim.api.nvim_create_user_command('AugurSearch', function(args)
  commands().search(args.args, args.bang)
end, {
  nargs = '+',
  bang = true,
  desc = 'Search the workspace with augur (! fills the quickfix list)',
})

vim.api.nvim_create_user_command('AugurRewrite', function(args)
  commands().rewrite(args.line1, args.line2, args.args)
end, { nargs = '*', range = true, desc = 'Rewrite the lines with augur as the instruction says' })

vim.api.nvim_create_user_command('AugurToggle', function()
  require('augur').toggle()
end, { desc = "Turn augur's suggestions off or on" })

vim.api.nvim_create_user_command('AugurLog', function()
  commands().log()
end, { desc = "Open the LSP log with augur's lines" })
