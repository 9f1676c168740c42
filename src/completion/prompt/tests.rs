//! Unit tests of prompt building: the window, the passage index, identifiers and budgets.

use super::identifiers::{
    KEYWORDS, LONGEST_KEYWORD, identifiers_nearest_last, imported_names, is_keyword,
};
use super::open_documents::{OPEN_DOCUMENT_LINES, PASSAGE_LINES, PASSAGE_STEP, PassageIndex};
use super::window::{line_ends, line_start, piece, slice, text_of, window};
use super::*;
use proptest::prelude::*;

fn approx(text: &str) -> usize {
    text.len().div_ceil(4)
}

/// The window as the rope's line iterator gives it, line by line: the reference for the
/// quicker stretch-copying one.
fn window_by_rope_lines(
    rope: &Rope,
    cursor: usize,
    config: &CompletionConfig,
    count: &dyn Fn(&str) -> usize,
) -> (Range<usize>, Range<usize>, usize, usize) {
    let line = rope.byte_to_line(cursor);
    let next_line_start = line_start(rope, line + 1);
    let rest = piece(rope, cursor..next_line_start);
    let rest = head(&rest, config.suffix_tokens * 4);
    let mut suffix_end = cursor + rest.len();
    let mut suffix_tokens = count(rest);
    if suffix_end == next_line_start {
        for text in rope.lines_at(line + 1) {
            if suffix_end >= rope.len_bytes() {
                break;
            }
            let tokens = count(&text_of(text));
            if suffix_tokens + tokens > config.suffix_tokens {
                break;
            }
            suffix_tokens += tokens;
            suffix_end += text.len_bytes();
        }
    }
    let limit = config.prefix_tokens + config.suffix_tokens.saturating_sub(suffix_tokens);
    let this_line_start = line_start(rope, line);
    let before = piece(rope, this_line_start..cursor);
    let before = tail(&before, limit * 4);
    let mut prefix_start = cursor - before.len();
    let mut prefix_tokens = count(before);
    if prefix_start == this_line_start {
        let mut lines = rope.lines_at(line);
        while let Some(text) = lines.prev() {
            let tokens = count(&text_of(text));
            if prefix_tokens + tokens > limit {
                break;
            }
            prefix_tokens += tokens;
            prefix_start -= text.len_bytes();
        }
    }
    (
        prefix_start..cursor,
        cursor..suffix_end,
        prefix_tokens,
        suffix_tokens,
    )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 400,
        rng_seed: proptest::test_runner::RngSeed::Fixed(7),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Lines of every length with LF, CR and CRLF breaks, small budgets, and counters from
    /// one token per byte to one per 32 bytes (so that a line may outgrow the copied stretch).
    #[test]
    fn the_window_matches_the_rope_line_by_line(
        lines in proptest::collection::vec(("[a-z é]{0,60}", 0..4u8), 0..60),
        at in 0.0..1.0f64,
        prefix_tokens in 0..200usize,
        suffix_tokens in 0..80usize,
        per_token in prop::sample::select(vec![1usize, 4, 16, 32]),
    ) {
        let text: String = lines
            .iter()
            .map(|(line, br)| format!("{line}{}", ["\n", "\r", "\r\n", ""][*br as usize]))
            .collect();
        let rope = Rope::from_str(&text);
        let cursor = clamp_cursor(&rope, (text.len() as f64 * at) as usize);
        let config = CompletionConfig { prefix_tokens, suffix_tokens, ..CompletionConfig::default() };
        let count = move |t: &str| t.len().div_ceil(per_token);
        let input = PromptInput {
            rope: &rope,
            cursor,
            path: None,
            language: None,
            config: &config,
            indexes: &[],
            open_documents: &[],
            policy: &Arc::new(Policy::of_indexes(&[])),
        };
        let got = window(&input, cursor, &count);
        let want = window_by_rope_lines(&rope, cursor, &config, &count);
        prop_assert_eq!(
            (got.prefix, got.suffix, got.prefix_tokens, got.suffix_tokens),
            want
        );
    }
}

#[test]
fn line_ends_follow_the_rope_s_line_breaks() {
    assert_eq!(line_ends("a\nb\r\nc\rd"), vec![2, 5, 7, 8]);
    assert_eq!(line_ends("\r\n\n"), vec![2, 3]);
    assert!(line_ends("").is_empty());
    assert_eq!(
        imported_names(&Rope::from_str("use foo::Bar;\rimport baz\r\nx = 1\n")),
        vec!["baz".to_string(), "Bar".to_string(), "foo".to_string()]
    );
}

fn built(text: &str, cursor: usize, config: &CompletionConfig) -> BuiltPrompt {
    let rope = Rope::from_str(text);
    build_prompt(
        &PromptInput {
            rope: &rope,
            cursor,
            path: None,
            language: Some(Language::Rust),
            config,
            indexes: &[],
            open_documents: &[],
            policy: &Arc::new(Policy::of_indexes(&[])),
        },
        &approx,
    )
}

