// The typed requests of @augur/protocol send what the server expects.

import assert from "node:assert/strict";
import { test } from "node:test";
import { rewrite, search, status } from "@augur/protocol";

function recorder(reply: unknown) {
  const calls: unknown[][] = [];
  return {
    calls,
    client: {
      sendRequest: async (...args: unknown[]) => {
        calls.push(args);
        return reply;
      },
    },
  };
}

test("augur/status goes without parameters (the server refuses a null one)", async () => {
  const { calls, client } = recorder({ version: "0.1.0" });
  await status(client);
  assert.deepEqual(calls, [["augur/status"]]);
});

test("augur/search passes its parameters and a null reply is no hits", async () => {
  const { calls, client } = recorder(null);
  assert.deepEqual(await search(client, { query: "parse", limit: 5 }), []);
  assert.deepEqual(calls, [["augur/search", { query: "parse", limit: 5 }]]);
});

test("augur.rewrite runs through workspace/executeCommand with one argument", async () => {
  const { calls, client } = recorder({ status: "applied", message: "done" });
  const range = { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } };
  const result = await rewrite(client, { uri: "file:///a.py", range, instruction: "shorter" });
  assert.equal(result.status, "applied");
  assert.deepEqual(calls, [
    ["workspace/executeCommand", { command: "augur.rewrite", arguments: [{ uri: "file:///a.py", range, instruction: "shorter" }] }],
  ]);
});
