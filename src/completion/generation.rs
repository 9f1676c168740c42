//! How much a suggestion may generate: the most tokens to ask for and the time limit, from the
//! one-line/block decision and the room left on the cursor's line.
//!
//! ```
//! use augur::completion::CompletionConfig;
//! use augur::completion::generation::{ONE_LINE_MAX_TOKENS, generation_size};
//! let (tokens, _) = generation_size(&CompletionConfig::default(), false, "    let x = ");
//! assert!(tokens <= ONE_LINE_MAX_TOKENS);
//! ```

use std::time::Duration;

use super::config::CompletionConfig;

/// The most tokens asked for a one-line suggestion: a line of code is rarely longer, and a
/// model that does not stop at the line's end is not left to run on.
pub const ONE_LINE_MAX_TOKENS: u32 = 48;

/// The fewest tokens asked for a one-line suggestion, however far along its line the cursor is.
pub const ONE_LINE_MIN_TOKENS: u32 = 16;

/// How wide a line of code usually gets, in characters (rustfmt stops at 100, black at 88).
const LINE_WIDTH: usize = 100;

/// How long a multi-line suggestion may be generated before the server ends it at the next line
/// break (llama.cpp's `t_max_predict_ms`): a slow model gives the lines it has by then.
pub const BLOCK_GENERATION_LIMIT: Duration = Duration::from_millis(1_000);

/// The same for a one-line suggestion (the line usually ends long before).
pub const LINE_GENERATION_LIMIT: Duration = Duration::from_millis(500);

/// The most tokens to ask for, and the generation time limit, for a suggestion that may span
/// several lines or not, with the cursor's line before it being `line_prefix`. One line gets the
/// room left on it to the usual width at three characters a token (code averages three to four),
/// within [`ONE_LINE_MIN_TOKENS`] and [`ONE_LINE_MAX_TOKENS`]: a small model that never ends
/// its line is stopped where a line would have ended.
pub fn generation_size(
    config: &CompletionConfig,
    multiline: bool,
    line_prefix: &str,
) -> (u32, Duration) {
    if multiline {
        return (config.max_tokens, BLOCK_GENERATION_LIMIT);
    }
    let room = LINE_WIDTH.saturating_sub(line_prefix.chars().count()) / 3;
    let tokens = u32::try_from(room)
        .unwrap_or(u32::MAX)
        .clamp(ONE_LINE_MIN_TOKENS, ONE_LINE_MAX_TOKENS);
    (config.max_tokens.min(tokens), LINE_GENERATION_LIMIT)
}