#[test]
fn prefix_and_suffix_join_to_the_window_and_respect_budgets() {
    let mut text = String::new();
    for i in 0..200 {
        text.push_str(&format!("let value_{i} = {i};\n"));
    }
    let cursor = text.len() / 2;
    let config = CompletionConfig {
        prefix_tokens: 50,
        suffix_tokens: 20,
        ..CompletionConfig::default()
    };
    let b = built(&text, cursor, &config);
    // The suffix's unused budget goes to the prefix.
    assert_eq!(b.prefix_budget.limit, 50 + 20 - b.suffix_budget.used);
    assert!(b.prefix_budget.used <= b.prefix_budget.limit);
    assert!(
        b.prefix_budget.used + 8 > b.prefix_budget.limit,
        "{:?}",
        b.prefix_budget
    );
    assert!(b.suffix_budget.used <= 20, "{:?}", b.suffix_budget);
    assert_eq!(b.prefix_range.end, b.suffix_range.start);
    assert_eq!(&text[b.prefix_range.clone()], b.prefix_text);
    assert_eq!(&text[b.suffix_range.clone()], b.suffix_text);
    // Whole lines, except the cursor's own.
    assert!(b.prefix_range.start == 0 || text[..b.prefix_range.start].ends_with('\n'));
}

#[test]
fn out_of_range_cursors_are_clamped() {
    let b = built("é", 1, &CompletionConfig::default());
    assert_eq!(b.prefix_text, "");
    let b = built("ab", 99, &CompletionConfig::default());
    assert_eq!(b.prefix_text, "ab");
    assert_eq!(b.suffix_text, "");
}

#[test]
fn keywords_are_sorted_lowercase_and_matched_in_any_case() {
    assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    assert!(
        KEYWORDS
            .iter()
            .all(|k| *k == k.to_ascii_lowercase() && k.len() <= LONGEST_KEYWORD)
    );
    assert!(is_keyword("Self") && is_keyword("IMPLEMENTS") && is_keyword("str"));
    assert!(!is_keyword("implementsx") && !is_keyword("rect"));
}

/// The best passage by scanning every passage's text, as prompt building once did.
fn best_by_scanning(rope: &Rope, query: &[&str]) -> Option<(usize, usize)> {
    let lines = rope.len_lines().min(OPEN_DOCUMENT_LINES);
    let mut best: Option<(usize, usize)> = None;
    let mut start = 0;
    while start < lines {
        let end = (start + PASSAGE_LINES).min(lines);
        let text = slice(rope, line_start(rope, start)..line_start(rope, end));
        let words: FxHashSet<String> = identifiers_nearest_last(&text).into_iter().collect();
        let shared = query.iter().filter(|q| words.contains(**q)).count();
        if shared > 0 && best.is_none_or(|(b, _)| shared > b) {
            best = Some((shared, start));
        }
        start += PASSAGE_STEP;
    }
    best
}

#[test]
fn the_passage_index_finds_the_passage_a_scan_finds() {
    let names = ["alpha", "beta_x", "Gamma", "delta9", "self", "eps"];
    let mut text = String::new();
    let mut seed = 7u64;
    for line in 0..2_300 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let a = names[(seed >> 33) as usize % names.len()];
        let b = names[(seed >> 45) as usize % names.len()];
        match seed >> 60 {
            0..=5 => text.push_str(&format!("let {a} = {b}({line});\n")),
            6..=9 => text.push('\n'),
            10..=12 => text.push_str(&format!("    {a}.{a}_{line} 9{b}\r\n")),
            _ => text.push_str("}\n"),
        }
    }
    let rope = Rope::from_str(&text);
    let index = PassageIndex::new(&rope);
    let queries: [&[&str]; 5] = [
        &["alpha"],
        &["Gamma", "beta_x"],
        &["delta9", "alpha", "beta_x", "Gamma"],
        &["alpha_17", "alpha_1200", "eps"],
        &["nothing"],
    ];
    for query in queries {
        assert_eq!(
            index.best(query),
            best_by_scanning(&rope, query),
            "{query:?}"
        );
    }
    let short = Rope::from_str("fn one() {}\nlet two_words = 2;");
    let index = PassageIndex::new(&short);
    assert_eq!(index.best(&["two_words"]), Some((1, 0)));
    assert_eq!(PassageIndex::new(&Rope::new()).best(&["x"]), None);
}

#[test]
fn identifiers_are_nearest_first_without_keywords() {
    assert_eq!(
        identifiers_nearest_last("let area = rect.width * rect.height; fn x"),
        vec!["height", "rect", "width", "area"]
    );
}
