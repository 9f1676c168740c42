// The order in which the extension looks for the server, and what it says when none fits.

import assert from "node:assert/strict";
import { test } from "node:test";
import { atLeast, findServer, parseVersion, type LookupEnv } from "../src/lookup";

function env(files: Record<string, string | undefined>, extra: Partial<LookupEnv> = {}): LookupEnv {
  return {
    extensionPath: "/ext",
    pathVariable: "/usr/local/bin:/usr/bin",
    isExecutable: async (path) => path in files,
    version: async (path) => files[path],
    ...extra,
  };
}

test("the setting wins over the bundled binary and PATH", async () => {
  const found = await findServer(
    env(
      { "/opt/augur": "augur 0.1.0\n", "/ext/server/augur": "augur 0.1.0", "/usr/bin/augur": "augur 0.1.0" },
      { configuredPath: "/opt/augur" },
    ),
  );
  assert.deepEqual(found, { kind: "found", path: "/opt/augur", version: "0.1.0", source: "setting" });
});

test("the bundled binary comes before PATH, and PATH is searched in order", async () => {
  const both = await findServer(env({ "/ext/server/augur": "augur 0.2.0", "/usr/bin/augur": "augur 0.1.0" }));
  assert.equal(both.kind === "found" && both.source, "bundled");
  const onPath = await findServer(env({ "/usr/bin/augur": "augur 0.1.0", "/usr/local/bin/augur": "augur 0.1.1" }));
  assert.equal(onPath.kind === "found" && onPath.path, "/usr/local/bin/augur");
});

test("a setting naming a missing file is reported with the setting to fix, no fallback", async () => {
  const found = await findServer(env({ "/usr/bin/augur": "augur 0.1.0" }, { configuredPath: "/nope/augur" }));
  assert.equal(found.kind, "missing");
  assert.ok(found.kind === "missing" && found.message.includes("/nope/augur"));
  assert.equal(found.kind === "missing" && found.fix, "openSetting");
});

test("no server anywhere offers the install command", async () => {
  const found = await findServer(env({}));
  assert.equal(found.kind === "missing" && found.fix, "install");
  assert.ok(found.kind === "missing" && found.message.includes("cargo install"));
});

test("a binary that is not augur or is too old is refused", async () => {
  const broken = await findServer(env({ "/usr/bin/augur": undefined }));
  assert.ok(broken.kind === "missing" && broken.message.includes("--version"));
  const old = await findServer(env({ "/usr/bin/augur": "augur 0.0.9" }));
  assert.ok(old.kind === "missing" && old.message.includes("0.0.9"));
});

test("versions parse and compare", () => {
  assert.equal(parseVersion("augur 0.1.0\n"), "0.1.0");
  assert.equal(parseVersion("python 3.11.2"), undefined);
  assert.ok(atLeast("0.10.0", "0.9.1"));
  assert.ok(atLeast("0.1.0", "0.1.0"));
  assert.ok(!atLeast("0.1.0", "0.1.1"));
});
