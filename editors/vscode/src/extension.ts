// The augur extension: finds the server, starts it through vscode-languageclient (which registers
// LSP inline completion, code actions and augur's own `augur.rewrite`/`augur.action` commands),
// sends the settings the user set, shows the server's state in the status bar, and adds commands
// that call augur's protocol. The logic lives in the server; this file only wires it into VS Code.

import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import * as vscode from "vscode";
import {
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  State,
  TransportKind,
} from "vscode-languageclient/node";
import * as protocol from "@augur/protocol";
import { INSTALL_COMMAND, findServer, type Found } from "./lookup";
import { machineSettings, userSettings } from "./settings";
import { ProgressTracker, type ProgressValue } from "./progress";
import { statusView, type ServerState } from "./statusText";

let client: LanguageClient | undefined;
let server: Found | undefined;
let state: ServerState = { kind: "starting" };
let output: vscode.LogOutputChannel;
let statusItem: vscode.StatusBarItem;
let poll: ReturnType<typeof setTimeout> | undefined;
let contributed: string[] = [];
let machine = new Set<string>();
const progress = new ProgressTracker();

function run(path: string, args: string[], cwd?: string): Promise<{ ok: boolean; text: string }> {
  return new Promise((resolve) => {
    execFile(path, args, { cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ ok: !error, text: `${stdout}${stderr}` });
    });
  });
}

/** The settings the user set, as augur's configuration. */
function settingsForServer(): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration();
  return userSettings(contributed, (key) => config.inspect(key), machine);
}

function render(): void {
  const inline = vscode.workspace.getConfiguration("editor").get<boolean>("inlineSuggest.enabled", true);
  const view = statusView(state, inline);
  statusItem.text = view.text;
  statusItem.tooltip = view.tooltip;
  statusItem.backgroundColor = view.warning
    ? new vscode.ThemeColor("statusBarItem.warningBackground")
    : undefined;
  statusItem.show();
}

/** Asks `augur/status` (the model, its health and the indexes), now and every ten seconds. */
async function refreshStatus(): Promise<void> {
  if (poll) clearTimeout(poll);
  if (!client || client.state !== State.Running) return;
  try {
    const status = await protocol.status(client);
    state = { kind: "running", status, progress: progress.current() };
  } catch (error) {
    output.warn(`augur/status failed: ${String(error)}`);
  }
  render();
  poll = setTimeout(() => void refreshStatus(), 10_000);
}

/** Shows the server's `$/progress` (indexing and its percent) in the status bar. */
function onProgress(token: string | number, value: ProgressValue): void {
  progress.update(token, value);
  if (state.kind === "running" || state.kind === "starting") {
    state = { kind: "running", status: state.kind === "running" ? state.status : undefined, progress: progress.current() };
    render();
  }
  // The end of an indexing changes what `augur/status` says (file counts, ready).
  if (value.kind === "end") void refreshStatus();
}

