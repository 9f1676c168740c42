//! `augur editor helix [--append-to FILE]`: an editor's set-up for augur, generated from augur's
//! own language table so it never falls behind the languages augur supports.
//!
//! Helix has no switch that adds a server to every language: each `[[language]]` lists its
//! servers, and a user's list replaces Helix's default one. The command therefore prints one
//! `languages.toml` that defines the `augur` server and, for every Helix language holding files
//! augur understands, lists Helix 25.01's default servers for that language followed by `augur`,
//! so a user pastes one file and loses none of the servers Helix would have started.
//!
//! ```text
//! $ augur editor helix
//! [language-server.augur]
//! command = "augur"
//! args = ["serve", "--stdio"]
//!
//! [[language]]
//! name = "rust"
//! language-servers = ["rust-analyzer", "augur"]
//! ...
//! ```
//!
//! With `--append-to FILE` the missing parts are appended to an existing `languages.toml`: the
//! server's table only if the file has none, a language only if the file does not list that
//! language's servers already (those are named on stderr, with the servers to add `augur` to).
//! A file that is not valid TOML, or that would not be after appending, is left untouched.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use crate::syntax::Language;

/// `augur editor ...`.
#[derive(Debug, Args)]
pub struct EditorArgs {
    /// The editor.
    #[command(subcommand)]
    pub editor: Editor,
}

/// The editors augur can write a set-up for.
#[derive(Debug, Subcommand)]
pub enum Editor {
    /// Print a Helix `languages.toml` adding augur to every language augur supports, next to
    /// Helix's default servers for each.
    Helix {
        /// Append what is missing to this `languages.toml` (created if absent) instead of
        /// printing the whole file.
        #[arg(long, value_name = "FILE")]
        append_to: Option<PathBuf>,
    },
}

/// The server's name in Helix's `[language-server]` table and in each language's list.
const SERVER: &str = "augur";

/// A Helix language holding files augur understands, with the servers Helix 25.01 starts for it
/// by default (from the `languages.toml` built into Helix 25.01).
struct HelixLanguage {
    /// The language in augur's table.
    augur: Language,
    /// Helix's name for it (also the `languageId` Helix sends, unless Helix sets another).
    name: &'static str,
    /// Helix 25.01's `language-servers` for it, in Helix's order.
    servers: &'static [&'static str],
}

/// Every Helix language whose files augur reads. A unit test checks that each of augur's
/// languages appears here, and the file is written in the order of augur's table.
const HELIX_LANGUAGES: &[HelixLanguage] = &[
    helix(Language::Rust, "rust", &["rust-analyzer"]),
    helix(Language::Python, "python", &["ruff", "jedi", "pylsp"]),
    helix(
        Language::JavaScript,
        "javascript",
        &["typescript-language-server"],
    ),
    helix(Language::JavaScript, "jsx", &["typescript-language-server"]),
    helix(
        Language::TypeScript,
        "typescript",
        &["typescript-language-server"],
    ),
    helix(Language::Tsx, "tsx", &["typescript-language-server"]),
    helix(Language::Go, "go", &["gopls", "golangci-lint-lsp"]),
    helix(Language::Java, "java", &["jdtls"]),
    helix(Language::C, "c", &["clangd"]),
    helix(Language::Cpp, "cpp", &["clangd"]),
    helix(Language::CSharp, "c-sharp", &["omnisharp"]),
    helix(Language::Ruby, "ruby", &["solargraph"]),
    helix(Language::Php, "php", &["intelephense"]),
    helix(Language::Bash, "bash", &["bash-language-server"]),
    helix(Language::Lua, "lua", &["lua-language-server"]),
    helix(Language::Json, "json", &["vscode-json-language-server"]),
    helix(Language::Json, "jsonc", &["vscode-json-language-server"]),
    helix(Language::Toml, "toml", &["taplo"]),
    helix(
        Language::Yaml,
        "yaml",
        &["yaml-language-server", "ansible-language-server"],
    ),
    helix(
        Language::Html,
        "html",
        &["vscode-html-language-server", "superhtml"],
    ),
    helix(Language::Css, "css", &["vscode-css-language-server"]),
    helix(
        Language::Markdown,
        "markdown",
        &["marksman", "markdown-oxide"],
    ),
];

/// The Helix languages of augur's languages, in the order of augur's language table.
fn helix_languages() -> impl Iterator<Item = &'static HelixLanguage> {
    Language::ALL
        .into_iter()
        .flat_map(|language| HELIX_LANGUAGES.iter().filter(move |h| h.augur == language))
}

const fn helix(
    augur: Language,
    name: &'static str,
    servers: &'static [&'static str],
) -> HelixLanguage {
    HelixLanguage {
        augur,
        name,
        servers,
    }
}

