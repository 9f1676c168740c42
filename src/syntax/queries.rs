//! The tree-sitter queries (`queries/*.scm`), compiled once per language on first use.
//!
//! Capture names: `@definition.<kind>` marks a symbol's node (`function`, `method`, `class`,
//! `struct`, `enum`, `interface`, `trait`, `type`, `constant`, `module`; `impl` marks a container
//! that names its members' enclosing symbol without being a symbol itself), `@name` its name and
//! `@import` an import statement.

use std::sync::OnceLock;

use tree_sitter::Query;

use super::Language;

/// The query source of a language, if it has one.
pub(crate) fn source(language: Language) -> Option<&'static str> {
    Some(match language {
        Language::Rust => include_str!("../../queries/rust.scm"),
        Language::Python => include_str!("../../queries/python.scm"),
        Language::JavaScript => include_str!("../../queries/javascript.scm"),
        Language::TypeScript | Language::Tsx => include_str!("../../queries/typescript.scm"),
        Language::Go => include_str!("../../queries/go.scm"),
        Language::Java => include_str!("../../queries/java.scm"),
        Language::C => include_str!("../../queries/c.scm"),
        Language::Cpp => include_str!("../../queries/cpp.scm"),
        Language::CSharp => include_str!("../../queries/csharp.scm"),
        Language::Ruby => include_str!("../../queries/ruby.scm"),
        Language::Php => include_str!("../../queries/php.scm"),
        Language::Bash => include_str!("../../queries/bash.scm"),
        Language::Lua => include_str!("../../queries/lua.scm"),
        Language::Markdown => include_str!("../../queries/markdown.scm"),
        Language::Json | Language::Toml | Language::Yaml | Language::Html | Language::Css => {
            return None;
        }
    })
}

static QUERIES: [OnceLock<Option<Query>>; Language::ALL.len()] =
    [const { OnceLock::new() }; Language::ALL.len()];

/// The compiled query of a language; `None` for languages without one or if it fails to compile
/// (logged; a unit test makes sure every shipped query compiles).
pub(crate) fn query(language: Language) -> Option<&'static Query> {
    QUERIES[language as usize]
        .get_or_init(|| {
            let source = source(language)?;
            match Query::new(&language.grammar(), source) {
                Ok(query) => Some(query),
                Err(error) => {
                    tracing::error!(%language, %error, "cannot compile the symbol query");
                    None
                }
            }
        })
        .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_compiles() {
        for language in Language::ALL {
            if let Some(source) = source(language)
                && let Err(error) = Query::new(&language.grammar(), source)
            {
                panic!("{language}: {error}");
            }
        }
    }
}