async function tellMissing(message: string, fix: "openSetting" | "install"): Promise<void> {
  state = { kind: "missing", reason: message };
  render();
  output.error(message);
  const action = fix === "openSetting" ? "Open Setting" : "Copy Install Command";
  const picked = await vscode.window.showErrorMessage(message, action, "Show Log");
  if (picked === "Open Setting") {
    await vscode.commands.executeCommand("workbench.action.openSettings", "augur.server.path");
  } else if (picked === "Copy Install Command") {
    await vscode.env.clipboard.writeText(INSTALL_COMMAND);
  } else if (picked === "Show Log") {
    output.show();
  }
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  state = { kind: "starting" };
  progress.clear();
  render();
  const found = await findServer({
    configuredPath: vscode.workspace.getConfiguration("augur").get<string>("server.path"),
    extensionPath: context.extensionPath,
    pathVariable: process.env.PATH,
    exeSuffix: process.platform === "win32" ? ".exe" : "",
    isExecutable: (path) =>
      access(path, constants.X_OK).then(
        () => true,
        () => false,
      ),
    version: async (path) => {
      const result = await run(path, ["--version"]);
      return result.ok ? result.text : undefined;
    },
  });
  if (found.kind === "missing") {
    await tellMissing(found.message, found.fix);
    return;
  }
  server = found;
  output.info(`using ${found.path} (augur ${found.version}, from ${found.source})`);
  const serverOptions: ServerOptions = {
    command: found.path,
    args: ["serve"],
    transport: TransportKind.stdio,
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
    outputChannel: output,
    initializationOptions: settingsForServer(),
    middleware: {
      handleWorkDoneProgress: (token, params, next) => {
        onProgress(token, params);
        next(token, params);
      },
      workspace: {
        // The server pulls section `augur`: it gets the values the user set, never the defaults.
        configuration: async (params, token, next) => {
          const answers = await next(params, token);
          if (!Array.isArray(answers)) return answers;
          return params.items.map((item, i) =>
            item.section === "augur" ? settingsForServer() : answers[i],
          );
        },
      },
    },
  };
  client = new LanguageClient("augur", "augur", serverOptions, clientOptions);
  client.onDidChangeState((event) => {
    if (event.newState === State.Running) {
      void refreshStatus();
    } else if (event.newState === State.Stopped) {
      state = { kind: "stopped", reason: "the server stopped (see the log)" };
      render();
    }
  });
  try {
    await client.start();
  } catch (error) {
    state = { kind: "stopped", reason: String(error) };
    render();
    output.error(`augur did not start: ${String(error)}`);
  }
}

async function stop(): Promise<void> {
  if (poll) clearTimeout(poll);
  const old = client;
  client = undefined;
  if (old) {
    try {
      await old.stop();
    } catch (error) {
      output.warn(`stopping augur: ${String(error)}`);
    }
  }
}

async function rewriteSelection(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !client) {
    void vscode.window.showWarningMessage("augur: open a file and select the code to rewrite.");
    return;
  }
  const instruction = await vscode.window.showInputBox({
    title: "Rewrite selection with AI",
    prompt: "How should the selection be rewritten?",
    placeHolder: "e.g. use a list comprehension",
  });
  if (!instruction?.trim()) return;
  const active = client;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: "augur: rewriting…", cancellable: false },
    () =>
      protocol.rewrite(active, {
        uri: active.code2ProtocolConverter.asUri(editor.document.uri),
        range: active.code2ProtocolConverter.asRange(editor.selection),
        instruction,
        version: editor.document.version,
      }),
  );
  output.info(`augur.rewrite: ${result?.status}: ${result?.message}`);
}

interface HitItem extends vscode.QuickPickItem {
  hit: protocol.SearchHit;
}

async function searchWorkspace(): Promise<void> {
  if (!client) return;
  const active = client;
  const pick = vscode.window.createQuickPick<HitItem>();
  pick.placeholder = "Search the workspace index (symbols and code)";
  pick.matchOnDescription = true;
  pick.matchOnDetail = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let generation = 0;
  pick.onDidChangeValue((query) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++generation;
      if (!query.trim()) {
        pick.items = [];
        return;
      }
      pick.busy = true;
      try {
        const hits = await protocol.search(active, { query, limit: 50 });
        if (mine !== generation) return;
        pick.items = hits.map((hit) => {
          const uri = vscode.Uri.parse(hit.uri);
          return {
            label: hit.name || hit.snippet.split("\n")[0].trim(),
            description: [hit.kind, hit.container].filter(Boolean).join(" in "),
            detail: `${vscode.workspace.asRelativePath(uri)}:${hit.range.start.line + 1}`,
            alwaysShow: true,
            hit,
          };
        });
      } catch (error) {
        output.warn(`augur/search failed: ${String(error)}`);
      } finally {
        if (mine === generation) pick.busy = false;
      }
    }, 120);
  });
  pick.onDidAccept(async () => {
    const item = pick.selectedItems[0];
    pick.hide();
    if (!item) return;
    const range = active.protocol2CodeConverter.asRange(item.hit.range);
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(item.hit.uri));
    await vscode.window.showTextDocument(doc, { selection: range });
  });
  pick.onDidHide(() => pick.dispose());
  pick.show();
}

