-- :checkhealth augur. Every check reports ok, warn or error, and says how to fix what is wrong.
-- The facts come from augur itself: `augur --version`, the `augur/status` request and, when no
-- completion has reached the model yet, `augur doctor`.

local config = require('augur.config')

local M = {}

local health = vim.health

--- The command that starts the server, as vim.lsp.config holds it.
---@return string[]|nil
local function server_cmd()
  local cmd = (vim.lsp.config.augur or {}).cmd
  if type(cmd) == 'table' and #cmd > 0 then
    return cmd
  end
end

--- Runs `argv` for at most `ms` milliseconds; its exit code and output (stdout, then stderr).
---@return integer|nil, string
local function run(argv, ms, cwd)
  local ok, proc = pcall(vim.system, argv, { text = true, cwd = cwd })
  if not ok then
    return nil, tostring(proc)
  end
  local done = proc:wait(ms)
  local out = vim.trim((done.stdout or '') .. '\n' .. (done.stderr or ''))
  if done.signal ~= 0 then
    return nil, ('stopped after %d ms: %s'):format(ms, out)
  end
  return done.code, out
end

--- The binary: found, and its version. Returns its path when found.
local function check_binary()
  health.start('augur: binary')
  local cmd = server_cmd()
  if not cmd then
    health.error('no command to start augur', {
      "Put this plugin's directory on 'runtimepath' (it holds lsp/augur.lua)",
      "or pass setup({ cmd = { '/path/to/augur', 'serve', '--stdio' } })",
    })
    return nil
  end
  local path = vim.fn.exepath(cmd[1])
  if path == '' then
    health.error(('augur binary not found: `%s` is not an executable on PATH'):format(cmd[1]), {
      'Install it: `cargo install --path .` in the augur repository (puts `augur` in ~/.cargo/bin)',
      "Or point at it: require('augur').setup({ cmd = { '/path/to/augur', 'serve', '--stdio' } })",
    })
    return nil
  end
  local code, out = run({ path, '--version' }, 5000)
  if code ~= 0 then
    health.error(('`%s --version` failed: %s'):format(path, out), {
      'Reinstall augur; the file found is not a working augur binary',
    })
    return nil
  end
  health.ok(('found %s (%s)'):format(path, out))
  return path
end

--- The server: attached, and the position encoding it speaks. Returns the client.
---@param binary string|nil
local function check_server(binary)
  health.start('augur: server')
  local clients = vim.lsp.get_clients({ name = 'augur' })
  local client = clients[1]
  if not client then
    local fix = binary
        and {
          "Call require('augur').setup() (or vim.lsp.enable('augur')) and open a file",
          'If it stopped, :AugurLog shows why',
        }
      or { 'Install the binary first (see above)' }
    health.warn('augur is not attached to any buffer', fix)
    return nil
  end
  local buffers = vim.tbl_keys(client.attached_buffers)
  table.sort(buffers)
  health.ok(
    ('attached (client %d, root %s) to %d buffer(s); position encoding %s'):format(
      client.id,
      client.root_dir or 'none',
      #buffers,
      client.offset_encoding
    )
  )
  return client
end

--- `augur/status` from the running server, or nil with the reason.
---@param client vim.lsp.Client
local function status_of(client)
  local reply, err = client:request_sync('augur/status', nil, 5000)
  if not reply then
    return nil, err or 'no answer'
  end
  if reply.err then
    return nil, reply.err.message
  end
  return require('augur').without_nulls(reply.result)
end

local failing = { unreachable = true, failing = true, rate_limited = true }

--- The model: reachable, from augur/status or else `augur doctor`.
local function check_model(binary, client, status)
  health.start('augur: model')
  local unknown = {}
  for name, model in vim.spairs(status and status.modelHealth or {}) do
    if model.state == 'ok' then
      health.ok(('model %s answers'):format(name))
    elseif failing[model.state] then
      health.error(
        ('model %s is %s: %s'):format(name, model.state:gsub('_', ' '), model.error or '?'),
        { model.fix or 'Run `augur doctor` to check the model' }
      )
    else
      table.insert(unknown, name)
    end
  end
  if status and #unknown == 0 then
    if vim.tbl_isempty(status.modelHealth or {}) then
      health.error('no model is configured', {
        'Add a [models.default] table (backend, url, model) to ~/.config/augur/config.toml (a workspace augur.toml may not set url)',
      })
    end
    return
  end
  if not binary then
    return health.warn('cannot check the model without the augur binary')
  end
  -- No completion has reached the model yet: ask augur doctor, in the workspace's folder.
  local cwd = client and client.root_dir or vim.fn.getcwd()
  local code, out = run({ binary, 'doctor', '--no-completion', '--timeout-ms', '5000' }, 15000, cwd)
  if code == 0 then
    health.ok(('model reachable (`augur doctor` in %s)'):format(cwd))
  else
    health.error(('model not reachable (`augur doctor` in %s):\n%s'):format(cwd, out), {
      'Start the model server, or fix `url` under [models.<name>] in ~/.config/augur/config.toml or the plugin settings',
      'Run `augur doctor` in the workspace for the details',
    })
  end
end

--- The index of each root: ready and its file count.
local function check_index(status)
  health.start('augur: index')
  if not status then
    return health.warn('no status from augur (see above)')
  end
  if #(status.indexes or {}) == 0 then
    return health.warn('no workspace root, so no index', {
      'Open a file inside a folder with augur.toml, .augur.toml or .git',
    })
  end
  for _, index in ipairs(status.indexes) do
    if index.state == 'ready' then
      health.ok(('index of %s is ready: %d files'):format(index.root, index.files or 0))
    elseif index.state == 'building' then
      health.warn(
        ('index of %s is still building%s'):format(
          index.root,
          index.percent and (' (' .. index.percent .. '%)') or ''
        ),
        { 'Wait for it; search and context from other files work once it is ready' }
      )
    elseif index.state == 'off' then
      health.warn(('indexing is off for %s'):format(index.root), {
        'Set `[index] enabled = true` in augur.toml for search and context from other files',
      })
    else
      health.error(('index of %s failed: %s'):format(index.root, index.error or '?'), {
        'Run `augur index --rebuild` in the workspace; :AugurLog shows the details',
      })
    end
  end
end

--- Ghost text: available in this Neovim, and what the server offers.
local function check_inline(client)
  health.start('augur: inline completion')
  if not config.has_inline() then
    health.warn(
      ('Neovim %s has no vim.lsp.inline_completion: suggestions come as completion items'):format(
        tostring(vim.version())
      ),
      { 'Upgrade to Neovim 0.12 for ghost text', 'Items show with <C-x><C-o> in insert mode' }
    )
    return
  end
  if not config.uses_inline(config.options) then
    health.ok('completion items (setup({ inline = false }))')
    return
  end
  local served = client and client.server_capabilities.inlineCompletionProvider
  if client and not served then
    health.error('augur does not offer inline completion to this client', {
      'Update augur: inline completion needs LSP 3.18 support',
    })
  elseif not vim.lsp.inline_completion.is_enabled() then
    health.warn('ghost text is available but turned off', { 'Turn it on with :AugurToggle' })
  else
    health.ok('ghost text available (vim.lsp.inline_completion)')
  end
end

function M.check()
  local binary = check_binary()
  local client = check_server(binary)
  local status, err = nil, nil
  if client then
    status, err = status_of(client)
    if not status then
      health.error(
        'augur/status failed: ' .. tostring(err),
        { ':AugurLog shows what augur logged' }
      )
    end
  end
  check_model(binary, client, status)
  check_index(status)
  check_inline(client)
end

return M
