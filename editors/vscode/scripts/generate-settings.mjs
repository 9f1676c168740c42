// Generates `contributes.configuration` in package.json from the server's own schema
// (`augur schema config`), so the settings UI lists every option of augur with its description,
// default and allowed values, and cannot drift from the server. `--check` fails when package.json
// differs from what the current server generates (it writes the fresh file to a temporary folder
// to compare).
//
// Each field of a section becomes one setting (`augur.completion.mode`); maps and lists of tables
// (`augur.models`, `augur.actions.custom`) stay one setting each, edited in settings.json. The
// extension's own settings (`augur.server.*`) are listed here, as they are not augur's.
//
// The server binary is `$AUGUR_BIN`, else `../../target/debug/augur`.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const check = process.argv.includes("--check");
const packagePath = resolve(here, "..", "package.json");
const bin = process.env.AUGUR_BIN || resolve(here, "../../../target/debug/augur");

const OWN = {
  "augur.server.path": {
    type: "string",
    default: "",
    scope: "machine-overridable",
    markdownDescription:
      "The augur binary to run. Empty: the binary bundled with the extension, else `augur` on `PATH`.",
    order: 0,
  },
};

const USER_ONLY = "x-augur-user-only";
const MACHINE_NOTE =
  "Read from your user settings only: a workspace comes with the code, so it may not choose where code, keys or files go.";

let schema;
try {
  schema = JSON.parse(execFileSync(bin, ["schema", "config"], { encoding: "utf8" }));
} catch (error) {
  console.error(`cannot run \`${bin} schema config\`: ${error.message}`);
  console.error("Build augur first (`cargo build`) or set AUGUR_BIN to the augur binary.");
  process.exit(2);
}
const defs = schema.$defs ?? {};

// Replaces every `$ref` with the definition it names (VS Code cannot follow `#/$defs/...`).
function inline(node) {
  if (Array.isArray(node)) return node.map(inline);
  if (node === null || typeof node !== "object") return node;
  if (typeof node.$ref === "string") {
    const name = node.$ref.replace("#/$defs/", "");
    const { $ref: _ref, ...rest } = node;
    return inline({ ...defs[name], ...rest });
  }
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, inline(value)]));
}

// One schema as a VS Code setting: `oneOf` of constants becomes `enum` with `enumDescriptions`,
// doc comments become markdown, and keywords VS Code does not use (`format`, `title`) go.
function setting(node) {
  if (Array.isArray(node)) return node.map(setting);
  if (node === null || typeof node !== "object") return node;
  const out = {};
  const variants = node.oneOf;
  if (Array.isArray(variants) && variants.every((v) => v.const !== undefined)) {
    out.type = "string";
    out.enum = variants.map((v) => v.const);
    out.enumDescriptions = variants.map((v) => v.description ?? "");
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === "format" || key === "title" || key === USER_ONLY || (key === "oneOf" && out.enum)) continue;
    if (key === "description") {
      out.markdownDescription = value;
    } else if (key === "properties" || key === "additionalProperties" || key === "$defs") {
      out[key] =
        typeof value === "object" && value !== null && key !== "additionalProperties"
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, setting(v)]))
          : setting(value);
    } else {
      out[key] = setting(value);
    }
  }
  return out;
}

// Whether a schema, or anything inside it, is marked as the user's alone.
function holdsUserOnly(node) {
  if (Array.isArray(node)) return node.some(holdsUserOnly);
  if (node === null || typeof node !== "object") return false;
  return node[USER_ONLY] === true || Object.values(node).some(holdsUserOnly);
}

// A section with fields is spread into one setting per field; anything else is one setting. A
// setting that decides where code, keys or files go (augur marks it `x-augur-user-only`, and reads
// it only from the user's own file and the editor) gets VS Code's machine scope, so a workspace's
// `.vscode/settings.json` cannot set it either.
function flatten(prefix, node, into, userOnly = false) {
  const full = inline(node);
  const marked = userOnly || full[USER_ONLY] === true;
  const isSection =
    full.type === "object" && full.properties && !full.additionalProperties?.type && prefix !== "augur.models";
  if (isSection) {
    for (const [name, child] of Object.entries(full.properties)) {
      const merged = { ...child };
      if (full.default && full.default[name] !== undefined && merged.default === undefined) {
        merged.default = full.default[name];
      }
      flatten(`${prefix}.${name}`, merged, into, marked);
    }
  } else {
    into[prefix] = setting(full);
    if (marked || holdsUserOnly(full)) {
      into[prefix].scope = "machine";
      into[prefix].markdownDescription = `${into[prefix].markdownDescription ?? ""}\n\n${MACHINE_NOTE}`;
    }
  }
}

const properties = { ...OWN };
for (const [name, node] of Object.entries(schema.properties)) {
  flatten(`augur.${name}`, node, properties);
}
const pkg = JSON.parse(readFileSync(packagePath, "utf8"));
pkg.contributes = pkg.contributes ?? {};
pkg.contributes.configuration = { title: "augur", properties };
const text = `${JSON.stringify(pkg, null, 2)}\n`;

if (check) {
  const dir = mkdtempSync(join(tmpdir(), "augur-settings-"));
  writeFileSync(join(dir, "package.json"), text);
  const same = readFileSync(join(dir, "package.json"), "utf8") === readFileSync(packagePath, "utf8");
  rmSync(dir, { recursive: true, force: true });
  if (!same) {
    console.error("package.json's contributes.configuration differs from what `augur schema` generates.");
    console.error("Run `npm run generate-settings` in editors/vscode and commit the result.");
    process.exit(1);
  }
  console.log("package.json's settings match `augur schema`.");
} else {
  writeFileSync(packagePath, text);
  console.log(`wrote ${Object.keys(properties).length} settings to ${packagePath}`);
}
