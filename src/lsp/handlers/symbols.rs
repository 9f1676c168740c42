//! `workspace/symbol` (from the index, fuzzy and ranked across every root) and
//! `textDocument/documentSymbol` (from tree-sitter, for the open document as it is now).
//!
//! Example: `workspace/symbol {"query": "parse http"}` finds `parseHttpRequest`,
//! `parse_http_request` and `ParseHTTPRequest`, best first.

use std::sync::Arc;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    DocumentSymbol, DocumentSymbolParams, DocumentSymbolResponse, SymbolInformation,
    WorkspaceSymbolParams, WorkspaceSymbolResponse,
};

use crate::host::WorkspaceSnapshot;
use crate::index::Hit;
use crate::lsp::state::ServerState;
use crate::lsp::{from_proto, to_proto};
use crate::syntax::{Language, document_symbols, language_of_text};

/// The most workspace symbols returned.
const WORKSPACE_SYMBOL_LIMIT: usize = 128;

/// Runs `query` on a snapshot's indexes (every root's, merged by score) on a blocking thread.
pub(crate) async fn on_indexes(
    snapshot: &WorkspaceSnapshot,
    query: impl FnOnce(&WorkspaceSnapshot) -> Vec<Hit> + Send + 'static,
) -> Vec<Hit> {
    let snapshot = snapshot.clone();
    tokio::task::spawn_blocking(move || query(&snapshot))
        .await
        .unwrap_or_default()
}

/// Handles `workspace/symbol`.
pub async fn workspace_symbol(
    state: &Arc<ServerState>,
    params: WorkspaceSymbolParams,
) -> Result<Option<WorkspaceSymbolResponse>> {
    let query = params.query;
    let snapshot = state.snapshot();
    let hits = on_indexes(&snapshot, move |snapshot| {
        snapshot.workspace_symbols(&query, WORKSPACE_SYMBOL_LIMIT)
    })
    .await;
    let encoding = state.encoding();
    let mut texts = to_proto::FileTexts::default();
    #[allow(deprecated)] // `deprecated` is a required field of the type.
    let symbols = hits
        .into_iter()
        .filter_map(|hit| {
            let kind = to_proto::symbol_kind(hit.kind?);
            let location = texts.location(&hit.path, hit.byte_range.clone(), encoding, |uri| {
                snapshot.document(&from_proto::doc_key(uri)).map(|d| d.text)
            })?;
            Some(SymbolInformation {
                name: hit.name,
                kind,
                tags: None,
                deprecated: None,
                location,
                container_name: hit.container,
            })
        })
        .collect();
    Ok(Some(WorkspaceSymbolResponse::Flat(symbols)))
}

/// The parent of each symbol in the outline: its syntactic parent, or else the top-level type its
/// container names (a method in a Rust `impl Point` block goes under `struct Point`).
fn outline_parents(symbols: &[crate::syntax::Symbol]) -> Vec<Option<usize>> {
    use crate::syntax::SymbolKind as K;
    let is_type = |k: K| {
        matches!(
            k,
            K::Struct | K::Class | K::Enum | K::Trait | K::Interface | K::Type
        )
    };
    symbols
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.parent.filter(|&p| p < i).or_else(|| {
                let container = s.container.as_deref()?;
                symbols.iter().enumerate().position(|(j, t)| {
                    j != i && t.parent.is_none() && is_type(t.kind) && t.name == container
                })
            })
        })
        .collect()
}

/// Handles `textDocument/documentSymbol`: a tree of symbols for an open document.
pub fn document_symbol(
    state: &ServerState,
    params: DocumentSymbolParams,
) -> Result<Option<DocumentSymbolResponse>> {
    let uri = &params.text_document.uri;
    let Some(doc) = state.snapshot().document(&from_proto::doc_key(uri)) else {
        return Ok(None);
    };
    let language = Language::from_lsp_id(&doc.language_id)
        .or_else(|| from_proto::path(uri).and_then(|p| Language::from_path(&p)));
    let Some(language) = language else {
        return Ok(Some(DocumentSymbolResponse::Nested(Vec::new())));
    };
    let text = doc.text.to_string();
    // A C header that holds C++ is read as C++, as the index reads it.
    let symbols = document_symbols(language_of_text(language, &text), &text);
    let encoding = state.encoding();
    let parents = outline_parents(&symbols);
    let mut nodes: Vec<Option<DocumentSymbol>> = symbols
        .iter()
        .map(|s| {
            #[allow(deprecated)] // `deprecated` is a required field of the type.
            Some(DocumentSymbol {
                name: s.name.clone(),
                detail: (!s.signature.is_empty()).then(|| s.signature.clone()),
                kind: to_proto::symbol_kind(s.kind),
                tags: None,
                deprecated: None,
                range: to_proto::range(&doc.text, s.byte_range.clone(), encoding),
                selection_range: to_proto::range(&doc.text, s.name_range.clone(), encoding),
                children: None,
            })
        })
        .collect();
    // Move children into their parents, last first, so that siblings keep their order.
    for i in (0..symbols.len()).rev() {
        // A parent that has itself moved already keeps the child at the top level: no symbol is lost.
        let Some(parent) = parents[i].filter(|&p| nodes[p].is_some()) else {
            continue;
        };
        if let Some(child) = nodes[i].take()
            && let Some(parent) = nodes[parent].as_mut()
        {
            parent
                .children
                .get_or_insert_with(Vec::new)
                .insert(0, child);
        }
    }
    Ok(Some(DocumentSymbolResponse::Nested(
        nodes.into_iter().flatten().collect(),
    )))
}
