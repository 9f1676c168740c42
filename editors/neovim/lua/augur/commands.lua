-- The user commands: :AugurStatus, :AugurSearch, :AugurRewrite, :AugurToggle and :AugurLog. Each
-- sends one of augur's requests (augur/status, augur/search, the augur.rewrite command) and shows
-- the answer; none of them computes anything of its own.

local augur = require('augur')

local M = {}

--- The lines :AugurStatus shows for an `augur/status` reply.
---@param status table
---@return string[]
function M.status_lines(status)
  local lines = {
    ('augur %s, %s positions, %d open documents'):format(
      status.version or '?',
      status.positionEncoding or '?',
      status.documents or 0
    ),
  }
  local model = status.completionModel or {}
  for name, health in vim.spairs(status.modelHealth or {}) do
    local line = ('model %s%s: %s'):format(
      name,
      name == model.key and model.model ~= '' and (' (' .. model.model .. ')') or '',
      health.state
    )
    if health.error then
      line = line .. ': ' .. health.error
    end
    table.insert(lines, line)
  end
  for _, index in ipairs(status.indexes or {}) do
    local state = index.state
    if state == 'ready' then
      state = ('ready, %d files'):format(index.files or 0)
    elseif state == 'building' then
      state = index.percent and ('building, %d%%'):format(index.percent) or 'building'
    elseif state == 'failed' then
      state = 'failed: ' .. (index.error or '?')
    end
    table.insert(lines, ('index %s: %s'):format(index.root, state))
  end
  return lines
end

--- :AugurStatus
function M.status()
  local client = augur.client_or_warn()
  if not client then
    return
  end
  client:request('augur/status', nil, function(err, status)
    if err then
      return vim.notify('augur/status failed: ' .. err.message, vim.log.levels.ERROR)
    end
    status = augur.without_nulls(status) or {}
    vim.notify(table.concat(M.status_lines(status), '\n'))
  end)
end

--- The quickfix items of `augur/search` hits, in augur's order (best first).
---@param hits table[]
---@param encoding string
local function qf_items(hits, encoding)
  local items = {}
  for _, hit in ipairs(hits) do
    local item = vim.lsp.util.locations_to_items({ hit }, encoding)[1]
    if item then
      -- A chunk of code has no kind.
      local label = hit.kind and (hit.kind .. ' ' .. hit.name) or hit.name
      local line = vim.trim(item.text or '')
      item.text = label ~= '' and (label .. ': ' .. line) or line
      table.insert(items, item)
    end
  end
  return items
end

--- :AugurSearch {query} shows the hits in vim.ui.select; with `!` they fill the quickfix list.
---@param query string
---@param quickfix boolean
function M.search(query, quickfix)
  if vim.trim(query) == '' then
    return vim.notify('usage: :AugurSearch {query}', vim.log.levels.WARN)
  end
  local client = augur.client_or_warn()
  if not client then
    return
  end
  client:request('augur/search', { query = query, limit = 50 }, function(err, hits)
    if err then
      return vim.notify('augur/search failed: ' .. err.message, vim.log.levels.ERROR)
    end
    hits = augur.without_nulls(hits) or {}
    if #hits == 0 then
      return vim.notify(('augur: nothing found for %q'):format(query))
    end
    local items = qf_items(hits, client.offset_encoding)
    if quickfix then
      vim.fn.setqflist({}, ' ', { title = 'augur search: ' .. query, items = items })
      vim.cmd('botright copen')
      return
    end
    vim.ui.select(items, {
      prompt = 'augur search: ' .. query,
      format_item = function(item)
        return ('%s:%d: %s'):format(vim.fn.fnamemodify(item.filename, ':~:.'), item.lnum, item.text)
      end,
    }, function(item)
      if item then
        vim.cmd.edit(vim.fn.fnameescape(item.filename))
        vim.api.nvim_win_set_cursor(0, { item.lnum, item.col - 1 })
      end
    end)
  end)
end

--- :[range]AugurRewrite {instruction} asks augur to rewrite the lines as the instruction says
--- (it asks for one when none is given); augur applies the edit.
---@param line1 integer
---@param line2 integer
---@param instruction string
function M.rewrite(line1, line2, instruction)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = augur.client(bufnr)
  if not client then
    return vim.notify('augur is not attached to this buffer', vim.log.levels.WARN)
  end
  -- Whole lines: from the start of the first to the end of the last (its newline kept).
  local last = vim.api.nvim_buf_get_lines(bufnr, line2 - 1, line2, true)[1]
  local uri = vim.uri_from_bufnr(bufnr)
  local range = {
    start = { line = line1 - 1, character = 0 },
    ['end'] = {
      line = line2 - 1,
      character = vim.lsp.util.character_offset(bufnr, line2 - 1, #last, client.offset_encoding),
    },
  }
  local function run(text)
    if not text or vim.trim(text) == '' then
      return
    end
    client:exec_cmd({
      title = 'Rewrite with AI',
      command = 'augur.rewrite',
      arguments = {
        { uri = uri, range = range, instruction = text },
      },
    }, { bufnr = bufnr }, function(err, result)
      if err then
        return vim.notify('augur rewrite error: ' .. err.message, vim.log.levels.ERROR)
      end
      -- The status (applied, rejected, stale, failed, cancelled) and augur's sentence.
      result = result or {}
      local level = result.status == 'applied' and vim.log.levels.INFO or vim.log.levels.WARN
      vim.notify(('augur rewrite %s: %s'):format(result.status or '?', result.message or ''), level)
    end)
  end
  if vim.trim(instruction) ~= '' then
    run(instruction)
  else
    vim.ui.input({ prompt = 'Rewrite with AI: ' }, run)
  end
end

--- :AugurLog opens Neovim's LSP log, where augur's own log lines (its stderr) land, at its end.
function M.log()
  local path = vim.lsp.get_log_path()
  vim.cmd.split(vim.fn.fnameescape(path))
  vim.bo.readonly = true
  vim.api.nvim_win_set_cursor(0, { vim.api.nvim_buf_line_count(0), 0 })
  vim.fn.search('augur', 'bW')
end

return M
