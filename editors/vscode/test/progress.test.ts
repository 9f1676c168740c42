// The status bar's view of the server's `$/progress`.

import assert from "node:assert/strict";
import { test } from "node:test";
import { ProgressTracker } from "../src/progress";

test("begin, reports and end", () => {
  const tracker = new ProgressTracker();
  assert.equal(tracker.current(), undefined);
  tracker.update("augur/index//ws", { kind: "begin", title: "Indexing ws", percentage: 0 });
  assert.deepEqual(tracker.current(), { title: "Indexing ws", percent: 0 });
  tracker.update("augur/index//ws", { kind: "report", percentage: 42.4, message: "424/1000 files" });
  assert.deepEqual(tracker.current(), { title: "Indexing ws", percent: 42 });
  tracker.update("augur/index//ws", { kind: "report", message: "no percent" });
  assert.equal(tracker.current()?.percent, 42);
  tracker.update("augur/index//ws", { kind: "end", message: "1000 files" });
  assert.equal(tracker.current(), undefined);
});

test("the progress that began first is shown until it ends", () => {
  const tracker = new ProgressTracker();
  tracker.update(1, { kind: "begin", title: "Indexing a" });
  tracker.update("2", { kind: "begin", title: "Indexing b", percentage: 10 });
  assert.deepEqual(tracker.current(), { title: "Indexing a", percent: undefined });
  tracker.update(1, { kind: "end" });
  assert.deepEqual(tracker.current(), { title: "Indexing b", percent: 10 });
});

test("values of unknown tokens and odd percents are harmless", () => {
  const tracker = new ProgressTracker();
  tracker.update("never-began", { kind: "report", percentage: 50 });
  tracker.update("never-began", { kind: "end" });
  assert.equal(tracker.current(), undefined);
  tracker.update("t", { kind: "begin", title: "x", percentage: 250 });
  assert.equal(tracker.current()?.percent, 100);
  tracker.update("t", { kind: "report", percentage: Number.NaN });
  assert.equal(tracker.current()?.percent, undefined);
  tracker.clear();
  assert.equal(tracker.current(), undefined);
});
