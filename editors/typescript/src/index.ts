// Typed requests for augur's custom methods and commands. The types come from `augur schema`
// (see generated.ts); these helpers only name the methods and fix their parameter and reply types.

import type {
  AcceptedArgs,
  ActionData,
  CommandResult,
  MetricsReport,
  RewriteArgs,
  SearchHit,
  SearchParams,
  Status,
} from "./generated";

export * from "./generated";

/**
 * The least a client must offer: vscode-languageclient's `LanguageClient` fits, and so does a
 * `vscode-jsonrpc` connection.
 */
export interface RequestClient {
  sendRequest(method: string, params?: unknown): Promise<unknown>;
}

/** The custom request methods augur serves. */
export const Methods = {
  status: "augur/status",
  search: "augur/search",
  metrics: "augur/metrics",
} as const;

/** The commands augur serves through `workspace/executeCommand`. */
export const Commands = {
  rewrite: "augur.rewrite",
  action: "augur.action",
  accepted: "augur.accepted",
  metrics: "augur.metrics",
} as const;

/** `augur/status`: the model, its health and the index state of each root. It takes no
 * parameters: the request carries none (the server refuses `"params": null`). */
export async function status(client: RequestClient): Promise<Status> {
  return (await client.sendRequest(Methods.status)) as Status;
}

/** `augur/search`: ranked symbols and code from the workspace index, best first. */
export async function search(client: RequestClient, params: SearchParams): Promise<SearchHit[]> {
  return ((await client.sendRequest(Methods.search, params)) ?? []) as SearchHit[];
}

/** Runs `augur.rewrite` on a range with an instruction; the server applies the edit itself. */
export async function rewrite(client: RequestClient, args: RewriteArgs): Promise<CommandResult> {
  return (await client.sendRequest("workspace/executeCommand", {
    command: Commands.rewrite,
    arguments: [args],
  })) as CommandResult;
}

/** Runs `augur.action` (any AI action, by id). */
export async function action(client: RequestClient, args: ActionData): Promise<CommandResult> {
  return (await client.sendRequest("workspace/executeCommand", {
    command: Commands.action,
    arguments: [args],
  })) as CommandResult;
}

/** `augur/metrics`: requests, errors, tokens, cache and latency per model and endpoint, the shared
 * tier, completions requested, shown and accepted, and the indexes. It takes no parameters. */
export async function metrics(client: RequestClient): Promise<MetricsReport> {
  return (await client.sendRequest(Methods.metrics)) as MetricsReport;
}

/** Runs `augur.accepted`, as an editor does when the user accepts a completion item that carries
 * it (the item's `command` holds the argument). */
export async function accepted(client: RequestClient, args: AcceptedArgs): Promise<unknown> {
  return await client.sendRequest("workspace/executeCommand", {
    command: Commands.accepted,
    arguments: [args],
  });
}
