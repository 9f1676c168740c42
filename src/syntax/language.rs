//! The table of languages augur understands: file extensions, file names and LSP language ids
//! mapped to tree-sitter grammars.
//!
//! ```
//! use augur::syntax::Language;
//! use std::path::Path;
//!
//! assert_eq!(Language::from_path(Path::new("src/main.rs")), Some(Language::Rust));
//! assert_eq!(Language::from_lsp_id("typescriptreact"), Some(Language::Tsx));
//! assert_eq!(Language::Python.lsp_id(), "python");
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

/// A language with a tree-sitter grammar built into the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Rust,
    Python,
    JavaScript,
    TypeScript,
    Tsx,
    Go,
    Java,
    C,
    Cpp,
    CSharp,
    Ruby,
    Php,
    Bash,
    Lua,
    Json,
    Toml,
    Yaml,
    Html,
    Css,
    Markdown,
}

/// One row of the language table.
struct Entry {
    language: Language,
    /// The short name used in the index and on the command line.
    name: &'static str,
    /// LSP language ids; the first one is the canonical id.
    lsp_ids: &'static [&'static str],
    /// File extensions, lower case, without the dot.
    extensions: &'static [&'static str],
    /// Whole file names recognised regardless of extension.
    file_names: &'static [&'static str],
    /// Whether the language is code (has symbol queries) rather than a data or markup format.
    code: bool,
}

/// The one table from extensions, file names and LSP ids to languages.
const TABLE: &[Entry] = &[
    Entry {
        language: Language::Rust,
        name: "rust",
        lsp_ids: &["rust"],
        extensions: &["rs"],
        file_names: &[],
        code: true,
    },
    Entry {
        language: Language::Python,
        name: "python",
        lsp_ids: &["python"],
        extensions: &["py", "pyi", "pyw"],
        file_names: &[],
        code: true,
    },
    Entry {
        language: Language::JavaScript,
        name: "javascript",
        lsp_ids: &["javascript", "javascriptreact", "jsx"],
        extensions: &["js", "mjs", "cjs", "jsx"],
        file_names: &[],
        code: true,
    },
    Entry {
        language: Language::TypeScript,
        name: "typescript",
        lsp_ids: &["typescript"],
        extensions: &["ts", "mts", "cts"],
        file_names: &[],
        code: true,
    },
    Entry {
        language: Language::Tsx,
        name: "tsx",
        lsp_ids: &["typescriptreact", "tsx"],
        extensions: &["tsx"],
        file_names: &[],
        code: true,
    },
    Entry {
        language: Language::Go,
        name: "go",
        lsp_ids: &["go"],
        extensions: &["go"],
        file_names: &[],
        code: true,
    },
    Entry {
        language: Language::Java,
        name: "java",
        lsp_ids: &["java"],
        extensions: &["java"],
        file_names: &[],
        code: true,
    },
    Entry {
        language: Language::C,
        name: "c",
        lsp_ids: &["c"],
        extensions: &["c", "h"],
        file_names: &[],
        code: true,
    },
    Entry {
        language: Language::Cpp,
        name: "cpp",
        lsp_ids: &["cpp", "c++", "cuda-cpp"],
        extensions: &[
            "cc", "cpp", "cxx", "c++", "hpp", "hh", "hxx", "h++", "ipp", "inl", "cu",
        ],
        file_names: &[],
        code: true,
    },
    Entry {
        language: Language::CSharp,
        name: "csharp",
        lsp_ids: &["csharp", "c#", "c-sharp"],
        extensions: &["cs", "csx"],
        file_names: &[],
        code: true,
    },
    Entry {
        language: Language::Ruby,
        name: "ruby",
        lsp_ids: &["ruby"],
        extensions: &["rb", "rake", "gemspec", "ru"],
        file_names: &["Rakefile", "Gemfile", "Guardfile", "Vagrantfile"],
        code: true,
    },
    Entry {
        language: Language::Php,
        name: "php",
        lsp_ids: &["php"],
        extensions: &["php", "phtml"],
        file_names: &[],
        code: true,
    },
    Entry {
        language: Language::Bash,
        name: "bash",
        lsp_ids: &["shellscript", "bash", "sh", "zsh"],
        extensions: &["sh", "bash", "zsh", "ksh"],
        file_names: &[".bashrc", ".bash_profile", ".profile", ".zshrc"],
        code: true,
    },
    Entry {
        language: Language::Lua,
        name: "lua",
        lsp_ids: &["lua"],
        extensions: &["lua"],
        file_names: &[],
        code: true,
    },
    Entry {
        language: Language::Json,
        name: "json",
        lsp_ids: &["json", "jsonc"],
        extensions: &["json", "jsonc"],
        file_names: &[],
        code: false,
    },
    Entry {
        language: Language::Toml,
        name: "toml",
        lsp_ids: &["toml"],
        extensions: &["toml"],
        file_names: &[],
        code: false,
    },
    Entry {
        language: Language::Yaml,
        name: "yaml",
        lsp_ids: &["yaml"],
        extensions: &["yaml", "yml"],
        file_names: &[],
        code: false,
    },
    Entry {
        language: Language::Html,
        name: "html",
        lsp_ids: &["html"],
        extensions: &["html", "htm", "xhtml"],
        file_names: &[],
        code: false,
    },
    Entry {
        language: Language::Css,
        name: "css",
        lsp_ids: &["css"],
        extensions: &["css"],
        file_names: &[],
        code: false,
    },
    Entry {
        language: Language::Markdown,
        name: "markdown",
        lsp_ids: &["markdown"],
        extensions: &["md", "markdown", "mdown", "mkd"],
        file_names: &[],
        code: false,
    },
];

