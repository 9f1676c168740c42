//! Queries of the index: ranked search, workspace symbols, definitions by name and similar chunks.

use std::collections::HashSet;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Score, Searcher, TantivyDocument, Term};

use super::cache::{QueryCache, StoredDoc};
use super::schema::SYMBOL;
use super::store::{IndexError, WorkspaceIndex};
use super::tokenizer::{name_key, nearest_words, words};
use crate::syntax::{Language, SymbolKind};

/// A search of the index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Free text: identifiers in any case style, words of signatures, docs and code.
    pub text: String,
    /// The most hits returned (0 means 20).
    pub limit: usize,
    /// Only symbols of these kinds (empty: symbols and chunks of any kind).
    pub kinds: Vec<SymbolKind>,
    /// Only files under these paths (relative to the root, `/`-separated; a pattern with `*`, `?`
    /// or `[` is a glob). Empty: everywhere.
    pub paths: Vec<String>,
}

/// One result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// The absolute path of the file.
    pub path: PathBuf,
    /// The path relative to the workspace root, `/`-separated.
    pub rel_path: String,
    /// The file's language.
    pub language: Option<Language>,
    /// The symbol's kind; `None` for a chunk of code.
    pub kind: Option<SymbolKind>,
    /// The symbol's name; for a chunk, the enclosing symbol's name or an empty string.
    pub name: String,
    /// The enclosing symbol of a symbol.
    pub container: Option<String>,
    /// The bytes of the symbol or chunk.
    pub byte_range: Range<usize>,
    /// The first line, 0-based.
    pub start_line: usize,
    /// The last line, 0-based and inclusive.
    pub end_line: usize,
    /// The byte column on `start_line` (of the name, for a symbol).
    pub start_column: usize,
    /// The signature of a symbol.
    pub signature: Option<String>,
    /// The doc comment of a symbol.
    pub doc: Option<String>,
    /// A few lines to show: the signature of a symbol, the best lines of a chunk.
    pub snippet: String,
    /// The whole text of a chunk.
    pub text: Option<String>,
    /// The relevance score (higher is better; comparable within one query only).
    pub score: f32,
}

/// Most terms taken from a text for a similarity search.
const MAX_SIMILARITY_TERMS: usize = 64;

/// Most of those terms a similarity search scores with (the rarest).
const MAX_SCORED_TERMS: usize = 16;

/// Most postings (documents per term, summed) a similarity search scores, past its first term.
const MAX_SCORED_POSTINGS: u64 = 3_000;

/// A name defined in more places than this says little about which definition the code means
/// (`new`, `fmt`, `from`): definitions are looked up for rarer names only.
const MAX_DEFINITION_SITES: u64 = 48;

/// Most definitions (summed over the names) a definition lookup scores.
const MAX_DEFINITION_POSTINGS: u64 = 400;

impl WorkspaceIndex {
    fn term(&self, field: Field, text: &str) -> Term {
        Term::from_field_text(field, text)
    }

    fn term_query(&self, field: Field, text: &str, boost: f32) -> Box<dyn Query> {
        let query: Box<dyn Query> = Box::new(TermQuery::new(
            self.term(field, text),
            IndexRecordOption::WithFreqs,
        ));
        if boost == 1.0 {
            query
        } else {
            Box::new(BoostQuery::new(query, boost))
        }
    }

