//! The patterns behind [`super::find`]: provider formats and private key markers in one regular
//! expression (checked match by match), key blocks read around their markers, and assignments of
//! secret-looking values to secret names.
//!
//! Both expressions work on bytes without Unicode classes, and both start with literals, so the
//! regex crate's prefilter skips the text between candidates at memory speed.

use std::ops::Range;
use std::sync::LazyLock;

use memchr::memmem;
use regex::bytes::Regex;

use super::{FoundSecret, Kind};

/// Provider formats and private key markers. A match is only a candidate: [`token`] checks it.
const TOKENS: &str = concat!(
    r"(?-u)",
    r"A(?:KIA|SIA)[A-Z0-9]{16}",
    r"|gh[pousr]_[A-Za-z0-9]{36,251}",
    r"|github_pat_[A-Za-z0-9_]{22,255}",
    r"|xox[baprs]-[0-9]{6,}-[A-Za-z0-9-]{8,250}",
    r"|[rs]k_live_[A-Za-z0-9]{16,247}",
    r"|sk-[A-Za-z0-9_-]{20,250}",
    r"|AIza[0-9A-Za-z_-]{35}",
    r"|-----(?:BEGIN|END)[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----",
    r"|[Bb]earer[ \t]+eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    r#"|"private_key"[ \t]*:[ \t]*""#,
);

/// A secret name's last word, an optional closing quote (a JSON or dictionary key), an optional
/// type (`: &str`, `: string`), an assignment operator, and a literal value: quoted, or bare up to
/// the end of the line, a comment, `;` or `,` (so `get_token()` or `os.environ["X"]` never
/// match). Groups 1 to 4 are the value.
const ASSIGNMENT: &str = concat!(
    r"(?i-u)(?:key|secret|token|passw(?:or)?d|pwd|passphrase|credentials?)",
    r#"["']?[ \t]*"#,
    r"(?::[ \t]*&?(?:'static[ \t]+)?[A-Za-z_][A-Za-z0-9_:<>]*[ \t]*)?",
    r"(?::=|=>|[:=])[ \t]*",
    r#"(?:"([!#-\[\]-~]{16,512})"|'([!-&(-\[\]-~]{16,512})'|`([!-\[\]-_a-~]{16,512})`"#,
    r"|([A-Za-z0-9+/=_.~-]{16,512})[ \t]*(?:[\r\n#;,]|\z))",
);

static TOKENS_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(TOKENS).expect("the token patterns compile"));
static ASSIGNMENT_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(ASSIGNMENT).expect("the assignment pattern compiles"));

/// Fewest characters of a value assigned to a secret name that can be a secret.
const MIN_VALUE: usize = 16;
/// Longest run of base64 characters a private key block needs (its lines have 64).
const MIN_KEY_RUN: usize = 32;
/// How far from a marker a private key block is looked for.
const KEY_SPAN: usize = 32 * 1024;
/// Lowest Shannon entropy (bits per character) of a hexadecimal value, and of any other value.
const HEX_ENTROPY: f64 = 3.0;
const ENTROPY: f64 = 3.5;

/// Names written as one word that end in a secret word (`apikey`, `CLIENTSECRET`).
const COMPOUNDS: &[&[u8]] = &[
    b"apikey",
    b"apisecret",
    b"apitoken",
    b"appkey",
    b"appsecret",
    b"accesskey",
    b"secretkey",
    b"privatekey",
    b"signingkey",
    b"masterkey",
    b"authkey",
    b"authtoken",
    b"accesstoken",
    b"refreshtoken",
    b"sessiontoken",
    b"bearertoken",
    b"clienttoken",
    b"clientsecret",
    b"dbpassword",
    b"adminpassword",
    b"rootpassword",
    b"userpassword",
];

/// Values that are placeholders, not secrets (compared lowercased).
const PLACEHOLDERS: &[&[u8]] = &[
    b"example",
    b"placeholder",
    b"changeme",
    b"change_me",
    b"your_",
    b"your-",
    b"xxxxx",
    b"redacted",
    b"dummy",
];