impl Language {
    /// Every language, in table order.
    pub const ALL: [Language; 20] = [
        Language::Rust,
        Language::Python,
        Language::JavaScript,
        Language::TypeScript,
        Language::Tsx,
        Language::Go,
        Language::Java,
        Language::C,
        Language::Cpp,
        Language::CSharp,
        Language::Ruby,
        Language::Php,
        Language::Bash,
        Language::Lua,
        Language::Json,
        Language::Toml,
        Language::Yaml,
        Language::Html,
        Language::Css,
        Language::Markdown,
    ];

    fn entry(self) -> &'static Entry {
        // The table is in the same order as the enum, which a unit test checks.
        &TABLE[self as usize]
    }

    /// The language of a file extension (without the dot, any case).
    pub fn from_extension(extension: &str) -> Option<Language> {
        let lower = extension.to_ascii_lowercase();
        TABLE
            .iter()
            .find(|e| e.extensions.contains(&lower.as_str()))
            .map(|e| e.language)
    }

    /// The language of a path, from its file name or its extension.
    pub fn from_path(path: &Path) -> Option<Language> {
        let file_name = path.file_name()?.to_str()?;
        if let Some(entry) = TABLE.iter().find(|e| e.file_names.contains(&file_name)) {
            return Some(entry.language);
        }
        Language::from_extension(path.extension()?.to_str()?)
    }

    /// The language of an LSP language id (`rust`, `typescriptreact`, `shellscript`, ...).
    pub fn from_lsp_id(id: &str) -> Option<Language> {
        TABLE
            .iter()
            .find(|e| e.lsp_ids.contains(&id))
            .map(|e| e.language)
    }

    /// The language of its short [`name`](Self::name), as stored in the index and typed on the
    /// command line; LSP ids are accepted too.
    pub fn from_name(name: &str) -> Option<Language> {
        let lower = name.to_ascii_lowercase();
        TABLE
            .iter()
            .find(|e| e.name == lower)
            .map(|e| e.language)
            .or_else(|| Language::from_lsp_id(&lower))
    }

    /// The short name (`rust`, `tsx`, `csharp`, ...).
    pub fn name(self) -> &'static str {
        self.entry().name
    }

    /// The canonical LSP language id.
    pub fn lsp_id(self) -> &'static str {
        self.entry().lsp_ids[0]
    }

    /// Whether code in `other` may help complete code in `self`, as retrieved context: the same
    /// language, or one a file of this language uses directly (JavaScript and TypeScript import
    /// each other; C and C++ share headers; a page holds its styles and scripts; PHP writes HTML).
    /// Snippets of an unrelated language cost the model time and pull its answer toward that
    /// language's syntax. The relation is not symmetric: a stylesheet gains nothing from scripts.
    pub fn shares_context_with(self, other: Language) -> bool {
        use Language::*;
        self == other
            || matches!(
                (self, other),
                (JavaScript | TypeScript | Tsx, JavaScript | TypeScript | Tsx)
                    | (C | Cpp, C | Cpp)
                    | (Html, Css | JavaScript | TypeScript)
                    | (Css, Html)
                    | (Php, Html)
            )
    }

    /// Whether this is a programming language with symbol queries, rather than a data or markup
    /// format (JSON, TOML, YAML, HTML, CSS, Markdown).
    pub fn is_code(self) -> bool {
        self.entry().code
    }

    /// The tree-sitter grammar.
    pub fn grammar(self) -> tree_sitter::Language {
        match self {
            Language::Rust => tree_sitter_rust::LANGUAGE.into(),
            Language::Python => tree_sitter_python::LANGUAGE.into(),
            Language::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Language::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Language::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Language::Go => tree_sitter_go::LANGUAGE.into(),
            Language::Java => tree_sitter_java::LANGUAGE.into(),
            Language::C => tree_sitter_c::LANGUAGE.into(),
            Language::Cpp => tree_sitter_cpp::LANGUAGE.into(),
            Language::CSharp => tree_sitter_c_sharp::LANGUAGE.into(),
            Language::Ruby => tree_sitter_ruby::LANGUAGE.into(),
            Language::Php => tree_sitter_php::LANGUAGE_PHP.into(),
            Language::Bash => tree_sitter_bash::LANGUAGE.into(),
            Language::Lua => tree_sitter_lua::LANGUAGE.into(),
            Language::Json => tree_sitter_json::LANGUAGE.into(),
            Language::Toml => tree_sitter_toml_ng::LANGUAGE.into(),
            Language::Yaml => tree_sitter_yaml::LANGUAGE.into(),
            Language::Html => tree_sitter_html::LANGUAGE.into(),
            Language::Css => tree_sitter_css::LANGUAGE.into(),
            Language::Markdown => tree_sitter_md::LANGUAGE.into(),
        }
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_enum_order() {
        for (i, language) in Language::ALL.iter().enumerate() {
            assert_eq!(TABLE[i].language, *language);
            assert_eq!(*language as usize, i);
        }
        assert_eq!(TABLE.len(), Language::ALL.len());
    }

    #[test]
    fn lookups() {
        assert_eq!(
            Language::from_path(Path::new("a/b.PY")),
            Some(Language::Python)
        );
        assert_eq!(
            Language::from_path(Path::new("Rakefile")),
            Some(Language::Ruby)
        );
        assert_eq!(Language::from_path(Path::new("x.tsx")), Some(Language::Tsx));
        assert_eq!(Language::from_path(Path::new("x.txt")), None);
        assert_eq!(Language::from_path(Path::new("noext")), None);
        assert_eq!(Language::from_lsp_id("shellscript"), Some(Language::Bash));
        assert_eq!(
            Language::from_lsp_id("javascriptreact"),
            Some(Language::JavaScript)
        );
        assert_eq!(Language::from_name("TSX"), Some(Language::Tsx));
        assert_eq!(Language::from_name("typescriptreact"), Some(Language::Tsx));
    }

    #[test]
    fn context_is_shared_with_the_same_language_and_the_ones_it_uses() {
        use Language::*;
        for language in Language::ALL {
            assert!(language.shares_context_with(language), "{language}");
        }
        let related: Vec<(Language, Language)> = Language::ALL
            .iter()
            .flat_map(|&a| Language::ALL.iter().map(move |&b| (a, b)))
            .filter(|&(a, b)| a != b && a.shares_context_with(b))
            .collect();
        assert_eq!(
            related,
            vec![
                (JavaScript, TypeScript),
                (JavaScript, Tsx),
                (TypeScript, JavaScript),
                (TypeScript, Tsx),
                (Tsx, JavaScript),
                (Tsx, TypeScript),
                (C, Cpp),
                (Cpp, C),
                (Php, Html),
                (Html, JavaScript),
                (Html, TypeScript),
                (Html, Css),
                (Css, Html),
            ]
        );
    }

    #[test]
    fn every_grammar_loads() {
        for language in Language::ALL {
            let mut parser = tree_sitter::Parser::new();
            parser
                .set_language(&language.grammar())
                .unwrap_or_else(|e| panic!("{language}: {e}"));
        }
    }
}