/// The opening comment of the generated file.
const HEADER: &str = "\
# augur for Helix: AI completion items and code actions in every language augur supports.
# Generated by `augur editor helix`; each language keeps Helix 25.01's default servers, with augur
# added last. Save it as ~/.config/helix/languages.toml, or add it to yours with
# `augur editor helix --append-to ~/.config/helix/languages.toml`.
# augur's settings (the tables of augur.toml) go under [language-server.augur.config], e.g.
#   [language-server.augur.config.models.default]
#   backend = \"openai\"
#   url = \"http://127.0.0.1:8090/v1\"
#   model = \"SmolLM2-135M\"
";

/// The server's table.
const SERVER_TABLE: &str = "\
[language-server.augur]
command = \"augur\"
args = [\"serve\", \"--stdio\"]
";

/// What a `languages.toml` already holds of augur's set-up.
#[derive(Debug, Default)]
struct Existing {
    /// Whether it defines `[language-server.augur]`.
    server: bool,
    /// Languages whose servers it lists (with or without augur).
    listed: BTreeSet<String>,
    /// Languages whose servers it lists, without augur.
    without_augur: BTreeSet<String>,
}

/// The whole Helix `languages.toml` that `augur editor helix` prints.
pub fn helix_languages_toml() -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    out.push_str(&helix_blocks(&Existing::default()));
    out
}

/// The server's table (unless `existing` has one) and a `[[language]]` for each language
/// `existing` does not list servers for.
fn helix_blocks(existing: &Existing) -> String {
    let mut blocks = Vec::new();
    if !existing.server {
        blocks.push(SERVER_TABLE.to_owned());
    }
    for language in helix_languages() {
        if existing.listed.contains(language.name) {
            continue;
        }
        let servers: Vec<String> = language
            .servers
            .iter()
            .chain(std::iter::once(&SERVER))
            .map(|s| format!("\"{s}\""))
            .collect();
        blocks.push(format!(
            "[[language]]\nname = \"{}\"\nlanguage-servers = [{}]\n",
            language.name,
            servers.join(", ")
        ));
    }
    blocks.join("\n")
}

/// Reads what a parsed `languages.toml` holds of augur's set-up; an error names what has the
/// wrong shape.
fn existing(file: &toml::Table) -> anyhow::Result<Existing> {
    let mut found = Existing::default();
    match file.get("language-server") {
        None => {}
        Some(toml::Value::Table(servers)) => found.server = servers.contains_key(SERVER),
        Some(_) => bail!("`language-server` is not a table (Helix expects [language-server.NAME])"),
    }
    let languages = match file.get("language") {
        None => return Ok(found),
        Some(toml::Value::Array(languages)) => languages,
        Some(_) => bail!("`language` is not an array of tables (Helix expects [[language]])"),
    };
    for (i, language) in languages.iter().enumerate() {
        let Some(table) = language.as_table() else {
            bail!(
                "language entry {} is not a table (Helix expects [[language]])",
                i + 1
            );
        };
        let Some(name) = table.get("name").and_then(toml::Value::as_str) else {
            bail!("language entry {} has no `name`", i + 1);
        };
        let Some(servers) = table.get("language-servers") else {
            // Helix keeps its default servers for it, and a block appended later sets them.
            continue;
        };
        let Some(servers) = servers.as_array() else {
            bail!("`language-servers` of `{name}` is not an array");
        };
        found.listed.insert(name.to_owned());
        // An entry is a server's name or a table naming it (`{ name = "...", only-features = [...] }`).
        let has_augur = servers.iter().any(|s| {
            s.as_str()
                .or_else(|| s.get("name").and_then(toml::Value::as_str))
                == Some(SERVER)
        });
        if has_augur {
            found.without_augur.remove(name);
        } else {
            found.without_augur.insert(name.to_owned());
        }
    }
    Ok(found)
}

/// What appending did.
#[derive(Debug, PartialEq, Eq)]
pub struct Appended {
    /// Whether the server's table was appended.
    pub server: bool,
    /// The languages appended.
    pub languages: Vec<String>,
    /// Languages the file lists servers for without augur: left alone, for the user to change.
    pub left_alone: Vec<String>,
}

