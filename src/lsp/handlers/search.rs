//! `augur/search`: ranked search of the workspace index, for editors and for people.
//!
//! Request: `{"query": "parse http request", "limit": 10, "kinds": ["function"], "paths": ["src/**"]}`
//! (`limit`, `kinds` and `paths` are optional). Reply: a list of
//! `{"uri", "range", "kind", "name", "container", "snippet", "score"}`, best first; `kind` is
//! `null` for a chunk of code.

use std::sync::Arc;

use tower_lsp_server::jsonrpc::Result;

use crate::index::SearchQuery;
use crate::lsp::ext::{SearchHit, SearchParams};
use crate::lsp::handlers::invalid_params;
use crate::lsp::handlers::symbols::on_indexes;
use crate::lsp::state::ServerState;
use crate::lsp::{from_proto, to_proto};
use crate::syntax::SymbolKind;

/// Handles `augur/search`.
pub async fn search(state: &Arc<ServerState>, params: SearchParams) -> Result<Vec<SearchHit>> {
    let kinds = params
        .kinds
        .iter()
        .map(|k| SymbolKind::parse(k).ok_or_else(|| invalid_params(format!("unknown kind {k:?}"))))
        .collect::<Result<Vec<_>>>()?;
    let limit = params.limit.unwrap_or(20).clamp(1, 200);
    let query = SearchQuery {
        text: params.query,
        limit,
        kinds,
        paths: params.paths,
    };
    let snapshot = state.snapshot();
    let hits = on_indexes(&snapshot, move |snapshot| snapshot.search(&query)).await;
    let encoding = state.encoding();
    let mut texts = to_proto::FileTexts::default();
    Ok(hits
        .into_iter()
        .filter_map(|hit| {
            let location = texts.location(&hit.path, hit.byte_range.clone(), encoding, |uri| {
                snapshot.document(&from_proto::doc_key(uri)).map(|d| d.text)
            })?;
            Some(SearchHit {
                uri: location.uri,
                range: location.range,
                kind: hit.kind.map(|k| k.as_str().to_owned()),
                name: hit.name,
                container: hit.container,
                snippet: hit.snippet,
                score: hit.score,
            })
        })
        .collect())
}