/// Calls `on` with each secret of `text` in the order found (provider formats first); stops when
/// `on` returns false.
pub(super) fn scan(text: &str, on: &mut dyn FnMut(FoundSecret) -> bool) {
    let bytes = text.as_bytes();
    let mut service_account = None;
    let mut at = 0;
    while let Some(m) = TOKENS_RE.find_at(bytes, at) {
        at = m.end();
        if let Some(found) = token(bytes, m.range(), &mut service_account) {
            at = at.max(found.range.end);
            if !on(found) {
                return;
            }
        }
    }
    let mut locations = ASSIGNMENT_RE.capture_locations();
    let mut at = 0;
    while let Some(m) = ASSIGNMENT_RE.captures_read_at(&mut locations, bytes, at) {
        at = m.end();
        let Some((group, (start, end))) = (1..=4).find_map(|i| Some((i, locations.get(i)?))) else {
            continue;
        };
        let word = m.start()..m.start() + secret_word_len(&bytes[m.start()..]);
        if !name_is_secret(bytes, word) {
            continue;
        }
        if let Some(kind) = secret_value(&bytes[start..end], group == 4)
            && !on(FoundSecret {
                range: start..end,
                kind,
            })
        {
            return;
        }
    }
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Whether the byte before `at` lets a token start there (nothing, or not a word character).
fn starts_word(bytes: &[u8], at: usize) -> bool {
    at == 0 || !is_word(bytes[at - 1])
}

/// Whether the byte at `at` lets a token end there.
fn ends_word(bytes: &[u8], at: usize) -> bool {
    bytes.get(at).is_none_or(|b| !is_word(*b) && *b != b'-')
}

fn has(bytes: &[u8], test: fn(&u8) -> bool) -> bool {
    bytes.iter().any(test)
}

/// Checks one match of [`TOKENS`] and says what it is.
fn token(bytes: &[u8], m: Range<usize>, service_account: &mut Option<bool>) -> Option<FoundSecret> {
    let text = &bytes[m.clone()];
    if text.starts_with(b"-----BEGIN") {
        return private_key_after(bytes, m).map(|range| FoundSecret {
            range,
            kind: Kind::PrivateKey,
        });
    }
    if text.starts_with(b"-----END") {
        return private_key_before(bytes, m).map(|range| FoundSecret {
            range,
            kind: Kind::PrivateKey,
        });
    }
    if text.starts_with(b"\"private_key\"") {
        let value = m.end..string_end(bytes, m.end);
        let service_account = *service_account
            .get_or_insert_with(|| memmem::find(bytes, b"\"service_account\"").is_some());
        return (service_account && value.len() >= MIN_VALUE).then_some(FoundSecret {
            range: value,
            kind: Kind::GcpServiceAccount,
        });
    }
    if !starts_word(bytes, m.start) {
        return None;
    }
    let digits = has(text, u8::is_ascii_digit);
    let kind = match text {
        [b'A', b'K' | b'S', b'I', b'A', ..] => {
            ends_word(bytes, m.end).then_some(Kind::AwsAccessKey)?
        }
        [b'A', b'I', b'z', b'a', ..] => {
            (ends_word(bytes, m.end) && digits).then_some(Kind::GoogleApiKey)?
        }
        [b'B' | b'b', ..] => {
            let jwt = memmem::find(text, b"eyJ")? + m.start;
            return Some(FoundSecret {
                range: jwt..m.end,
                kind: Kind::Jwt,
            });
        }
        [b'g', b'h' | b'i', ..] => digits.then_some(Kind::GithubToken)?,
        [b'x', b'o', b'x', ..] => Kind::SlackToken,
        [_, b'k', b'_', ..] => digits.then_some(Kind::StripeKey)?,
        // `sk-`: random keys mix digits with both cases; `sk-learn-estimators` does not.
        _ => {
            let body = &text[3..];
            if !(digits && has(body, u8::is_ascii_uppercase) && has(body, u8::is_ascii_lowercase)) {
                return None;
            }
            if text.starts_with(b"sk-ant-") {
                Kind::AnthropicKey
            } else {
                Kind::OpenAiKey
            }
        }
    };
    Some(FoundSecret { range: m, kind })
}

/// Where the JSON string starting at `at` ends (its closing quote), or the end of the text.
fn string_end(bytes: &[u8], at: usize) -> usize {
    let mut i = at;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Bytes a private key block may hold between its markers: base64, whitespace, the quotes,
/// escapes and concatenation of a string literal spread over lines, and the `Name: value`
/// headers of an encrypted key.
const KEY_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'+' | b'/'
                    | b'='
                    | b' '
                    | b'\t'
                    | b'\r'
                    | b'\n'
                    | b'\\'
                    | b'"'
                    | b'\''
                    | b'`'
                    | b','
                    | b':'
                    | b'-'
            );
        b += 1;
    }
    table
};