/// Appends to the `languages.toml` at `path` (created if absent) what it lacks of augur's set-up.
/// The file is checked first and left untouched when it does not parse, has the wrong shape, or
/// would not parse with the addition.
pub fn append_helix(path: &Path) -> anyhow::Result<Appended> {
    let before = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let parsed: toml::Table = toml::from_str(&before).map_err(|e| {
        anyhow::anyhow!(
            "{} is not valid TOML, so nothing was appended; fix it first:\n{e}",
            path.display()
        )
    })?;
    let existing = existing(&parsed).with_context(|| {
        format!(
            "{} is not a Helix languages.toml, so nothing was appended",
            path.display()
        )
    })?;
    let blocks = helix_blocks(&existing);
    let appended = Appended {
        server: !existing.server,
        languages: helix_languages()
            .filter(|l| !existing.listed.contains(l.name))
            .map(|l| l.name.to_owned())
            .collect(),
        left_alone: helix_languages()
            .filter(|l| existing.without_augur.contains(l.name))
            .map(|l| l.name.to_owned())
            .collect(),
    };
    if blocks.is_empty() {
        return Ok(appended);
    }
    let mut addition = String::new();
    if !before.is_empty() {
        addition.push_str(if before.ends_with('\n') { "\n" } else { "\n\n" });
    }
    addition.push_str("# Added by `augur editor helix --append-to`.\n");
    addition.push_str(&blocks);
    if let Err(e) = toml::from_str::<toml::Table>(&format!("{before}{addition}")) {
        bail!(
            "{} would not be valid TOML with augur's tables appended (does it define \
             `language-server` or `language` inline?), so nothing was appended; paste the \
             output of `augur editor helix` by hand:\n{e}",
            path.display()
        );
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    file.write_all(addition.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(appended)
}

/// Runs `augur editor ...`.
pub fn run(args: &EditorArgs) -> ExitCode {
    let Editor::Helix { append_to } = &args.editor;
    let Some(path) = append_to else {
        print!("{}", helix_languages_toml());
        return ExitCode::SUCCESS;
    };
    match append_helix(path) {
        Ok(appended) => {
            println!("{}", describe(path, &appended));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("augur: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// What appending did, in words.
fn describe(path: &Path, appended: &Appended) -> String {
    let mut lines = Vec::new();
    match (appended.server, appended.languages.is_empty()) {
        (false, true) => lines.push(format!(
            "{} already sets up augur; nothing was appended.",
            path.display()
        )),
        (server, _) => {
            let mut parts = Vec::new();
            if server {
                parts.push("the augur server".to_owned());
            }
            if !appended.languages.is_empty() {
                parts.push(format!(
                    "augur in {} languages ({})",
                    appended.languages.len(),
                    appended.languages.join(", ")
                ));
            }
            lines.push(format!(
                "Appended {} to {}.",
                parts.join(" and "),
                path.display()
            ));
        }
    }
    for name in &appended.left_alone {
        lines.push(format!(
            "{name}: {} lists its own servers, left as they are; add \"augur\" to its \
             language-servers to use augur there.",
            path.display()
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_augur_language_is_in_a_helix_language() {
        for language in Language::ALL {
            assert!(
                HELIX_LANGUAGES.iter().any(|h| h.augur == language),
                "{language} has no Helix language: add Helix's name and default servers"
            );
        }
        let names: BTreeSet<&str> = HELIX_LANGUAGES.iter().map(|h| h.name).collect();
        assert_eq!(names.len(), HELIX_LANGUAGES.len(), "a name is repeated");
    }

    #[test]
    fn the_whole_file_keeps_the_default_servers_and_adds_augur_last() {
        let text = helix_languages_toml();
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(
            parsed["language-server"]["augur"]["command"].as_str(),
            Some("augur")
        );
        let languages = parsed["language"].as_array().unwrap();
        assert_eq!(languages.len(), HELIX_LANGUAGES.len(), "each written once");
        let python = languages
            .iter()
            .find(|l| l["name"].as_str() == Some("python"))
            .unwrap();
        let servers: Vec<&str> = python["language-servers"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(toml::Value::as_str)
            .collect();
        assert_eq!(servers, ["ruff", "jedi", "pylsp", "augur"]);
    }

    #[test]
    fn existing_reads_servers_given_as_names_or_tables() {
        let file: toml::Table = toml::from_str(
            "[language-server.augur]\ncommand = \"augur\"\n\
             [[language]]\nname = \"rust\"\nlanguage-servers = [{ name = \"augur\" }]\n\
             [[language]]\nname = \"go\"\nlanguage-servers = [\"gopls\"]\n\
             [[language]]\nname = \"lua\"\nindent = { tab-width = 2, unit = \"  \" }\n",
        )
        .unwrap();
        let found = existing(&file).unwrap();
        assert!(found.server);
        assert_eq!(
            found.listed.iter().collect::<Vec<_>>(),
            ["go", "rust"],
            "lua lists no servers"
        );
        assert_eq!(found.without_augur.iter().collect::<Vec<_>>(), ["go"]);
        let blocks = helix_blocks(&found);
        assert!(!blocks.contains("[language-server.augur]"));
        assert!(blocks.contains("name = \"lua\""));
        assert!(!blocks.contains("name = \"go\""));
    }

    #[test]
    fn files_of_the_wrong_shape_are_named() {
        for (text, says) in [
            ("language = 3\n", "`language` is not an array"),
            ("language-server = []\n", "`language-server` is not a table"),
            ("language = [1]\n", "entry 1 is not a table"),
            ("[[language]]\nscope = \"x\"\n", "has no `name`"),
            (
                "[[language]]\nname = \"go\"\nlanguage-servers = \"gopls\"\n",
                "of `go` is not an array",
            ),
        ] {
            let file: toml::Table = toml::from_str(text).unwrap();
            let error = existing(&file).unwrap_err().to_string();
            assert!(error.contains(says), "{text:?}: {error}");
        }
    }
}
