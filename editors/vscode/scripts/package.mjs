// `npm run package`: builds augur-<version>.vsix for the current platform with the augur server
// bundled in `server/augur`, as rust-analyzer ships its server. The binary is `$AUGUR_BIN` when
// set (the tests bundle the debug build they already made); otherwise the release build of the
// repository is made with `cargo build --release`.

import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const repo = resolve(root, "../..");
const pkg = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8"));

const targets = { "linux-x64": "linux-x64", "linux-arm64": "linux-arm64", "darwin-x64": "darwin-x64", "darwin-arm64": "darwin-arm64", "win32-x64": "win32-x64" };
const target = targets[`${process.platform}-${process.arch}`];
if (!target) {
  console.error(`no VS Code target for ${process.platform}-${process.arch}`);
  process.exit(1);
}

let bin = process.env.AUGUR_BIN;
if (!bin) {
  const targetDir = process.env.CARGO_TARGET_DIR || resolve(repo, "target");
  execFileSync("cargo", ["build", "--release", "--locked"], { cwd: repo, stdio: "inherit" });
  bin = resolve(targetDir, "release", process.platform === "win32" ? "augur.exe" : "augur");
}
const exe = process.platform === "win32" ? "augur.exe" : "augur";
mkdirSync(resolve(root, "server"), { recursive: true });
copyFileSync(bin, resolve(root, "server", exe));
chmodSync(resolve(root, "server", exe), 0o755);

const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: "inherit" });
run("npx", ["esbuild", "src/extension.ts", "--bundle", "--platform=node", "--format=cjs", "--external:vscode", "--outfile=dist/extension.js", "--minify"]);
const out = `augur-${pkg.version}.vsix`;
run("npx", ["vsce", "package", "--target", target, "--no-dependencies", "--allow-missing-repository", "--skip-license", "-o", out]);
console.log(`built ${resolve(root, out)} (${target}, server from ${bin})`);
