// The status bar's text for each state of the server.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { Status } from "@augur/protocol";
import { statusView } from "../src/statusText";

function status(extra: Partial<Status> = {}): Status {
  return {
    version: "0.1.0",
    positionEncoding: "utf-16",
    documents: 1,
    roots: ["/ws"],
    models: ["default"],
    completionModel: { key: "default", model: "SmolLM2-135M" },
    modelHealth: { default: { state: "ok" } },
    indexes: [{ root: "/ws", state: "ready", files: 3 }],
    ...extra,
  };
}

test("starting, missing and stopped", () => {
  assert.match(statusView({ kind: "starting" }).text, /loading~spin/);
  const missing = statusView({ kind: "missing", reason: "augur: no augur server found" });
  assert.equal(missing.tooltip, "augur: no augur server found");
  assert.ok(missing.warning);
  assert.ok(statusView({ kind: "stopped", reason: "crash" }).tooltip.includes("crash"));
});

test("ready shows the model", () => {
  const view = statusView({ kind: "running", status: status() });
  assert.equal(view.text, "$(sparkle) augur: SmolLM2-135M");
  assert.ok(view.tooltip.includes("ready"));
});

test("indexing shows the percent of the server's progress", () => {
  const progress = statusView({ kind: "running", status: status(), progress: { title: "Indexing ws", percent: 40 } });
  assert.equal(progress.text, "$(sync~spin) augur: SmolLM2-135M 40%");
  assert.equal(progress.tooltip, "augur: Indexing ws 40%");
  const building = status({ indexes: [{ root: "/ws", state: "building", filesDone: 5, filesTotal: 20, percent: 25 }] });
  const polled = statusView({ kind: "running", status: building });
  assert.equal(polled.text, "$(sync~spin) augur: SmolLM2-135M");
  assert.equal(polled.tooltip, "augur: indexing /ws, 5/20 files");
});

test("an unreachable model shows the reason and the fix", () => {
  const view = statusView({
    kind: "running",
    status: status({
      modelHealth: {
        default: { state: "unreachable", error: "connection refused", fix: "Start the model server." },
      },
    }),
  });
  assert.ok(view.warning);
  assert.equal(view.tooltip, "augur: model SmolLM2-135M is unreachable: connection refused Start the model server.");
});

test("disabled inline suggestions are shown", () => {
  assert.match(statusView({ kind: "running", status: status() }, false).text, /circle-slash/);
});
