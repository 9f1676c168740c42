//! What the client can do, read once at `initialize` into plain booleans, and what augur offers.
//!
//! Handlers consult [`ClientCaps`] instead of walking the client's nested optional capability
//! tree, so every "does the client support X" question has one answer in one place.

use tower_lsp_server::ls_types::{
    ClientCapabilities, CodeActionKind, CodeActionOptions, CodeActionProviderCapability,
    ExecuteCommandOptions, PositionEncodingKind, SaveOptions, ServerCapabilities,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, WorkDoneProgressOptions, WorkspaceFoldersServerCapabilities,
    WorkspaceServerCapabilities,
};

use crate::documents::PositionEncoding;
use crate::lsp::to_proto;

/// The client capabilities augur cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientCaps {
    /// `window.workDoneProgress`: the client shows `$/progress` for server-created tokens.
    pub work_done_progress: bool,
    /// `window.showDocument`: the client can open a document the server names.
    pub show_document: bool,
    /// `textDocument.inlineCompletion`: LSP 3.18 inline completion (ghost text).
    pub inline_completion: bool,
    /// `textDocument.completion.completionItem.snippetSupport`.
    pub snippet_support: bool,
    /// `textDocument.codeAction.codeActionLiteralSupport`: code actions may be `CodeAction`
    /// literals (else only `Command`s).
    pub code_action_literals: bool,
    /// `textDocument.codeAction.resolveSupport` lists `edit`: a code action's edit can be
    /// computed lazily, in `codeAction/resolve`.
    pub code_action_resolve: bool,
    /// `textDocument.codeAction.dataSupport`: code actions keep their `data` field.
    pub code_action_data: bool,
    /// `workspace.workspaceEdit.documentChanges`: versioned edits.
    pub document_changes: bool,
    /// `workspace.workspaceEdit.resourceOperations` includes `create`.
    pub create_files: bool,
    /// `workspace.applyEdit`: the server may ask the client to apply an edit.
    pub apply_edit: bool,
    /// `workspace.configuration`: the server may pull settings.
    pub configuration: bool,
    /// `workspace.workspaceFolders`: multi-root workspaces.
    pub workspace_folders: bool,
    /// `workspace.didChangeWatchedFiles.dynamicRegistration`: the client watches files for us.
    pub watched_files_dynamic: bool,
    /// `workspace.didChangeConfiguration.dynamicRegistration`.
    pub configuration_dynamic: bool,
}

impl ClientCaps {
    /// Reads the capabilities once.
    pub fn from_client(caps: &ClientCapabilities) -> Self {
        let text = caps.text_document.as_ref();
        let workspace = caps.workspace.as_ref();
        let window = caps.window.as_ref();
        let code_action = text.and_then(|t| t.code_action.as_ref());
        let edit = workspace.and_then(|w| w.workspace_edit.as_ref());
        Self {
            work_done_progress: window.and_then(|w| w.work_done_progress).unwrap_or(false),
            show_document: window
                .and_then(|w| w.show_document.as_ref())
                .is_some_and(|s| s.support),
            inline_completion: text.and_then(|t| t.inline_completion.as_ref()).is_some(),
            snippet_support: text
                .and_then(|t| t.completion.as_ref())
                .and_then(|c| c.completion_item.as_ref())
                .and_then(|i| i.snippet_support)
                .unwrap_or(false),
            code_action_literals: code_action
                .and_then(|c| c.code_action_literal_support.as_ref())
                .is_some(),
            code_action_resolve: code_action
                .and_then(|c| c.resolve_support.as_ref())
                .is_some_and(|r| r.properties.iter().any(|p| p == "edit")),
            code_action_data: code_action.and_then(|c| c.data_support).unwrap_or(false),
            document_changes: edit.and_then(|e| e.document_changes).unwrap_or(false),
            create_files: edit
                .and_then(|e| e.resource_operations.as_ref())
                .is_some_and(|ops| {
                    ops.iter().any(|op| {
                        matches!(
                            op,
                            tower_lsp_server::ls_types::ResourceOperationKind::Create
                        )
                    })
                }),
            apply_edit: workspace.and_then(|w| w.apply_edit).unwrap_or(false),
            configuration: workspace.and_then(|w| w.configuration).unwrap_or(false),
            workspace_folders: workspace.and_then(|w| w.workspace_folders).unwrap_or(false),
            watched_files_dynamic: workspace
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|d| d.dynamic_registration)
                .unwrap_or(false),
            configuration_dynamic: workspace
                .and_then(|w| w.did_change_configuration.as_ref())
                .and_then(|d| d.dynamic_registration)
                .unwrap_or(false),
        }
    }
}

