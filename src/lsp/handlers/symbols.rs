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

use crate::index::Hit;
use crate::lsp::state::ServerState;
use crate::lsp::{from_proto, to_proto};
use crate::syntax::{Language, document_symbols};

/// The most workspace symbols returned.
const WORKSPACE_SYMBOL_LIMIT: usize = 128;

/// Runs `query` against every index on a blocking thread and merges the hits, best first.
pub(crate) async fn across_indexes(
    state: &ServerState,
    query: impl Fn(&crate::index::WorkspaceIndex) -> Vec<Hit> + Send + 'static,
    limit: usize,
) -> Vec<Hit> {
    let indexes = state.indexes();
    let hits = tokio::task::spawn_blocking(move || {
        let mut hits: Vec<Hit> = indexes.iter().flat_map(|index| query(index)).collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits.truncate(limit);
        hits
    })
    .await;
    hits.unwrap_or_default()
}

/// Handles `workspace/symbol`.
pub async fn workspace_symbol(
    state: &Arc<ServerState>,
    params: WorkspaceSymbolParams,
) -> Result<Option<WorkspaceSymbolResponse>> {
    let query = params.query;
    let hits = across_indexes(
        state,
        move |index| {
            index
                .workspace_symbols(&query, WORKSPACE_SYMBOL_LIMIT)
                .unwrap_or_default()
        },
        WORKSPACE_SYMBOL_LIMIT,
    )
    .await;
    let encoding = state.encoding();
    let mut texts = to_proto::FileTexts::default();
    #[allow(deprecated)] // `deprecated` is a required field of the type.
    let symbols = hits
        .into_iter()
        .filter_map(|hit| {
            let kind = to_proto::symbol_kind(hit.kind?);
            let location = texts.location(&hit.path, hit.byte_range.clone(), encoding, |uri| {
                state.document(&from_proto::doc_key(uri)).map(|d| d.text)
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

/// Handles `textDocument/documentSymbol`: a tree of symbols for an open document.
pub fn document_symbol(
    state: &ServerState,
    params: DocumentSymbolParams,
) -> Result<Option<DocumentSymbolResponse>> {
    let uri = &params.text_document.uri;
    let Some(doc) = state.document(&from_proto::doc_key(uri)) else {
        return Ok(None);
    };
    let language = Language::from_lsp_id(&doc.language_id)
        .or_else(|| from_proto::path(uri).and_then(|p| Language::from_path(&p)));
    let Some(language) = language else {
        return Ok(Some(DocumentSymbolResponse::Nested(Vec::new())));
    };
    let text = doc.text.to_string();
    let symbols = document_symbols(language, &text);
    let encoding = state.encoding();
    // Build the tree bottom-up: children come after their parents in the list.
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
    for i in (0..symbols.len()).rev() {
        let Some(parent) = symbols[i].parent.filter(|&p| p < i) else {
            continue;
        };
        if let Some(child) = nodes[i].take() {
            if let Some(parent) = nodes[parent].as_mut() {
                parent
                    .children
                    .get_or_insert_with(Vec::new)
                    .insert(0, child);
            }
        }
    }
    Ok(Some(DocumentSymbolResponse::Nested(
        nodes.into_iter().flatten().collect(),
    )))
}
