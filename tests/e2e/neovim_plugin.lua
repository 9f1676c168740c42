-- Drives augur's Neovim plugin (editors/neovim, on 'runtimepath' before startup) in a real
-- headless Neovim 0.12: runs the scenario $AUGUR_E2E_SCENARIO and writes what happened as JSON to
-- $AUGUR_E2E_OUT. A scenario runs as a coroutine: its waits return to Neovim's main loop, so typed
-- keys, timers and the language server's replies are processed meanwhile.
local function env(name)
  local value = os.getenv(name)
  assert(value and value ~= '', name .. ' is not set')
  return value
end
local out = env('AUGUR_E2E_OUT')
local timeout = tonumber(os.getenv('AUGUR_E2E_TIMEOUT_MS') or '30000')

local result = {}
local function finish()
  local f = assert(io.open(out, 'w'))
  f:write(vim.json.encode(result))
  f:close()
  vim.cmd('qa!')
end

-- Waiting without blocking the main loop.
local function sleep(ms)
  local co = coroutine.running()
  vim.defer_fn(function()
    assert(coroutine.resume(co))
  end, ms)
  coroutine.yield()
end

local function wait(ms, done)
  local deadline = vim.uv.now() + ms
  while not done() do
    if vim.uv.now() > deadline then
      return false
    end
    sleep(20)
  end
  return true
end

local function keys(text)
  vim.api.nvim_feedkeys(vim.keycode(text), 'm', false)
  sleep(50)
end

local function text(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf or 0, 0, -1, false), '\n')
end

local function open(file)
  vim.cmd.edit(vim.fn.fnameescape(file))
  return vim.api.nvim_get_current_buf()
end

local function augur_client(buf)
  return vim.lsp.get_clients({ bufnr = buf, name = 'augur' })[1]
end

local function attached(buf, name)
  return wait(15000, function()
    local client = vim.lsp.get_clients({ bufnr = buf, name = name or 'augur' })[1]
    return client ~= nil and client.initialized == true
  end)
end

-- The ghost text on screen: its text (virtual lines joined by newlines), or nil.
local function ghost(buf)
  local ns = vim.api.nvim_get_namespaces()['nvim.lsp.inline_completion']
  local marks = ns and vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true }) or {}
  if #marks == 0 then
    return nil
  end
  local details = marks[1][4] or {}
  local pieces = {}
  for _, chunk in ipairs(details.virt_text or {}) do
    table.insert(pieces, chunk[1])
  end
  for _, line in ipairs(details.virt_lines or {}) do
    local parts = {}
    for _, chunk in ipairs(line) do
      table.insert(parts, chunk[1])
    end
    table.insert(pieces, '\n' .. table.concat(parts))
  end
  return table.concat(pieces)
end

-- Waits for augur's index of the workspace to be ready.
local function index_ready(client)
  return wait(timeout, function()
    local reply = client:request_sync('augur/status', nil, 2000)
    local indexes = reply and reply.result and reply.result.indexes or {}
    return indexes[1] ~= nil and indexes[1].state == 'ready'
  end)
end