async function toggleInline(): Promise<void> {
  const language = vscode.window.activeTextEditor?.document.languageId;
  const global = vscode.workspace.getConfiguration("editor");
  const items = [{ label: "Everywhere", scope: undefined as string | undefined }];
  if (language) items.push({ label: `For ${language} only`, scope: language });
  const choice = items.length === 1 ? items[0] : await vscode.window.showQuickPick(items, {
    title: "Toggle inline suggestions",
  });
  if (!choice) return;
  const config = choice.scope
    ? vscode.workspace.getConfiguration("editor", { languageId: choice.scope })
    : global;
  const now = config.get<boolean>("inlineSuggest.enabled", true);
  await config.update(
    "inlineSuggest.enabled",
    !now,
    vscode.ConfigurationTarget.Global,
    choice.scope !== undefined,
  );
  render();
}

async function doctor(channel: vscode.OutputChannel): Promise<void> {
  if (!server) {
    void vscode.window.showErrorMessage("augur: no server to run `augur doctor` with.");
    return;
  }
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  channel.clear();
  channel.show(true);
  channel.appendLine(`$ ${server.path} doctor${cwd ? `   (in ${cwd})` : ""}`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: "augur doctor" },
    () => run(server!.path, ["doctor"], cwd),
  );
  channel.appendLine(result.text);
  channel.appendLine(result.ok ? "All models answered." : "Some checks failed (see above).");
}

async function menu(): Promise<void> {
  const picks: (vscode.QuickPickItem & { command: string })[] = [
    { label: "$(circle-slash) Toggle inline suggestions", command: "augur.toggleInline" },
    { label: "$(output) Show log", command: "augur.showLog" },
    { label: "$(pulse) Run doctor", command: "augur.doctor" },
    { label: "$(debug-restart) Restart server", command: "augur.restartServer" },
    { label: "$(search) Search workspace", command: "augur.searchWorkspace" },
  ];
  const picked = await vscode.window.showQuickPick(picks, { title: "augur" });
  if (picked) await vscode.commands.executeCommand(picked.command);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("augur", { log: true });
  const doctorChannel = vscode.window.createOutputChannel("augur doctor");
  statusItem = vscode.window.createStatusBarItem("augur.status", vscode.StatusBarAlignment.Right, 100);
  statusItem.name = "augur";
  statusItem.command = "augur.menu";
  const properties = (context.extension.packageJSON?.contributes?.configuration?.properties ?? {}) as Record<
    string,
    unknown
  >;
  contributed = Object.keys(properties);
  machine = machineSettings(properties);
  context.subscriptions.push(
    output,
    doctorChannel,
    statusItem,
    vscode.commands.registerCommand("augur.rewriteSelection", rewriteSelection),
    vscode.commands.registerCommand("augur.searchWorkspace", searchWorkspace),
    vscode.commands.registerCommand("augur.restartServer", async () => {
      await stop();
      await start(context);
    }),
    vscode.commands.registerCommand("augur.showLog", () => output.show()),
    vscode.commands.registerCommand("augur.toggleInline", toggleInline),
    vscode.commands.registerCommand("augur.doctor", () => doctor(doctorChannel)),
    vscode.commands.registerCommand("augur.menu", menu),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("augur.server")) {
        await stop();
        await start(context);
      } else if (event.affectsConfiguration("augur") && client?.state === State.Running) {
        // Only the values the user set; the server merges them over augur.toml and reloads.
        await client.sendNotification("workspace/didChangeConfiguration", {
          settings: { augur: settingsForServer() },
        });
        void refreshStatus();
      }
      if (event.affectsConfiguration("editor.inlineSuggest.enabled")) render();
    }),
    { dispose: () => void stop() },
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  await stop();
}
