//! The `[actions]` configuration: which model the AI code actions use, how much context they
//! send, which built-in actions are offered, and the user's own actions.
//!
//! ```
//! use augur::actions::{ActionsConfig, CustomOutput};
//! let config: ActionsConfig = toml::from_str(r#"
//!     model = "default"
//!     disabled = ["explain"]
//!
//!     [[custom]]
//!     id = "sql-injection"
//!     title = "Check for SQL injection with AI"
//!     prompt = "Review this {language} code from {file} for SQL injection:\n{selection}"
//!     languages = ["python"]
//!     needs_selection = true
//!     output = "markdown"
//! "#).unwrap();
//! assert_eq!(config.custom[0].output, CustomOutput::Markdown);
//! assert!(toml::from_str::<ActionsConfig>("modle = \"x\"").is_err());
//! ```

use serde::{Deserialize, Serialize};

use super::ActionKind;

/// Settings of the AI code actions (`[actions]` in the root configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ActionsConfig {
    /// Whether AI code actions are offered at all.
    pub enabled: bool,
    /// The model (a key of `[models]`) the actions call.
    pub model: String,
    /// Built-in actions not to offer: any of `fix`, `document`, `rewrite`, `tests`, `explain`.
    pub disabled: Vec<String>,
    /// The most definitions from the workspace index put in a prompt.
    pub max_definitions: usize,
    /// The most bytes of the enclosing function or class sent as context.
    pub max_context_bytes: usize,
    /// The most tokens the model may generate for one action.
    pub max_tokens: u32,
    /// The sampling temperature for actions.
    pub temperature: f32,
    /// How long one model call may take, in milliseconds, before the action fails.
    pub timeout_ms: u64,
    /// Instructions offered to choose from when an editor runs an action that needs one (the
    /// rewrite) without giving it; editors that can prompt pass their own instead.
    pub instructions: Vec<String>,
    /// The user's own actions.
    pub custom: Vec<CustomAction>,
}

impl Default for ActionsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            model: "default".into(),
            disabled: Vec::new(),
            max_definitions: 8,
            max_context_bytes: 16 * 1024,
            max_tokens: 2048,
            temperature: 0.2,
            timeout_ms: 120_000,
            instructions: [
                "Simplify it",
                "Make it more idiomatic",
                "Add error handling",
                "Add comments that explain it",
            ]
            .map(String::from)
            .to_vec(),
            custom: Vec::new(),
        }
    }
}

impl ActionsConfig {
    /// Checks what the types cannot: every custom action has a unique, well-formed `id`, a
    /// title and a prompt. The error names the field and says what is wrong.
    pub fn check(&self) -> Result<(), (String, String)> {
        for (i, action) in self.custom.iter().enumerate() {
            let field = |name: &str| format!("custom[{i}].{name}");
            let well_formed = !action.id.is_empty()
                && action
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !well_formed {
                return Err((
                    field("id"),
                    format!(
                        "`{}` is not a valid action id (use letters, digits, `-` and `_`)",
                        action.id
                    ),
                ));
            }
            if self.custom[..i].iter().any(|other| other.id == action.id) {
                return Err((field("id"), format!("the id `{}` is used twice", action.id)));
            }
            if action.title.trim().is_empty() {
                return Err((field("title"), "a custom action needs a title".into()));
            }
            if action.prompt.trim().is_empty() {
                return Err((field("prompt"), "a custom action needs a prompt".into()));
            }
        }
        Ok(())
    }

    /// Whether the built-in action `name` is offered.
    pub fn builtin_enabled(&self, name: &str) -> bool {
        self.enabled && !self.disabled.iter().any(|d| d == name)
    }
}

/// What a user-defined action does with the model's answer.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum CustomOutput {
    /// The answer replaces the selection (or, without one, the function or class at the cursor).
    #[default]
    Replace,
    /// The answer is markdown shown to the user; nothing is edited.
    Markdown,
}

/// A user-defined action (`[[actions.custom]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CustomAction {
    /// A short identifier, unique among custom actions (letters, digits, `-` and `_`).
    pub id: String,
    /// The title shown in the editor's code action menu.
    pub title: String,
    /// The prompt template. `{selection}`, `{file}`, `{language}`, `{diagnostics}` and
    /// `{instruction}` are replaced by the selected text (or the function at the cursor), the
    /// file's workspace path, the language name, the diagnostics in range and the user's
    /// instruction; `{{` and `}}` stand for literal braces.
    pub prompt: String,
    /// Languages (as in `[index]`: `rust`, `python`, ...) where the action applies; empty means
    /// every language.
    pub languages: Vec<String>,
    /// Whether the action is offered only when text is selected.
    pub needs_selection: bool,
    /// Whether the editor must ask the user for an instruction (`{instruction}`).
    pub needs_instruction: bool,
    /// What the answer is used for.
    pub output: CustomOutput,
    /// The code action kind shown to the editor.
    pub kind: ActionKind,
}

impl Default for CustomAction {
    fn default() -> Self {
        Self {
            id: String::new(),
            title: String::new(),
            prompt: String::new(),
            languages: Vec::new(),
            needs_selection: false,
            needs_instruction: false,
            output: CustomOutput::Replace,
            kind: ActionKind::RefactorRewrite,
        }
    }
}
