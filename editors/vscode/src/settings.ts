// Which settings reach the server: only those the user set (VS Code's `inspect()`), never the
// contributed defaults, which would override `augur.toml` (the client's layer is merged last).
// This module does not import `vscode`, so node's test runner can test it.

/** The part of `WorkspaceConfiguration.inspect()`'s result that is read. */
export interface Inspected {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** Settings of the extension itself, never sent to the server. */
export const EXTENSION_ONLY = ["augur.server."];

/** Whether a contributed setting belongs to the server's configuration. */
export function isServerSetting(key: string): boolean {
  return key.startsWith("augur.") && !EXTENSION_ONLY.some((prefix) => key.startsWith(prefix));
}

/**
 * The settings with `"scope": "machine"` in package.json: those that decide where code, keys or
 * files go (augur's schema marks them), which a workspace's settings may not set.
 */
export function machineSettings(properties: Record<string, unknown>): Set<string> {
  return new Set(
    Object.entries(properties)
      .filter(([, p]) => typeof p === "object" && p !== null && (p as { scope?: unknown }).scope === "machine")
      .map(([key]) => key),
  );
}

/**
 * The server settings the user set, nested as augur's configuration
 * (`augur.completion.mode` → `{completion: {mode}}`). The most specific scope wins: folder, then
 * workspace, then user; a machine setting (`machine`) is taken from the user's settings only, as a
 * workspace that comes with the code may not choose where the code goes. `keys` are the contributed
 * setting names (from package.json).
 */
export function userSettings(
  keys: readonly string[],
  inspect: (key: string) => Inspected | undefined,
  machine: ReadonlySet<string> = new Set(),
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (!isServerSetting(key)) continue;
    const found = inspect(key);
    if (found === undefined) continue;
    const scopes = machine.has(key)
      ? [found.globalValue]
      : [found.workspaceFolderValue, found.workspaceValue, found.globalValue];
    const value = scopes.find((v) => v !== undefined);
    if (value === undefined) continue;
    const path = key.slice("augur.".length).split(".");
    let node = out;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      if (typeof next !== "object" || next === null || Array.isArray(next)) {
        node[part] = {};
      }
      node = node[part] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = value;
  }
  return out;
}
