// The status bar's text and tooltip from `augur/status` and the server's `$/progress`.
// This module does not import `vscode`, so node's test runner can test it.

import type { Status } from "@augur/protocol";
import type { ShownProgress } from "./progress";

/** What the extension knows about the server. */
export type ServerState =
  | { kind: "starting" }
  | { kind: "running"; status?: Status; progress?: ShownProgress }
  | { kind: "stopped"; reason: string }
  | { kind: "missing"; reason: string };

/** What the status bar shows. */
export interface StatusView {
  text: string;
  tooltip: string;
  /** Whether to show it as a warning. */
  warning: boolean;
}

/** The status bar for a state; `inlineEnabled` is VS Code's `editor.inlineSuggest.enabled`. */
export function statusView(state: ServerState, inlineEnabled = true): StatusView {
  switch (state.kind) {
    case "starting":
      return { text: "$(loading~spin) augur", tooltip: "augur: starting", warning: false };
    case "missing":
      return { text: "$(error) augur", tooltip: state.reason, warning: true };
    case "stopped":
      return { text: "$(debug-stop) augur", tooltip: `augur: stopped: ${state.reason}`, warning: true };
    case "running":
      break;
  }
  const status = state.status;
  const model = status ? status.completionModel.model || status.completionModel.key : "";
  const label = model ? `augur: ${model}` : "augur";
  if (!inlineEnabled) {
    return { text: `$(circle-slash) ${label}`, tooltip: "augur: inline suggestions are disabled", warning: false };
  }
  const health = status?.modelHealth[status.completionModel.key];
  if (health && health.state !== "ok" && health.state !== "unknown") {
    const reason = [health.error, health.fix].filter(Boolean).join(" ");
    return {
      text: `$(warning) ${label}`,
      tooltip: `augur: model ${model} is ${health.state.replace("_", " ")}${reason ? `: ${reason}` : ""}`,
      warning: true,
    };
  }
  if (state.progress) {
    const percent = state.progress.percent === undefined ? "" : ` ${state.progress.percent}%`;
    return {
      text: `$(sync~spin) ${label}${percent}`,
      tooltip: `augur: ${state.progress.title}${percent}`,
      warning: false,
    };
  }
  // Between `$/progress` values (or from a client that gets none) an index that builds shows
  // without a percent; the percent comes from the server's progress.
  const building = status?.indexes.find((index) => index.state === "building");
  if (building && building.state === "building") {
    const files = building.filesTotal ? `, ${building.filesDone ?? 0}/${building.filesTotal} files` : "";
    return {
      text: `$(sync~spin) ${label}`,
      tooltip: `augur: indexing ${building.root}${files}`,
      warning: false,
    };
  }
  const failed = status?.indexes.find((index) => index.state === "failed");
  if (failed && failed.state === "failed") {
    return { text: `$(warning) ${label}`, tooltip: `augur: indexing failed: ${failed.error}`, warning: true };
  }
  return { text: `$(sparkle) ${label}`, tooltip: `augur: ready (${model || "no model"})`, warning: false };
}