fn is_base64(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'=')
}

/// The longest run of base64 bytes in `bytes`.
fn longest_base64_run(bytes: &[u8]) -> usize {
    let (mut longest, mut run) = (0, 0);
    for &b in bytes {
        run = if is_base64(b) { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// The private key block whose `BEGIN` marker is `header`: to its `END` marker when only key
/// bytes lie between, else as far as key bytes go (a block cut by the end of a piece of text).
/// `None` when no key body follows (a marker in code that parses keys). The body is looked for
/// only up to the next marker, so many markers cost no more than one pass over the text.
fn private_key_after(bytes: &[u8], header: Range<usize>) -> Option<Range<usize>> {
    let limit = (header.end + KEY_SPAN).min(bytes.len());
    let next = memmem::find(&bytes[header.end..limit], b"-----").map_or(limit, |i| header.end + i);
    let between = &bytes[header.end..next];
    let body_len = between
        .iter()
        .position(|b| !KEY_BYTES[*b as usize])
        .unwrap_or(between.len());
    let body = &between[..body_len];
    if longest_base64_run(body) < MIN_KEY_RUN {
        return None;
    }
    if body_len == between.len() && bytes[next..].starts_with(b"-----END") {
        let after = next + 8;
        let search = &bytes[after..(after + 64).min(bytes.len())];
        let close = memmem::find(search, b"-----").map_or(after, |at| after + at + 5);
        return Some(header.start..close);
    }
    let last = body
        .iter()
        .rposition(|b| is_base64(*b))
        .map_or(0, |i| i + 1);
    Some(header.start..header.end + last)
}

/// The key body before an `END` marker that has no `BEGIN` in this text (a block cut by the start
/// of a piece of text), with the marker. `None` when no key body precedes it. The body is looked
/// for only back to the previous marker.
fn private_key_before(bytes: &[u8], footer: Range<usize>) -> Option<Range<usize>> {
    let from = footer.start.saturating_sub(KEY_SPAN);
    let from = memmem::rfind(&bytes[from..footer.start], b"-----").map_or(from, |i| from + i + 5);
    let window = &bytes[from..footer.start];
    let body_start = window
        .iter()
        .rposition(|b| !KEY_BYTES[*b as usize])
        .map_or(0, |i| i + 1);
    let body = &window[body_start..];
    if longest_base64_run(body) < MIN_KEY_RUN {
        return None;
    }
    let first = body.iter().position(|b| is_base64(*b)).unwrap_or(0);
    Some(from + body_start + first..footer.end)
}

/// The length of the secret word a match of [`ASSIGNMENT`] starts with.
fn secret_word_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|b| !b.is_ascii_alphabetic())
        .unwrap_or(bytes.len())
}

/// Whether the secret word at `word` ends a secret name: a word of its own (`api_key`,
/// `"password"`, `db.secret`), a camel-case word (`apiKey`), or a known compound (`apikey`);
/// not the end of another word (`monkey`) nor a public key.
fn name_is_secret(bytes: &[u8], word: Range<usize>) -> bool {
    let mut start = word.start;
    while start > 0 && (is_word(bytes[start - 1]) || matches!(bytes[start - 1], b'-' | b'.')) {
        start -= 1;
    }
    let name = bytes[start..word.end].to_ascii_lowercase();
    if memmem::find(&name, b"public").is_some() || memmem::find(&name, b"publishable").is_some() {
        return false;
    }
    let Some(&before) = bytes[..word.start].last() else {
        return true;
    };
    if !before.is_ascii_alphanumeric() {
        return true;
    }
    if (before.is_ascii_lowercase() || before.is_ascii_digit())
        && bytes[word.start].is_ascii_uppercase()
    {
        return true;
    }
    let mut part = word.start;
    while part > 0 && bytes[part - 1].is_ascii_alphanumeric() {
        part -= 1;
    }
    let part = bytes[part..word.end].to_ascii_lowercase();
    COMPOUNDS.contains(&part.as_slice())
}

/// What a literal assigned to a secret name is, if it is a secret: a JSON web token, or a value
/// that looks random (long enough, not a template or an expression, not a placeholder, not words
/// joined by separators, of high entropy). A `bare` value (not quoted) is not a secret when it is a
/// qualified name (`win32api.RegEnumKey`).
fn secret_value(value: &[u8], bare: bool) -> Option<Kind> {
    if value.len() < MIN_VALUE
        || value
            .iter()
            .any(|b| matches!(b, b'{' | b'}' | b'<' | b'>' | b'(' | b')' | b'%' | b'\\'))
        || value.starts_with(b"$")
        || memmem::find(value, b"://").is_some()
    {
        return None;
    }
    let lower = value.to_ascii_lowercase();
    if PLACEHOLDERS
        .iter()
        .any(|p| memmem::find(&lower, p).is_some())
    {
        return None;
    }
    if is_jwt(value) {
        return Some(Kind::Jwt);
    }
    if is_words(value) || (bare && is_qualified_name(value)) {
        return None;
    }
    let hex = value.iter().all(|b| b.is_ascii_hexdigit() || *b == b'-');
    let threshold = if hex { HEX_ENTROPY } else { ENTROPY };
    (entropy(value) >= threshold).then_some(Kind::SecretValue)
}

/// `eyJ….eyJ….…`: a JSON web token.
fn is_jwt(value: &[u8]) -> bool {
    let mut parts = value.split(|b| *b == b'.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    header.starts_with(b"eyJ")
        && claims.starts_with(b"eyJ")
        && !signature.is_empty()
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `a.b.c` where each part is an identifier: code, not a value.
fn is_qualified_name(value: &[u8]) -> bool {
    value.contains(&b'.')
        && value.split(|b| *b == b'.').all(|part| {
            part.first()
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
                && part.iter().all(|b| is_word(*b))
        })
}

/// Whether every part of `value` between separators is a word (`user_profile_v2`,
/// `HttpServerName`, `2024`), as in identifiers, paths and settings, unlike random keys.
fn is_words(value: &[u8]) -> bool {
    value
        .split(|b| !b.is_ascii_alphanumeric())
        .all(|part| part.len() <= 3 || is_word_part(part))
}

/// Digits, or letters in one case or in camel case, with digits before or after them (`x25519`,
/// `sha256`, `128bit`).
fn is_word_part(part: &[u8]) -> bool {
    let leading = part.iter().take_while(|b| b.is_ascii_digit()).count();
    let part = &part[leading..];
    let trailing = if leading == 0 {
        part.iter().rev().take_while(|b| b.is_ascii_digit()).count()
    } else {
        0
    };
    let part = &part[..part.len() - trailing];
    if !part.iter().all(u8::is_ascii_alphabetic) {
        return false;
    }
    let mut i = 0;
    while i < part.len() && part[i].is_ascii_uppercase() {
        i += 1;
    }
    while i < part.len() && part[i].is_ascii_lowercase() {
        i += 1;
    }
    while i < part.len() {
        // An upper-case letter that starts a word of at least two lower-case letters.
        i += 1;
        let start = i;
        while i < part.len() && part[i].is_ascii_lowercase() {
            i += 1;
        }
        if i - start < 2 {
            return false;
        }
    }
    true
}

/// Shannon entropy of `bytes`, in bits per byte.
fn entropy(bytes: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_patterns_compile() {
        assert!(TOKENS_RE.is_match(concat!("AKIA", "QX7Z3M5BT2WP9LKD").as_bytes()));
        assert!(ASSIGNMENT_RE.is_match(b"api_key = \"a8f5f167f44f4964e6c998dee827110c\""));
    }

    #[test]
    fn words_and_random_values() {
        for words in [
            "user_profile_v2_settings",
            "HTTPServerName",
            "csrfmiddlewaretoken",
            "module.submodule.function_name",
            "get_access_token_from_environment",
            "1234567890123456",
            "prod2024",
            "x25519_generate_private_key",
            "sha256",
            "128bit",
        ] {
            assert!(is_words(words.as_bytes()), "{words}");
        }
        for random in [
            "a8f5f167f44f4964e6c998dee827110c",
            "QxWvBnMkLpZr7c2D",
            "abc123def456ghi7",
        ] {
            assert!(!is_words(random.as_bytes()), "{random}");
        }
    }

    #[test]
    fn entropy_is_in_bits_per_byte() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert!((entropy(b"0123456789abcdef") - 4.0).abs() < 1e-9);
    }
}
