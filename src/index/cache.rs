//! What the index's queries keep between calls, for the lookups a completion makes on every
//! keystroke: document frequencies (each one a term-dictionary lookup per segment, wanted twice per
//! similarity search: to choose the rarest words, then to weigh them) and stored documents (each
//! one a block of the document store decompressed and parsed), and the source text of the small
//! definitions prompts quote whole (each one a file read).
//!
//! Everything is valid for one searcher generation: the first use under a newer generation (a
//! commit was loaded) empties the cache. Both maps are bounded LRU caches.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard};

use lru::LruCache;
use rustc_hash::FxBuildHasher;
use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::Field;
use tantivy::{DocAddress, Searcher, Term};

/// Most document frequencies kept (a term and a number each).
const DOC_FREQS: usize = 65_536;

/// Most stored documents kept (a chunk of code holds about a kilobyte).
const DOCS: usize = 4_096;

/// Most source texts of definitions kept (small types and constants, read from their files).
const SOURCES: usize = 1_024;

/// The fields of one stored document that hits are made of.
#[derive(Debug, Clone, Default)]
pub(crate) struct StoredDoc {
    pub rel_path: String,
    pub kind: Option<String>,
    pub text: Option<String>,
    pub signature: Option<String>,
    pub language: Option<String>,
    pub name: Option<String>,
    pub container: Option<String>,
    pub doc: Option<String>,
    pub start_byte: usize,
    pub end_byte: usize,
    pub start_line: usize,
    pub end_line: usize,
    pub start_column: usize,
}

struct Inner {
    generation: u64,
    doc_freqs: LruCache<Term, u64, FxBuildHasher>,
    total_tokens: Vec<(Field, u64)>,
    docs: LruCache<DocAddress, Arc<StoredDoc>, FxBuildHasher>,
    sources: LruCache<(String, usize, usize), Option<Arc<str>>, FxBuildHasher>,
}

/// The cache of one index.
pub(crate) struct QueryCache {
    inner: Mutex<Inner>,
}

impl Default for QueryCache {
    fn default() -> Self {
        let cap = |n: usize| NonZeroUsize::new(n).unwrap_or(NonZeroUsize::MIN);
        QueryCache {
            inner: Mutex::new(Inner {
                generation: u64::MAX,
                doc_freqs: LruCache::with_hasher(cap(DOC_FREQS), FxBuildHasher),
                total_tokens: Vec::new(),
                docs: LruCache::with_hasher(cap(DOCS), FxBuildHasher),
                sources: LruCache::with_hasher(cap(SOURCES), FxBuildHasher),
            }),
        }
    }
}

