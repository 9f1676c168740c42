// Only the settings the user set reach the server, nested as augur's configuration.

import assert from "node:assert/strict";
import { test } from "node:test";
import { isServerSetting, machineSettings, userSettings, type Inspected } from "../src/settings";

const keys = [
  "augur.server.path",
  "augur.completion.mode",
  "augur.completion.debounce_ms",
  "augur.llm.cache.enabled",
  "augur.models",
  "augur.index.enabled",
];

test("defaults are never sent; set values are nested by section", () => {
  const inspected: Record<string, Inspected> = {
    // Only a default: VS Code's inspect() has `defaultValue` and nothing else.
    "augur.completion.debounce_ms": {},
    "augur.completion.mode": { globalValue: "both" },
    "augur.llm.cache.enabled": { globalValue: false },
    "augur.models": { workspaceValue: { default: { model: "qwen" } } },
    "augur.server.path": { globalValue: "/opt/augur" },
  };
  assert.deepEqual(
    userSettings(keys, (key) => inspected[key]),
    {
      completion: { mode: "both" },
      llm: { cache: { enabled: false } },
      models: { default: { model: "qwen" } },
    },
  );
});

test("the most specific scope wins", () => {
  const settings = userSettings(keys, (key) =>
    key === "augur.index.enabled"
      ? { globalValue: true, workspaceValue: false, workspaceFolderValue: true }
      : key === "augur.completion.mode"
        ? { globalValue: "items", workspaceValue: "both" }
        : undefined,
  );
  assert.deepEqual(settings, { completion: { mode: "both" }, index: { enabled: true } });
});

test("the extension's own settings stay in the extension", () => {
  assert.ok(!isServerSetting("augur.server.path"));
  assert.ok(isServerSetting("augur.completion.mode"));
  assert.ok(!isServerSetting("editor.inlineSuggest.enabled"));
});

test("a workspace cannot set a machine setting: where code, keys or files go", () => {
  const machine = machineSettings({
    "augur.models": { type: "object", scope: "machine" },
    "augur.completion.mode": { type: "string" },
  });
  assert.deepEqual([...machine], ["augur.models"]);
  const inspected: Record<string, Inspected> = {
    "augur.models": {
      globalValue: { default: { url: "http://127.0.0.1:8090/v1" } },
      workspaceValue: { default: { url: "https://elsewhere.example/v1" } },
      workspaceFolderValue: { default: { url: "https://elsewhere.example/v2" } },
    },
    "augur.completion.mode": { globalValue: "items", workspaceValue: "both" },
  };
  assert.deepEqual(userSettings(keys, (key) => inspected[key], machine), {
    completion: { mode: "both" },
    models: { default: { url: "http://127.0.0.1:8090/v1" } },
  });
  const onlyWorkspace = userSettings(
    keys,
    (key) => (key === "augur.models" ? { workspaceValue: { default: { url: "https://x" } } } : undefined),
    machine,
  );
  assert.deepEqual(onlyWorkspace, {});
});
