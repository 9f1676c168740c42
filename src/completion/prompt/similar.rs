//! Similar code as a retrieval source: the index's chunks most like the text before the cursor.

use std::sync::Arc;

use crate::index::WorkspaceIndex;

use super::{Candidate, ContextSources, PartKind};

/// Chunks of the indexes similar to `query`, from the files `sources` admits.
pub(super) fn similar_candidates(
    indexes: &[Arc<WorkspaceIndex>],
    sources: &ContextSources<'_>,
    query: &str,
    limit: usize,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    if limit == 0 {
        return out;
    }
    for index in indexes {
        // More than needed (chunks of other languages are left out), ordered by score, then path
        // and line, then cut: chunks that tie at the limit are not left to the order the index
        // happened to store them in.
        let hits = match index.similar_chunks(query, sources.current, limit.saturating_mul(4)) {
            Ok(mut hits) => {
                hits.retain(|hit| sources.related(hit.language));
                hits.sort_by(|a, b| {
                    b.score
                        .total_cmp(&a.score)
                        .then_with(|| a.rel_path.cmp(&b.rel_path))
                        .then(a.start_line.cmp(&b.start_line))
                });
                hits.truncate(limit);
                hits
            }
            Err(error) => {
                tracing::debug!(%error, "similar-chunk lookup failed; going on without");
                continue;
            }
        };
        for hit in hits {
            if !sources.admits(&hit.path, hit.language) {
                continue;
            }
            let Some(text) = hit.text.clone().filter(|t| !t.trim().is_empty()) else {
                continue;
            };
            out.push(Candidate {
                kind: PartKind::Similar,
                source: format!("{}:{}", hit.rel_path, hit.start_line + 1),
                path: hit.path,
                body: if text.ends_with('\n') {
                    text
                } else {
                    text + "\n"
                },
            });
        }
    }
    out
}
