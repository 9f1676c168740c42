//! Property tests: no input makes the syntax layer or the tokenizer panic, and chunks always stay
//! inside the text, in order, on character boundaries.

use augur::index::tokenizer::{name_key, words};
use augur::syntax::{
    ChunkOptions, Language, document_symbols, has_new_errors, outline, syntax_error_count,
};
use proptest::prelude::*;

/// Text that looks a little like code, to reach deeper into the grammars than random bytes do.
fn code_like() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "fn ", "def ", "class ", "struct ", "{", "}", "(", ")", "[", "]", "\n", "    ", "\"", "'",
        "/*", "*/", "//", "#", "<", ">", "=", ";", ":", "x", "Foo", "é", "😀", "\0", "\r\n", "`",
        "$", "@", "---", "- ", "<div>", "</",
    ]);
    prop::collection::vec(pieces, 0..200).prop_map(|p| p.concat())
}

fn check(language: Language, text: &str) {
    let options = ChunkOptions {
        max_bytes: 64,
        min_bytes: 8,
    };
    let out = outline(language, text, &options);
    let mut last_end = 0;
    for chunk in &out.chunks {
        assert!(chunk.byte_range.start >= last_end && chunk.byte_range.end <= text.len());
        assert!(
            text.is_char_boundary(chunk.byte_range.start)
                && text.is_char_boundary(chunk.byte_range.end)
        );
        assert!(chunk.start_line <= chunk.end_line);
        last_end = chunk.byte_range.end;
    }
    for symbol in &out.symbols {
        assert!(symbol.byte_range.end <= text.len());
        assert!(symbol.start_line <= symbol.end_line);
    }
    let _ = document_symbols(language, text);
    let _ = syntax_error_count(language, text);
    let _ = has_new_errors(language, "", text);
    let _ = words(text);
    let _ = name_key(text);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048), which in 0..Language::ALL.len()) {
        let text = String::from_utf8_lossy(&bytes);
        check(Language::ALL[which], &text);
    }

    #[test]
    fn code_like_text_never_panics(text in code_like()) {
        for language in Language::ALL {
            check(language, &text);
        }
    }
}
