//! The Zed extension for augur, an AI language server.
//!
//! Zed runs this as WebAssembly (`wasm32-wasip2`) and asks it three things about the `augur`
//! language server that `extension.toml` declares for every language augur supports: the command
//! to start it (the user's `lsp.augur.binary`, else `augur` on the project shell's `PATH`), its
//! initialization options (`lsp.augur.initialization_options`) and its workspace configuration
//! (`lsp.augur.settings`, under `augur`). The decisions live in [`launch`], which has no part of
//! Zed's API so its tests run on the host; this file only converts Zed's types.

mod launch;

use zed_extension_api::settings::{CommandSettings, LspSettings};
use zed_extension_api::{self as zed, LanguageServerId, Result, Worktree, serde_json};

/// The extension. It keeps no state: every answer is read from the settings when Zed asks.
struct AugurExtension;

impl zed::Extension for AugurExtension {
    fn new() -> Self {
        AugurExtension
    }

    fn language_server_command(
        &mut self,
        language_server_id: &LanguageServerId,
        worktree: &Worktree,
    ) -> Result<zed::Command> {
        let settings = LspSettings::for_worktree(language_server_id.as_ref(), worktree)?;
        let binary = binary_settings(settings.binary);
        let chosen = launch::launch(
            &binary,
            &worktree.root_path(),
            |name| worktree.which(name),
            worktree.shell_env(),
        )?;
        Ok(zed::Command {
            command: chosen.command,
            args: chosen.args,
            env: chosen.env,
        })
    }

    fn language_server_initialization_options(
        &mut self,
        language_server_id: &LanguageServerId,
        worktree: &Worktree,
    ) -> Result<Option<serde_json::Value>> {
        let settings = LspSettings::for_worktree(language_server_id.as_ref(), worktree)?;
        launch::initialization_options(settings.initialization_options)
    }

    fn language_server_workspace_configuration(
        &mut self,
        language_server_id: &LanguageServerId,
        worktree: &Worktree,
    ) -> Result<Option<serde_json::Value>> {
        let settings = LspSettings::for_worktree(language_server_id.as_ref(), worktree)?;
        launch::workspace_configuration(settings.settings).map(Some)
    }
}

/// Zed's `lsp.augur.binary` as [`launch::BinarySettings`], with the variables sorted by name so
/// the environment is the same on every start.
fn binary_settings(binary: Option<CommandSettings>) -> launch::BinarySettings {
    let Some(binary) = binary else {
        return launch::BinarySettings::default();
    };
    let mut env: Vec<(String, String)> = binary.env.unwrap_or_default().into_iter().collect();
    env.sort();
    launch::BinarySettings {
        path: binary.path,
        arguments: binary.arguments,
        env,
    }
}

zed::register_extension!(AugurExtension);
