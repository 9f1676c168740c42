// Finding the augur binary, in order: the `augur.server.path` setting, the binary bundled in the
// extension (`server/augur`), `augur` on PATH. Each candidate is checked with `augur --version`.
// This module does not import `vscode`, so node's test runner can test it.

import { delimiter, join } from "node:path";

/** The oldest server this extension works with (it needs `augur/status`'s `completionModel`). */
export const MIN_SERVER_VERSION = "0.1.0";

/** What the lookup needs from the outside world; tests pass fakes. */
export interface LookupEnv {
  /** The `augur.server.path` setting, if set. */
  configuredPath?: string;
  /** The extension's own folder. */
  extensionPath: string;
  /** `process.env.PATH`. */
  pathVariable?: string;
  /** `.exe` on Windows, else empty. */
  exeSuffix?: string;
  /** Whether a file exists and is executable. */
  isExecutable(path: string): Promise<boolean>;
  /** The output of `path --version`, or undefined when it cannot run. */
  version(path: string): Promise<string | undefined>;
}

/** A server that can be started. */
export interface Found {
  kind: "found";
  path: string;
  version: string;
  source: "setting" | "bundled" | "path";
}

/** Why no server can be started, and the fix to offer. */
export interface Missing {
  kind: "missing";
  message: string;
  fix: "openSetting" | "install";
}

/** Parses `augur 0.1.0` (what `augur --version` prints) into its version. */
export function parseVersion(output: string): string | undefined {
  const match = /^augur\s+(\d+\.\d+\.\d+)/m.exec(output.trim());
  return match?.[1];
}

/** Whether version `a` is at least `b` (both `MAJOR.MINOR.PATCH`). */
export function atLeast(a: string, b: string): boolean {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) > (pb[i] ?? 0);
  }
  return true;
}

/** The install command offered when no server is found. */
export const INSTALL_COMMAND = "cargo install --path .";

async function check(
  env: LookupEnv,
  path: string,
  source: Found["source"],
): Promise<Found | Missing> {
  const output = await env.version(path);
  const version = output === undefined ? undefined : parseVersion(output);
  if (version === undefined) {
    return {
      kind: "missing",
      message: `augur: ${path} does not run as augur (\`${path} --version\` failed).`,
      fix: source === "setting" ? "openSetting" : "install",
    };
  }
  if (!atLeast(version, MIN_SERVER_VERSION)) {
    return {
      kind: "missing",
      message: `augur: ${path} is version ${version}; this extension needs ${MIN_SERVER_VERSION} or newer.`,
      fix: source === "setting" ? "openSetting" : "install",
    };
  }
  return { kind: "found", path, version, source };
}

/**
 * Finds the server. An `augur.server.path` that is set but wrong is reported as such (no silent
 * fallback to another binary); otherwise the bundled binary, then PATH.
 */
export async function findServer(env: LookupEnv): Promise<Found | Missing> {
  const configured = env.configuredPath?.trim();
  if (configured) {
    if (!(await env.isExecutable(configured))) {
      return {
        kind: "missing",
        message: `augur: the server set in \`augur.server.path\` (${configured}) does not exist or is not executable.`,
        fix: "openSetting",
      };
    }
    return check(env, configured, "setting");
  }
  const exe = `augur${env.exeSuffix ?? ""}`;
  const bundled = join(env.extensionPath, "server", exe);
  if (await env.isExecutable(bundled)) {
    return check(env, bundled, "bundled");
  }
  for (const dir of (env.pathVariable ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, exe);
    if (await env.isExecutable(candidate)) {
      return check(env, candidate, "path");
    }
  }
  return {
    kind: "missing",
    message:
      "augur: no augur server found (not set in `augur.server.path`, not bundled, not on PATH). " +
      `Install it (\`${INSTALL_COMMAND}\` in a checkout of augur) or set \`augur.server.path\`.`,
    fix: "install",
  };
}