    fn doc_type_is(&self, doc_type: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(
            self.term(self.fields.doc_type, doc_type),
            IndexRecordOption::Basic,
        ))
    }

    fn kinds_filter(&self, kinds: &[SymbolKind]) -> Box<dyn Query> {
        let clauses = kinds
            .iter()
            .map(|k| -> (Occur, Box<dyn Query>) {
                (
                    Occur::Should,
                    Box::new(TermQuery::new(
                        self.term(self.fields.kind, k.as_str()),
                        IndexRecordOption::Basic,
                    )),
                )
            })
            .collect();
        Box::new(BooleanQuery::new(clauses))
    }

    /// Ranked search over symbol names, signatures, docs and code chunks.
    pub fn search(&self, query: &SearchQuery) -> Result<Vec<Hit>, IndexError> {
        let limit = if query.limit == 0 { 20 } else { query.limit };
        let mut tokens = words(&query.text);
        dedup(&mut tokens);
        if tokens.is_empty() {
            return Ok(Vec::new());
        }
        let f = &self.fields;
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for token in &tokens {
            should.push((Occur::Should, self.term_query(f.name_words, token, 4.0)));
            should.push((Occur::Should, self.term_query(f.signature, token, 1.5)));
            should.push((Occur::Should, self.term_query(f.doc, token, 1.0)));
            should.push((Occur::Should, self.term_query(f.text, token, 1.0)));
        }
        let key = name_key(&query.text);
        if !key.is_empty() {
            should.push((Occur::Should, self.term_query(f.name_key, &key, 12.0)));
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
        if !query.kinds.is_empty() {
            clauses.push((Occur::Must, self.kinds_filter(&query.kinds)));
        }
        let paths = PathFilter::new(&query.paths);
        let fetch = if paths.is_empty() {
            limit
        } else {
            limit * 10 + 50
        };
        let current = self.current();
        let searcher = current.reader.searcher();
        let top = searcher.search_with_statistics_provider(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(fetch).order_by_score(),
            &current.cache.statistics(&searcher),
        )?;
        let exact = query.text.trim();
        let mut hits = Vec::with_capacity(limit);
        for (score, address) in top {
            let mut hit = self.hit(&current.cache, &searcher, address, score, &tokens)?;
            if paths.matches(&hit.rel_path) {
                // The exact spelling ranks above other case styles of the same words.
                if hit.kind.is_some() && hit.name == exact {
                    hit.score *= 1.5;
                }
                hits.push(hit);
                if hits.len() == limit {
                    break;
                }
            }
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(hits)
    }

    /// Symbols whose names match `query` fuzzily (`workspace/symbol`): whole words, prefixes of
    /// words and of the whole name, one typo in longer words. An empty query lists symbols.
    pub fn workspace_symbols(&self, query: &str, limit: usize) -> Result<Vec<Hit>, IndexError> {
        let limit = limit.max(1);
        let f = &self.fields;
        let mut tokens = words(query);
        dedup(&mut tokens);
        let current = self.current();
        let searcher = current.reader.searcher();
        let symbols_only = self.doc_type_is(SYMBOL);
        let query_box: Box<dyn Query> = if tokens.is_empty() {
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, symbols_only),
                (Occur::Must, Box::new(AllQuery)),
            ]))
        } else {
            let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for token in &tokens {
                should.push((Occur::Should, self.term_query(f.name_words, token, 3.0)));
                let distance = if token.chars().count() >= 5 { 1 } else { 0 };
                let fuzzy =
                    FuzzyTermQuery::new_prefix(self.term(f.name_words, token), distance, true);
                should.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(fuzzy), 1.0)),
                ));
            }
            let key = name_key(query);
            if !key.is_empty() {
                should.push((Occur::Should, self.term_query(f.name_key, &key, 10.0)));
                let prefix = FuzzyTermQuery::new_prefix(self.term(f.name_key, &key), 0, true);
                should.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(prefix), 4.0)),
                ));
            }
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, symbols_only),
                (Occur::Must, Box::new(BooleanQuery::new(should))),
            ]))
        };
        let top = searcher.search_with_statistics_provider(
            &query_box,
            &TopDocs::with_limit(limit * 3).order_by_score(),
            &current.cache.statistics(&searcher),
        )?;
        let key = name_key(query);
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let mut hit = self.hit(&current.cache, &searcher, address, score, &tokens)?;
            // Names that contain the query's letters in order rank above mere fuzzy matches.
            if is_subsequence(&key, &name_key(&hit.name)) {
                hit.score *= 2.0;
            }
            hits.push(hit);
        }
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.name.len().cmp(&b.name.len()))
        });
        hits.truncate(limit);
        Ok(hits)
    }

    /// Definitions of these identifiers anywhere in the workspace (by name, any case style),
    /// best first: context for completions that use names defined in other files. Names defined
    /// in more than 48 places are too common to tell which definition is meant and are skipped.
    pub fn definitions(&self, names: &[&str], limit: usize) -> Result<Vec<Hit>, IndexError> {
        self.definitions_outside(names, None, limit)
    }

    /// [`definitions`](Self::definitions) outside one file (usually the one being edited, whose
    /// own definitions a prompt has already): they are left out by the query, so `limit` hits
    /// are all from elsewhere.
    pub fn definitions_outside(
        &self,
        names: &[&str],
        exclude_path: Option<&std::path::Path>,
        limit: usize,
    ) -> Result<Vec<Hit>, IndexError> {
        let f = &self.fields;
        let mut keys: Vec<String> = names
            .iter()
            .map(|n| name_key(n))
            .filter(|k| !k.is_empty())
            .collect();
        dedup(&mut keys);
        if keys.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let current = self.current();
        let searcher = current.reader.searcher();
        // The rarest names first (BM25 ranks their definitions first anyway), while their
        // definitions stay within a budget; names defined nowhere or almost everywhere are left
        // out. Document frequencies come from the cache, so this costs little.
        let all: Vec<Term> = keys.iter().map(|k| self.term(f.name_key, k)).collect();
        let freqs = current.cache.doc_freqs(&searcher, &all)?;
        let mut rare: Vec<(u64, &String)> = freqs
            .into_iter()
            .zip(&keys)
            .filter(|(sites, _)| (1..=MAX_DEFINITION_SITES).contains(sites))
            .collect();
        rare.sort_by_key(|(sites, _)| *sites);
        let mut postings = 0;
        rare.retain(|(sites, _)| {
            postings += sites;
            postings <= MAX_DEFINITION_POSTINGS
        });
        if rare.is_empty() {
            return Ok(Vec::new());
        }
        // Only symbols have a `name_key`: no filter on the document type is needed.
        let query = BooleanQuery::new(
            rare.into_iter()
                .map(|(_, k)| (Occur::Should, self.term_query(f.name_key, k, 1.0)))
                .collect(),
        );
        let query = self.outside(Box::new(query), exclude_path);
        let top = searcher.search_with_statistics_provider(
            &query,
            &TopDocs::with_limit(limit).order_by_score(),
            &current.cache.statistics(&searcher),
        )?;
        top.into_iter()
            .map(|(score, address)| self.hit(&current.cache, &searcher, address, score, &[]))
            .collect()
    }

    /// Definitions of `name` (any case style) in these files only, however common the name:
    /// the files a module-qualified call resolves to say which definition is meant. Best first,
    /// ties broken by path and position so the order never depends on the index's layout.
    pub fn definitions_in_files(
        &self,
        name: &str,
        files: &[&std::path::Path],
        limit: usize,
    ) -> Result<Vec<Hit>, IndexError> {
        let f = &self.fields;
        let key = name_key(name);
        let rels: Vec<String> = files
            .iter()
            .filter_map(|p| self.resolve(p).map(|(rel, _)| rel))
            .collect();
        if key.is_empty() || rels.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let paths = BooleanQuery::new(
            rels.iter()
                .map(|rel| -> (Occur, Box<dyn Query>) {
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(
                            self.term(f.path, rel),
                            IndexRecordOption::Basic,
                        )),
                    )
                })
                .collect(),
        );
        let query = BooleanQuery::new(vec![
            (Occur::Must, self.term_query(f.name_key, &key, 1.0)),
            (Occur::Must, Box::new(paths)),
        ]);
        let current = self.current();
        let searcher = current.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        let mut hits = top
            .into_iter()
            .map(|(score, address)| self.hit(&current.cache, &searcher, address, score, &[]))
            .collect::<Result<Vec<Hit>, IndexError>>()?;
        // The files in the order given (the first is the one the code names), then by position.
        let order = |hit: &Hit| {
            rels.iter()
                .position(|r| *r == hit.rel_path)
                .unwrap_or(usize::MAX)
        };
        hits.sort_by_key(|hit| (order(hit), hit.byte_range.start));
        Ok(hits)
    }

    /// The chunks most similar to `text` by BM25 over code words, excluding a file (usually the
    /// one being edited): context for completions.
    pub fn similar_chunks(
        &self,
        text: &str,
        exclude_path: Option<&std::path::Path>,
        limit: usize,
    ) -> Result<Vec<Hit>, IndexError> {
        let f = &self.fields;
        // The last words are nearest the cursor: keep those when there are too many.
        let tokens = nearest_words(text, 3, MAX_SIMILARITY_TERMS);
        if tokens.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        // The rarest words say the most about the code (BM25 weighs them most), and the long
        // posting lists of common words are what a search spends its time on: score with the
        // rarest few, while their postings stay within a budget (always at least one word). Ties
        // go to the words nearest the cursor.
        let current = self.current();
        let searcher = current.reader.searcher();
        let all: Vec<Term> = tokens.iter().map(|t| self.term(f.text, t)).collect();
        let freqs = current.cache.doc_freqs(&searcher, &all)?;
        let mut terms: Vec<(u64, usize, Term)> = all
            .into_iter()
            .zip(freqs)
            .enumerate()
            .filter(|(_, (_, doc_freq))| *doc_freq > 0)
            .map(|(position, (term, doc_freq))| (doc_freq, position, term))
            .collect();
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        terms.sort_by_key(|(doc_freq, position, _)| (*doc_freq, std::cmp::Reverse(*position)));
        let mut postings = 0;
        let kept = terms
            .iter()
            .take(MAX_SCORED_TERMS)
            .take_while(|(doc_freq, _, _)| {
                postings += doc_freq;
                postings <= MAX_SCORED_POSTINGS
            })
            .count()
            .max(1);
        terms.truncate(kept);
        // Only chunks have a `text`, so a plain union of its terms finds chunks only.
        let query = BooleanQuery::new(
            terms
                .into_iter()
                .map(|(_, _, term)| -> (Occur, Box<dyn Query>) {
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
                    )
                })
                .collect(),
        );
        let query = self.outside(Box::new(query), exclude_path);
        let top = searcher.search_with_statistics_provider(
            &query,
            &TopDocs::with_limit(limit).order_by_score(),
            &current.cache.statistics(&searcher),
        )?;
        top.into_iter()
            .map(|(score, address)| self.hit(&current.cache, &searcher, address, score, &tokens))
            .collect()
    }

    /// The source text of a hit of this index (its bytes in its file), when it is at most
    /// `max_bytes` long; cached until the index changes.
    pub fn source_text(&self, hit: &Hit, max_bytes: usize) -> Option<Arc<str>> {
        let range = hit.byte_range.clone();
        if range.is_empty() || range.len() > max_bytes {
            return None;
        }
        let current = self.current();
        let searcher = current.reader.searcher();
        let path = self.root.join(&hit.rel_path);
        current
            .cache
            .source(&searcher, &hit.rel_path, range.clone(), || {
                // Read only the bytes of the definition, not the whole file.
                use std::io::{Read, Seek, SeekFrom};
                let mut file = std::fs::File::open(&path).ok()?;
                file.seek(SeekFrom::Start(range.start as u64)).ok()?;
                let mut bytes = vec![0; range.len()];
                file.read_exact(&mut bytes).ok()?;
                String::from_utf8(bytes).ok()
            })
    }

    /// The fields of a stored document (from the cache when an earlier query read it).
    fn stored(
        &self,
        cache: &QueryCache,
        searcher: &Searcher,
        address: DocAddress,
    ) -> Result<Arc<StoredDoc>, IndexError> {
        let f = &self.fields;
        let read = || -> tantivy::Result<StoredDoc> {
            let doc: TantivyDocument = searcher.doc(address)?;
            let text = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            let number =
                |field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0) as usize;
            Ok(StoredDoc {
                rel_path: text(f.path).unwrap_or_default(),
                kind: text(f.kind),
                text: text(f.text),
                signature: text(f.signature).filter(|s| !s.is_empty()),
                language: text(f.language),
                name: text(f.name),
                container: text(f.container),
                doc: text(f.doc),
                start_byte: number(f.start_byte),
                end_byte: number(f.end_byte),
                start_line: number(f.start_line),
                end_line: number(f.end_line),
                start_column: number(f.start_column),
            })
        };
        Ok(cache.doc(searcher, address, read)?)
    }

    /// `query` without the documents of one file, when a file is given (and in this index).
    fn outside(
        &self,
        query: Box<dyn Query>,
        exclude_path: Option<&std::path::Path>,
    ) -> BooleanQuery {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, query)];
        if let Some(rel) = exclude_path
            .and_then(|p| self.resolve(p))
            .map(|(rel, _)| rel)
        {
            clauses.push((
                Occur::MustNot,
                Box::new(TermQuery::new(
                    self.term(self.fields.path, &rel),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        BooleanQuery::new(clauses)
    }

    fn hit(
        &self,
        cache: &QueryCache,
        searcher: &Searcher,
        address: DocAddress,
        score: Score,
        tokens: &[String],
    ) -> Result<Hit, IndexError> {
        let stored = self.stored(cache, searcher, address)?;
        let kind = stored.kind.as_deref().and_then(SymbolKind::parse);
        let chunk_text = if kind.is_none() {
            stored.text.clone()
        } else {
            None
        };
        let signature = stored.signature.clone();
        let snippet = match (&signature, &chunk_text) {
            (Some(signature), _) => signature.clone(),
            (None, Some(chunk)) => best_lines(chunk, tokens, 3),
            (None, None) => String::new(),
        };
        Ok(Hit {
            path: self.given_root.join(&stored.rel_path),
            language: stored.language.as_deref().and_then(Language::from_name),
            kind,
            name: stored
                .name
                .clone()
                .or_else(|| stored.container.clone())
                .unwrap_or_default(),
            container: if kind.is_some() {
                stored.container.clone()
            } else {
                None
            },
            byte_range: stored.start_byte..stored.end_byte,
            start_line: stored.start_line,
            end_line: stored.end_line,
            start_column: stored.start_column,
            signature,
            doc: stored.doc.clone(),
            snippet,
            text: chunk_text,
            score,
            rel_path: stored.rel_path.clone(),
        })
    }
}

fn dedup(tokens: &mut Vec<String>) {
    let mut seen = HashSet::new();
    tokens.retain(|t| seen.insert(t.clone()));
}

fn is_subsequence(needle: &str, haystack: &str) -> bool {
    let mut rest = haystack.chars();
    needle.chars().all(|c| rest.any(|h| h == c))
}

/// Up to `count` non-blank lines of a chunk, from the first line that holds a query word.
fn best_lines(text: &str, tokens: &[String], count: usize) -> String {
    // Tokens are lowercase: compare with each line lowercased in one reused buffer.
    let mut lower = String::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        lower.clear();
        lower.push_str(line);
        lower.make_ascii_lowercase();
        if tokens.iter().any(|t| lower.contains(t.as_str())) {
            start = offset;
            break;
        }
        offset += line.len();
    }
    let picked: Vec<&str> = text[start..]
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(count)
        .map(|l| l.trim_end())
        .collect();
    let mut snippet = picked.join("\n");
    if snippet.len() > 400 {
        let mut cut = 400;
        while !snippet.is_char_boundary(cut) {
            cut -= 1;
        }
        snippet.truncate(cut);
    }
    snippet
}

/// Path filters of a search: prefixes and globs.
struct PathFilter {
    prefixes: Vec<String>,
    globs: Option<globset::GlobSet>,
}

impl PathFilter {
    fn new(paths: &[String]) -> PathFilter {
        let mut prefixes = Vec::new();
        let mut builder = globset::GlobSetBuilder::new();
        let mut any_glob = false;
        for path in paths {
            let path = path.trim_start_matches("./");
            if path.contains(['*', '?', '[']) {
                if let Ok(glob) = globset::Glob::new(path) {
                    builder.add(glob);
                    any_glob = true;
                }
            } else {
                prefixes.push(path.trim_end_matches('/').to_string());
            }
        }
        let globs = if any_glob { builder.build().ok() } else { None };
        PathFilter { prefixes, globs }
    }

    fn is_empty(&self) -> bool {
        self.prefixes.is_empty() && self.globs.is_none()
    }

    fn matches(&self, rel: &str) -> bool {
        if self.is_empty() {
            return true;
        }
        self.prefixes
            .iter()
            .any(|p| p.is_empty() || rel == p || rel.starts_with(&format!("{p}/")))
            || self.globs.as_ref().is_some_and(|g| g.is_match(rel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_filters() {
        let filter = PathFilter::new(&["src/".into(), "**/*.py".into()]);
        assert!(filter.matches("src/a.rs"));
        assert!(filter.matches("lib/x/y.py"));
        assert!(!filter.matches("srcx/a.rs"));
        assert!(PathFilter::new(&[]).matches("anything"));
    }

    #[test]
    fn subsequences() {
        assert!(is_subsequence("phr", "parsehttprequest"));
        assert!(!is_subsequence("rp", "pr"));
    }
}