impl QueryCache {
    /// The cache, emptied first if `searcher` is of another generation than what it holds.
    fn for_searcher(&self, searcher: &Searcher) -> MutexGuard<'_, Inner> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let generation = searcher.generation().generation_id();
        if inner.generation != generation {
            inner.generation = generation;
            inner.doc_freqs.clear();
            inner.total_tokens.clear();
            inner.docs.clear();
            inner.sources.clear();
        }
        inner
    }

    /// The number of documents of `searcher` that contain `term`.
    pub fn doc_freq(&self, searcher: &Searcher, term: &Term) -> tantivy::Result<u64> {
        Ok(self.doc_freqs(searcher, std::slice::from_ref(term))?[0])
    }

    /// The number of documents of `searcher` that contain each term, in order (one lock for the
    /// cached ones, the others looked up in the index without it).
    pub fn doc_freqs(&self, searcher: &Searcher, terms: &[Term]) -> tantivy::Result<Vec<u64>> {
        let mut freqs: Vec<Option<u64>> = {
            let mut inner = self.for_searcher(searcher);
            terms
                .iter()
                .map(|t| inner.doc_freqs.get(t).copied())
                .collect()
        };
        let mut found = Vec::new();
        for (term, freq) in terms.iter().zip(&mut freqs) {
            if freq.is_none() {
                let looked_up = searcher.doc_freq(term)?;
                *freq = Some(looked_up);
                found.push((term.clone(), looked_up));
            }
        }
        if !found.is_empty() {
            let mut inner = self.for_searcher(searcher);
            for (term, freq) in found {
                inner.doc_freqs.put(term, freq);
            }
        }
        Ok(freqs.into_iter().map(Option::unwrap_or_default).collect())
    }

    /// A stored document, read with `read` on a miss.
    pub fn doc(
        &self,
        searcher: &Searcher,
        address: DocAddress,
        read: impl FnOnce() -> tantivy::Result<StoredDoc>,
    ) -> tantivy::Result<Arc<StoredDoc>> {
        if let Some(doc) = self.for_searcher(searcher).docs.get(&address) {
            return Ok(Arc::clone(doc));
        }
        let doc = Arc::new(read()?);
        self.for_searcher(searcher)
            .docs
            .put(address, Arc::clone(&doc));
        Ok(doc)
    }

    /// The text of bytes `range` of the file `rel` (relative to the root), read with `read` on a
    /// miss. Files change only through updates of the index, which make a new generation.
    pub fn source(
        &self,
        searcher: &Searcher,
        rel: &str,
        range: std::ops::Range<usize>,
        read: impl FnOnce() -> Option<String>,
    ) -> Option<Arc<str>> {
        let key = (rel.to_string(), range.start, range.end);
        if let Some(text) = self.for_searcher(searcher).sources.get(&key) {
            return text.clone();
        }
        let text: Option<Arc<str>> = read().map(Arc::from);
        self.for_searcher(searcher).sources.put(key, text.clone());
        text
    }

    /// BM25 statistics of `searcher` through this cache.
    pub fn statistics<'a>(&'a self, searcher: &'a Searcher) -> CachedStatistics<'a> {
        CachedStatistics {
            cache: self,
            searcher,
        }
    }
}

/// [`Bm25StatisticsProvider`] over a searcher, with its document frequencies and token totals
/// cached.
pub(crate) struct CachedStatistics<'a> {
    cache: &'a QueryCache,
    searcher: &'a Searcher,
}

impl Bm25StatisticsProvider for CachedStatistics<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        let known = self
            .cache
            .for_searcher(self.searcher)
            .total_tokens
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, n)| *n);
        if let Some(total) = known {
            return Ok(total);
        }
        let total = self.searcher.total_num_tokens(field)?;
        self.cache
            .for_searcher(self.searcher)
            .total_tokens
            .push((field, total));
        Ok(total)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        self.searcher.total_num_docs()
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        self.cache.doc_freq(self.searcher, term)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::index::{IndexConfig, NoProgress, WorkspaceIndex};

    #[test]
    fn stored_documents_are_read_once_per_generation() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.rs"), "fn total_price() {}\n").unwrap();
        let index = WorkspaceIndex::open_in(
            dir.path(),
            &dir.path().join(".idx"),
            &IndexConfig::default(),
        )
        .unwrap();
        index.build(&NoProgress, &Default::default()).unwrap();
        let current = index.current();
        let searcher = current.reader.searcher();
        let address = tantivy::DocAddress::new(0, 0);
        let reads = AtomicUsize::new(0);
        let read = || {
            reads.fetch_add(1, Ordering::SeqCst);
            Ok(super::StoredDoc::default())
        };
        current.cache.doc(&searcher, address, read).unwrap();
        current.cache.doc(&searcher, address, read).unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        let term = tantivy::Term::from_field_text(index.fields.name_key, "totalprice");
        let freq = current.cache.doc_freq(&searcher, &term).unwrap();
        assert_eq!(freq, searcher.doc_freq(&term).unwrap());
        assert_eq!(freq, 1);

        // A commit makes a new generation: what was cached for the old one is forgotten.
        std::fs::write(dir.path().join("b.rs"), "fn total_price() {}\n").unwrap();
        index.build(&NoProgress, &Default::default()).unwrap();
        let searcher = current.reader.searcher();
        current.cache.doc(&searcher, address, read).unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        assert_eq!(current.cache.doc_freq(&searcher, &term).unwrap(), 2);
        assert_eq!(index.definitions(&["total_price"], 5).unwrap().len(), 2);
    }
}