-- Enters insert mode at the end of `line` and waits for ghost text.
local function ghost_at_end_of(buf, line)
  local current = vim.api.nvim_buf_get_lines(buf, line - 1, line, false)[1]
  vim.api.nvim_win_set_cursor(0, { line, #current })
  keys('A')
  wait(timeout, function()
    return ghost(buf) ~= nil
  end)
  return ghost(buf)
end

local scenarios = {}

-- setup() with its defaults: the server starts from lsp/augur.lua, ghost text shows in insert
-- mode, <Tab> accepts it.
function scenarios.defaults()
  require('augur').setup()
  result.commands = {}
  for _, name in ipairs({ 'AugurStatus', 'AugurSearch', 'AugurRewrite', 'AugurToggle', 'AugurLog' }) do
    result.commands[name] = vim.fn.exists(':' .. name) == 2
  end
  result.enabled = vim.lsp.is_enabled('augur')
  result.inline_enabled = vim.lsp.inline_completion.is_enabled()
  result.keys = {}
  for _, key in ipairs({ '<Tab>', '<M-]>', '<M-[>', '<C-]>' }) do
    result.keys[key] = vim.fn.maparg(key, 'i', false, true).desc or vim.NIL
  end
  local buf = open(env('AUGUR_E2E_FILE'))
  result.attached = attached(buf)
  if not result.attached then
    return
  end
  local client = augur_client(buf)
  result.cmd = client.config.cmd
  result.root = client.root_dir
  result.before = text(buf)
  result.ghost = ghost_at_end_of(buf, tonumber(env('AUGUR_E2E_LINE')))
  keys('<Tab>')
  wait(2000, function()
    return text(buf) ~= result.before
  end)
  result.after = text(buf)
  result.ghost_after = ghost(buf)
  -- :AugurToggle turns the ghost text off.
  keys('<Esc>')
  vim.cmd('AugurToggle')
  result.inline_after_toggle = vim.lsp.inline_completion.is_enabled()
  -- :AugurLog opens the LSP log.
  vim.cmd('AugurLog')
  result.log_buffer = vim.api.nvim_buf_get_name(0)
  result.lsp_log = vim.lsp.get_log_path()
  vim.cmd('close')
  -- :help augur-setup finds the help file once its tags are made (here in a copy of doc/).
  local help = env('AUGUR_E2E_HELP_DIR')
  vim.opt.runtimepath:append(help)
  vim.cmd.helptags(vim.fn.fnameescape(help .. '/doc'))
  vim.cmd('help augur-setup')
  result.help_file = vim.api.nvim_buf_get_name(0)
  result.help_line = vim.api.nvim_get_current_line()
end

-- Wrong options: setup() fails with a message naming the option, and starts nothing.
function scenarios.bad_options()
  result.errors = {}
  for _, opts in ipairs({ { inline = 'yes' }, { keys = { accept = 1 } }, { cmd = 'augur' }, 'x' }) do
    local ok, err = pcall(require('augur').setup, opts)
    table.insert(result.errors, ok and 'no error' or err)
  end
  result.enabled = vim.lsp.is_enabled('augur')
end

-- skip_filetypes: augur starts for a Python file but not for a Markdown one.
function scenarios.skip()
  require('augur').setup({ skip_filetypes = { 'markdown' } })
  local md = open(env('AUGUR_E2E_SKIPPED'))
  result.filetype = vim.bo[md].filetype
  local py = open(env('AUGUR_E2E_FILE'))
  result.python_attached = attached(py)
  sleep(300)
  result.markdown_clients = #vim.lsp.get_clients({ bufnr = md })
  result.python_root = augur_client(py) and augur_client(py).root_dir
end

-- Two servers attached (augur, and a second augur at another model): the next key shows the
-- other suggestion, the dismiss key hides it, and <Tab> accepts the one shown.
function scenarios.cycle()
  require('augur').setup()
  local buf = open(env('AUGUR_E2E_FILE'))
  result.attached = attached(buf)
  vim.lsp.start({
    name = 'augur-second',
    cmd = { env('AUGUR_BIN'), 'serve', '--stdio' },
    root_dir = augur_client(buf) and augur_client(buf).root_dir,
    init_options = vim.json.decode(env('AUGUR_E2E_SECOND_OPTIONS')),
  }, { bufnr = buf })
  result.second_attached = attached(buf, 'augur-second')
  if not (result.attached and result.second_attached) then
    return
  end
  result.before = text(buf)
  local line = tonumber(env('AUGUR_E2E_LINE'))
  -- Both replies are in once the ghost text says it is one of two.
  result.first = ghost_at_end_of(buf, line)
  wait(timeout, function()
    keys('<M-]>')
    local shown = ghost(buf)
    return shown ~= nil and shown:find('/2%)') ~= nil
  end)
  result.shown = {}
  for _ = 1, 3 do
    table.insert(result.shown, ghost(buf))
    keys('<M-]>')
  end
  keys('<M-[>')
  result.after_prev = ghost(buf)
  keys('<C-]>')
  result.after_dismiss = ghost(buf)
  result.text_after_dismiss = text(buf)
  -- Entering insert mode again asks again; <Tab> then takes the suggestion on screen.
  keys('<Esc>A')
  result.again = wait(timeout, function()
    return ghost(buf) ~= nil
  end)
  keys('<M-]>')
  result.accepted_ghost = ghost(buf)
  keys('<Tab>')
  wait(2000, function()
    return ghost(buf) == nil
  end)
  result.after = text(buf)
end

-- :AugurSearch! fills the quickfix list with a symbol defined in another file.
function scenarios.search()
  require('augur').setup()
  local buf = open(env('AUGUR_E2E_FILE'))
  result.attached = attached(buf)
  if not result.attached then
    return
  end
  result.index_ready = index_ready(augur_client(buf))
  vim.cmd('AugurSearch! ' .. env('AUGUR_E2E_QUERY'))
  wait(timeout, function()
    return #vim.fn.getqflist() > 0
  end)
  local list = vim.fn.getqflist({ title = 1, items = 1 })
  result.title = list.title
  result.items = {}
  for _, item in ipairs(list.items) do
    table.insert(result.items, {
      file = vim.api.nvim_buf_get_name(item.bufnr),
      lnum = item.lnum,
      col = item.col,
      text = item.text,
    })
  end
  result.quickfix_open = vim.fn.getqflist({ winid = 1 }).winid ~= 0
  -- :AugurStatus tells the state of the index.
  local notify = vim.notify
  vim.notify = function(msg)
    result.status = msg
  end
  vim.cmd('AugurStatus')
  wait(timeout, function()
    return result.status ~= nil
  end)
  vim.notify = notify
  -- Without !, the hits go to vim.ui.select; choosing the first opens its file there.
  vim.ui.select = function(items, opts, on_choice)
    result.select_prompt = opts.prompt
    result.select_first = opts.format_item(items[1])
    on_choice(items[1])
  end
  vim.cmd('AugurSearch ' .. env('AUGUR_E2E_QUERY'))
  wait(timeout, function()
    return result.select_first ~= nil
  end)
  sleep(100)
  result.jumped_to = vim.api.nvim_buf_get_name(0)
  result.cursor = vim.api.nvim_win_get_cursor(0)
end

-- :[range]AugurRewrite {instruction}: augur rewrites the lines and applies the edit.
function scenarios.rewrite()
  require('augur').setup()
  local buf = open(env('AUGUR_E2E_FILE'))
  result.attached = attached(buf)
  if not result.attached then
    return
  end
  local messages = {}
  vim.notify = function(msg)
    table.insert(messages, msg)
  end
  result.before = text(buf)
  vim.cmd(env('AUGUR_E2E_RANGE') .. 'AugurRewrite ' .. env('AUGUR_E2E_INSTRUCTION'))
  wait(timeout, function()
    return #messages > 0
  end)
  result.messages = messages
  result.after = text(buf)
end

-- :checkhealth augur, as text. $AUGUR_E2E_CMD (JSON) replaces the server's command.
function scenarios.health()
  local cmd = os.getenv('AUGUR_E2E_CMD')
  require('augur').setup({ cmd = cmd and vim.json.decode(cmd) or nil })
  local buf = open(env('AUGUR_E2E_FILE'))
  if os.getenv('AUGUR_E2E_WAIT_ATTACH') then
    result.attached = attached(buf)
    if os.getenv('AUGUR_E2E_WAIT_INDEX') then
      result.index_ready = index_ready(augur_client(buf))
    end
  else
    sleep(500)
  end
  vim.cmd('checkhealth augur')
  result.health = text(0)
  -- Once a completion asked the model, augur's own record says how it went.
  local line = tonumber(os.getenv('AUGUR_E2E_LINE'))
  if line then
    vim.cmd('tabclose')
    local current = vim.api.nvim_buf_get_lines(buf, line - 1, line, false)[1]
    vim.api.nvim_win_set_cursor(0, { line, #current })
    keys('A')
    local client = augur_client(buf)
    result.model_state = nil
    wait(timeout, function()
      local reply = client:request_sync('augur/status', nil, 2000)
      local models = reply and reply.result and reply.result.modelHealth or {}
      result.model_state = models.default and models.default.state
      return result.model_state ~= nil and result.model_state ~= 'unknown'
    end)
    wait(2000, function()
      return ghost(buf) ~= nil
    end)
    result.ghost = ghost(buf)
    keys('<Esc>')
    vim.cmd('checkhealth augur')
    result.health_after_completion = text(0)
  end
end

-- inline = false: augur's suggestion comes as a completion item, inserted whole. With
-- $AUGUR_E2E_WITHOUT_INLINE, Neovim's vim.lsp.inline_completion is taken away first, as on 0.11,
-- and setup() runs with its defaults: the plugin must choose items by itself.
function scenarios.items()
  if os.getenv('AUGUR_E2E_WITHOUT_INLINE') then
    vim.lsp._submodules.inline_completion = nil
    rawset(vim.lsp, 'inline_completion', nil)
    result.inline_api = vim.lsp.inline_completion ~= nil
    require('augur').setup()
  else
    require('augur').setup({ inline = false })
  end
  local buf = open(env('AUGUR_E2E_FILE'))
  result.attached = attached(buf)
  if not result.attached then
    return
  end
  result.inline_enabled = vim.lsp.inline_completion ~= nil
    and vim.lsp.inline_completion.is_enabled()
  result.accept_mapped = vim.fn.maparg('<Tab>', 'i', false, true).desc == 'Accept augur suggestion'
  result.before = text(buf)
  local line = tonumber(env('AUGUR_E2E_LINE'))
  local current = vim.api.nvim_buf_get_lines(buf, line - 1, line, false)[1]
  vim.api.nvim_win_set_cursor(0, { line, #current })
  keys('A')
  -- Ask for items with <C-x><C-o> ('omnifunc' is the LSP one), then take the first one.
  -- Headless, there is no popup menu to see: the completion's items tell that it is there.
  vim.o.completeopt = 'menuone,noselect,popup'
  result.omnifunc = vim.bo[buf].omnifunc
  keys('<C-x><C-o>')
  result.menu = wait(timeout, function()
    return #vim.fn.complete_info({ 'items' }).items > 0
  end)
  result.items = vim.fn.complete_info({ 'items' }).items
  keys('<C-n>')
  keys('<C-y>')
  wait(2000, function()
    return text(buf) ~= result.before
  end)
  sleep(200)
  result.after = text(buf)
end

local scenario = assert(scenarios[env('AUGUR_E2E_SCENARIO')], 'no such scenario')
coroutine.wrap(function()
  local ok, err = xpcall(scenario, debug.traceback)
  if not ok then
    result.error = err
  end
  finish()
end)()