/// The position encoding to use: negotiated from `general.positionEncodings` (or the older
/// `offsetEncoding` extension), preferring UTF-8.
pub fn negotiate_encoding(caps: &ClientCapabilities) -> PositionEncoding {
    let offered: Vec<String> = caps
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref())
        .map(|kinds| kinds.iter().map(|k| k.as_str().to_owned()).collect())
        .or_else(|| caps.offset_encoding.clone())
        .unwrap_or_default();
    PositionEncoding::negotiate(offered.iter().map(String::as_str))
}

/// What augur offers.
pub fn server_capabilities(encoding: PositionEncoding) -> ServerCapabilities {
    let encoding: PositionEncodingKind = to_proto::encoding(encoding);
    ServerCapabilities {
        position_encoding: Some(encoding),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                will_save: None,
                will_save_wait_until: None,
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
            },
        )),
        workspace: Some(WorkspaceServerCapabilities {
            workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(tower_lsp_server::ls_types::OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        workspace_symbol_provider: Some(tower_lsp_server::ls_types::OneOf::Left(true)),
        inline_completion_provider: Some(tower_lsp_server::ls_types::OneOf::Left(true)),
        completion_provider: Some(tower_lsp_server::ls_types::CompletionOptions {
            resolve_provider: Some(false),
            trigger_characters: None,
            ..Default::default()
        }),
        document_symbol_provider: Some(tower_lsp_server::ls_types::OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![
                CodeActionKind::QUICKFIX,
                CodeActionKind::REFACTOR_REWRITE,
                CodeActionKind::SOURCE,
            ]),
            resolve_provider: Some(true),
            ..Default::default()
        })),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: crate::lsp::commands::COMMANDS
                .iter()
                .map(|c| c.to_string())
                .collect(),
            work_done_progress_options: WorkDoneProgressOptions {
                work_done_progress: Some(true),
            },
        }),
        ..ServerCapabilities::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn caps(value: serde_json::Value) -> ClientCaps {
        let parsed: ClientCapabilities =
            serde_json::from_value(value).expect("valid client capabilities");
        ClientCaps::from_client(&parsed)
    }

    #[test]
    fn a_capable_client_turns_every_flag_on() {
        let full = caps(json!({
            "window": { "workDoneProgress": true, "showDocument": { "support": true } },
            "workspace": {
                "applyEdit": true,
                "configuration": true,
                "workspaceFolders": true,
                "workspaceEdit": { "documentChanges": true, "resourceOperations": ["rename", "create"] },
                "didChangeWatchedFiles": { "dynamicRegistration": true },
                "didChangeConfiguration": { "dynamicRegistration": true }
            },
            "textDocument": {
                "completion": { "completionItem": { "snippetSupport": true } },
                "inlineCompletion": {},
                "codeAction": {
                    "dataSupport": true,
                    "resolveSupport": { "properties": ["command", "edit"] },
                    "codeActionLiteralSupport": { "codeActionKind": { "valueSet": ["quickfix"] } }
                }
            }
        }));
        let expected = ClientCaps {
            work_done_progress: true,
            show_document: true,
            inline_completion: true,
            snippet_support: true,
            code_action_literals: true,
            code_action_resolve: true,
            code_action_data: true,
            document_changes: true,
            create_files: true,
            apply_edit: true,
            configuration: true,
            workspace_folders: true,
            watched_files_dynamic: true,
            configuration_dynamic: true,
        };
        assert_eq!(full, expected);
    }

    #[test]
    fn an_empty_client_turns_every_flag_off() {
        let all_off = ClientCaps {
            work_done_progress: false,
            show_document: false,
            inline_completion: false,
            snippet_support: false,
            code_action_literals: false,
            code_action_resolve: false,
            code_action_data: false,
            document_changes: false,
            create_files: false,
            apply_edit: false,
            configuration: false,
            workspace_folders: false,
            watched_files_dynamic: false,
            configuration_dynamic: false,
        };
        assert_eq!(caps(json!({})), all_off);
        assert_eq!(ClientCaps::default(), all_off);
    }

    #[test]
    fn present_but_negative_capabilities_stay_off() {
        // Each capability is present, but says no (or names only what augur does not use).
        let negative = caps(json!({
            "window": { "workDoneProgress": false, "showDocument": { "support": false } },
            "workspace": {
                "applyEdit": false,
                "configuration": false,
                "workspaceFolders": false,
                "workspaceEdit": { "documentChanges": false, "resourceOperations": ["rename", "delete"] },
                "didChangeWatchedFiles": { "dynamicRegistration": false },
                "didChangeConfiguration": {}
            },
            "textDocument": {
                "completion": { "completionItem": {} },
                "codeAction": { "dataSupport": false, "resolveSupport": { "properties": ["command"] } }
            }
        }));
        assert_eq!(negative, ClientCaps::default());
    }
}
