-- augur, an AI language server, as a vim.lsp.Config (Neovim 0.11+).
--
-- With this directory on 'runtimepath', `vim.lsp.enable('augur')` is all it takes. There are no
-- `filetypes`: augur completes and acts in every language, so it attaches to every file buffer.
-- Settings here win over the workspace's augur.toml; `:help augur-settings` lists them.

---@type vim.lsp.Config
return {
  cmd = { 'augur', 'serve', '--stdio' },
  root_markers = { 'augur.toml', '.augur.toml', '.git' },
  settings = {
    augur = vim.empty_dict(),
  },
}
