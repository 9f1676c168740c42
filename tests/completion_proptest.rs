//! Properties of post-processing, type-through and prompt building on arbitrary input: no panics,
//! and a suggestion the streaming form calls complete does not change with more text.

use augur::completion::CompletionConfig;
use augur::completion::postprocess::{PostContext, PostProcessor, process};
use augur::completion::prompt::{PromptInput, build_prompt};
use augur::completion::typethrough::TypeThrough;
use augur::policy::Policy;
use augur::syntax::Language;
use proptest::prelude::*;
use ropey::Rope;
use std::sync::Arc;

fn code() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just(" "),
            Just("    "),
            Just("\t"),
            Just("\n"),
            Just("\r\n"),
            Just("{"),
            Just("}"),
            Just("("),
            Just(")"),
            Just(";"),
            Just(":"),
            Just("x"),
            Just("let a"),
            Just("\""),
            Just("é"),
            Just("😀"),
            Just("```"),
            Just("end"),
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn complete_means_final(
        prefix in code(),
        suffix in code(),
        raw in code(),
        more in code(),
        multiline in any::<bool>(),
    ) {
        let context = PostContext::new(&prefix, &suffix, multiline);
        let mut post = PostProcessor::new(context.clone());
        let full = format!("{raw}{more}");
        if post.push(&raw) {
            // Nothing after the point where it was complete may change the suggestion.
            prop_assert_eq!(post.finish(), process(&context, &full, true).0);
        } else {
            post.push(&more);
            let _ = post.finish();
        }
    }

    #[test]
    fn chat_cleaning_never_panics(prefix in code(), suffix in code(), raw in code()) {
        let mut context = PostContext::new(&prefix, &suffix, true);
        context.chat = true;
        let _ = process(&context, &raw, true);
    }

    #[test]
    fn prompts_and_type_through_take_any_cursor(text in code(), cursor in 0usize..300, typed in code()) {
        let rope = Rope::from_str(&text);
        let config = CompletionConfig { prefix_tokens: 8, suffix_tokens: 4, ..CompletionConfig::default() };
        let built = build_prompt(
            &PromptInput {
                rope: &rope,
                cursor,
                path: None,
                language: Some(Language::Rust),
                config: &config,
                indexes: &[],
                open_documents: &[],
                policy: &Arc::new(Policy::of_indexes(&[])),
            },
            &|s: &str| s.len().div_ceil(4),
        );
        prop_assert_eq!(built.prefix_range.end, built.suffix_range.start);
        prop_assert!(text.is_char_boundary(built.prefix_range.end.min(text.len())));
        let mut shown = TypeThrough::default();
        shown.remember("k", &rope, cursor, &typed);
        let _ = shown.lookup("k", &rope, cursor);
        let _ = shown.lookup("k", &Rope::from_str(&typed), cursor);
    }
}
