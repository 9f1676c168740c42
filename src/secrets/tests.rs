//! A table of realistic fake secrets that must be found, one or more per kind and syntax, and a
//! table of near misses from ordinary code that must not; redaction and restoring.
//!
//! The fakes are assembled from pieces (`concat!`, generated key bodies) so that no secret
//! scanner takes this file for a leak.

use std::sync::Arc;

use super::*;

const AWS: &str = concat!("AKIA", "QX7Z3M5B", "T2WP9LKD");
const AWS_SESSION: &str = concat!("ASIA", "Y4TR2WQ8", "ZK5N3BLP");
const GITHUB: &str = concat!("ghp_", "8fK2mQ9xR4tL7vB1nC6", "zH3jW5pY0sD2gA8eU4");
const GITHUB_APP: &str = concat!("ghs_", "Lp3kR8vN2xQ7", "mW4tY9bC1zH6jD5sF0gAx2Ke");
const GITHUB_PAT: &str = concat!(
    "github_",
    "pat_",
    "11ABCDE2F0",
    "xK4mP9qR2tV7wY3zB8nC5d_",
    "Hf6jL1sG0aE4uI9oT2yW7rQ3"
);
const SLACK: &str = concat!(
    "xox",
    "b-",
    "2849301756-",
    "4719283746512-",
    "Zq8Lm3Nv7Bx2Cw9Rt4Ky"
);
const STRIPE: &str = concat!("sk_", "live_", "51Hx8YzQ2", "bCdEfGh7IjKlMnOp");
const STRIPE_RESTRICTED: &str = concat!("rk_", "live_", "9Tq2Wv7Xy", "3Za8Bc4De5Fg");
const OPENAI: &str = concat!(
    "sk-",
    "proj-",
    "Ab3dEf6hIj9kLm2nOp5q",
    "Rs8tUv1wXy4zQ7cV0bN"
);
const OPENAI_LEGACY: &str = concat!("sk-", "Tq9Lw2Xe7", "Rb4Kd8Yp3Mz6", "Nc1Vf5Hg0Js7Ua2Wi");
const ANTHROPIC: &str = concat!(
    "sk-",
    "ant-",
    "api03-",
    "Xy7Zb2Qw9Er4Ty6Ui1Op3",
    "As5Df8Gh0JkLmNb-Vc2AA"
);
const GOOGLE: &str = concat!("AIza", "SyB3xK9mQ2wE7", "rT5yU1iO4pA6sD8fG0hJ2k");
const JWT: &str = concat!(
    "eyJ",
    "hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
    ".eyJ",
    "zdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFkYSJ9",
    ".Xq3vL8mN2",
    "bT7wR4yK9pZ1cF6hJ0sD5gA"
);
const HEX_SECRET: &str = concat!("a8f5f167f4", "4f4964e6c9", "98dee827110c");
const MIXED_SECRET: &str = concat!("Qm7xR2pL9v", "Kt4Wz8Nc3B");

/// A private key body: 8 lines of 64 base64 characters from a fixed pseudo-random sequence.
fn key_body(line_end: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut out = String::new();
    for _ in 0..8 {
        for _ in 0..64 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            out.push(ALPHABET[(state % 64) as usize] as char);
        }
        out.push_str(line_end);
    }
    out
}

fn pem(label: &str, line_end: &str) -> String {
    let dashes = "-----";
    format!(
        "{dashes}BEGIN {label}PRIVATE KEY{dashes}{line_end}{}{dashes}END {label}PRIVATE KEY{dashes}",
        key_body(line_end)
    )
}

/// Texts that hold one secret, the secret's exact text, and its kind.
fn secrets() -> Vec<(String, String, Kind)> {
    let pem_rsa = pem("RSA ", "\n");
    let pem_json = pem("", "\\n");
    let pem_openssh = pem("OPENSSH ", "\n");
    let service_body = pem("", "\\n") + "\\n";
    let service_account = format!(
        "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"quasar-4242\",\n  \
         \"private_key\": \"{service_body}\",\n  \"client_email\": \"a@b.iam.gserviceaccount.com\"\n}}\n"
    );
    let python_concat = format!(
        "KEY = (\n    \"{}\\n\"\n{}    \"{}\\n\"\n)\n",
        "-----BEGIN EC PRIVATE KEY-----",
        key_body("\n")
            .lines()
            .map(|l| format!("    \"{l}\\n\"\n"))
            .collect::<String>(),
        "-----END EC PRIVATE KEY-----"
    );
    let python_body: String = python_concat
        [python_concat.find("-----BEGIN").unwrap()..python_concat.rfind("-----").unwrap() + 5]
        .to_owned();
    let mut table = vec![
        (format!("{pem_rsa}\n"), pem_rsa.clone(), Kind::PrivateKey),
        (
            format!("{{\"key\": \"{pem_json}\\n\"}}"),
            pem_json.clone(),
            Kind::PrivateKey,
        ),
        (
            format!("ssh_key: |\n  {}\n", pem_openssh.replace('\n', "\n  ")),
            pem_openssh.replace('\n', "\n  "),
            Kind::PrivateKey,
        ),
        (python_concat.clone(), python_body, Kind::PrivateKey),
        (service_account, service_body, Kind::GcpServiceAccount),
        (
            format!("AWS_ACCESS_KEY_ID={AWS}\n"),
            AWS.into(),
            Kind::AwsAccessKey,
        ),
        (
            format!("creds = {{'id': '{AWS_SESSION}'}}"),
            AWS_SESSION.into(),
            Kind::AwsAccessKey,
        ),
        (
            format!("git clone https://{GITHUB}@github.com/o/r"),
            GITHUB.into(),
            Kind::GithubToken,
        ),
        (
            format!("headers = {{\"Authorization\": \"token {GITHUB_APP}\"}}"),
            GITHUB_APP.into(),
            Kind::GithubToken,
        ),
        (
            format!("export GH={GITHUB_PAT}\n"),
            GITHUB_PAT.into(),
            Kind::GithubToken,
        ),
        (
            format!("client = WebClient(\"{SLACK}\")"),
            SLACK.into(),
            Kind::SlackToken,
        ),
        (
            format!("stripe.api_key = \"{STRIPE}\""),
            STRIPE.into(),
            Kind::StripeKey,
        ),
        (
            format!("const k = `{STRIPE_RESTRICTED}`;"),
            STRIPE_RESTRICTED.into(),
            Kind::StripeKey,
        ),
        (
            format!("OpenAI(api_key=\"{OPENAI}\")"),
            OPENAI.into(),
            Kind::OpenAiKey,
        ),
        (
            format!("curl -H 'x: {OPENAI_LEGACY}'"),
            OPENAI_LEGACY.into(),
            Kind::OpenAiKey,
        ),
        (
            format!("Anthropic(api_key='{ANTHROPIC}')"),
            ANTHROPIC.into(),
            Kind::AnthropicKey,
        ),
        (
            format!("<script src=\"https://maps.example.com/js?key={GOOGLE}&v=3\">"),
            GOOGLE.into(),
            Kind::GoogleApiKey,
        ),
        (
            format!("fetch(url, {{headers: {{Authorization: `Bearer {JWT}`}}}})"),
            JWT.into(),
            Kind::Jwt,
        ),
        (format!("access_token = \"{JWT}\"\n"), JWT.into(), Kind::Jwt),
        (
            format!("API_KEY = \"{HEX_SECRET}\"\n"),
            HEX_SECRET.into(),
            Kind::SecretValue,
        ),
        (
            format!("{{\"client_secret\": \"{MIXED_SECRET}\"}}"),
            MIXED_SECRET.into(),
            Kind::SecretValue,
        ),
        (
            format!("DB_PASSWORD={MIXED_SECRET}\n"),
            MIXED_SECRET.into(),
            Kind::SecretValue,
        ),
        (
            format!("database:\n  password: {MIXED_SECRET}  # prod\n"),
            MIXED_SECRET.into(),
            Kind::SecretValue,
        ),
        (
            format!("const API_TOKEN: &str = \"{MIXED_SECRET}\";"),
            MIXED_SECRET.into(),
            Kind::SecretValue,
        ),
        (
            format!("const config = {{ apiKey: '{MIXED_SECRET}', region }};"),
            MIXED_SECRET.into(),
            Kind::SecretValue,
        ),
        (
            format!("$clientSecret = '{HEX_SECRET}';"),
            HEX_SECRET.into(),
            Kind::SecretValue,
        ),
        (
            format!("private static final String APIKEY = \"{MIXED_SECRET}\";"),
            MIXED_SECRET.into(),
            Kind::SecretValue,
        ),
        (
            format!("apiKey := \"{HEX_SECRET}\""),
            HEX_SECRET.into(),
            Kind::SecretValue,
        ),
        (
            format!("'passphrase' => '{MIXED_SECRET}',"),
            MIXED_SECRET.into(),
            Kind::SecretValue,
        ),
        (
            format!("token: str = \"{MIXED_SECRET}\""),
            MIXED_SECRET.into(),
            Kind::SecretValue,
        ),
    ];
    // Each one inside ordinary code.
    let wrapped: Vec<_> = table
        .iter()
        .map(|(text, secret, kind)| {
            (
                format!("import os\n\ndef main():\n    return 1\n\n{text}\nprint(main())\n"),
                secret.clone(),
                *kind,
            )
        })
        .collect();
    table.extend(wrapped);
    table
}

#[test]
fn every_fake_secret_is_found_with_its_kind_and_exact_range() {
    for (text, secret, kind) in secrets() {
        let found = find(&text);
        assert_eq!(found.len(), 1, "one secret in {text:?}: {found:?}");
        assert_eq!(&text[found[0].range.clone()], secret, "in {text:?}");
        assert_eq!(found[0].kind, kind, "in {text:?}");
        assert!(contains_secret(&text), "{text:?}");
    }
}

#[test]
fn near_misses_in_ordinary_code_are_not_secrets() {
    let dashes = "-----";
    let near_misses = [
        "password = input()".to_owned(),
        "api_key = os.environ[\"X\"]".into(),
        "api_key = os.environ.get(\"OPENAI_API_KEY\")".into(),
        "token = get_token()".into(),
        "const token = await getAccessTokenFromEnvironment();".into(),
        "SECRET_KEY = os.getenv(\"SECRET_KEY\")".into(),
        "secret_key = settings.SECRET_KEY_FROM_ENVIRONMENT".into(),
        "password = \"\"".into(),
        "password = \"hunter2\"".into(),
        "api_key = \"YOUR_API_KEY_HERE\"".into(),
        "api_key = \"your-api-key-goes-here\"".into(),
        "token = \"${GITHUB_TOKEN_FROM_SECRETS}\"".into(),
        "password = f\"{user_name}{user_suffix}\"".into(),
        "cache_key = \"user_profile_v2_settings\"".into(),
        "csrf_token = \"csrfmiddlewaretoken\"".into(),
        "PRIMARY_KEY = \"HttpServerConnectionName\"".into(),
        "key = \"some.module.path.name\"".into(),
        "SECRET_KEY_PATH = \"/etc/app/keys/secret.key\"".into(),
        "token_url = \"https://oauth2.example.com/token\"".into(),
        "account_token = \"12345678901234567890\"".into(),
        format!("monkey = \"{HEX_SECRET}\""),
        format!("public_key = \"{MIXED_SECRET}\""),
        format!("STRIPE_PUBLISHABLE_KEY = \"pk_live_{MIXED_SECRET}\""),
        "api_key: str = Field(default=None)".into(),
        "let token = tokens.next();".into(),
        "RegEnumKey = win32api.RegEnumKey\n".into(),
        "for key, value in items.items():".into(),
        "from sklearn import sk-learn-compatible-estimators".into(),
        "pip install sk-learn-compatible-estimators-2".into(),
        "task-runner-configuration-for-everything".into(),
        format!("if line.startswith(\"{dashes}BEGIN RSA PRIVATE KEY{dashes}\"):"),
        format!(
            "BEGIN = \"{dashes}BEGIN PRIVATE KEY{dashes}\"\nEND = \"{dashes}END PRIVATE KEY{dashes}\"\n"
        ),
        "AKIA123".into(),
        format!("{AWS}X"),
        format!("X{AWS}"),
        "ghp_short".into(),
        "xoxb-token-here".into(),
        "sk_live_".into(),
        concat!("sk_", "test_", "4eC39HqLyjWDarjtT1zdp7dc").into(),
        "AIzaShort".into(),
        format!("jwt.decode(\"{JWT}\")"),
        "AWS_REGION = \"us-east-1\"".into(),
        "password_hash = \"pbkdf2_sha256$260000$abc\"".into(),
        "fn token_kind(&self) -> TokenKind { self.kind }".into(),
        "let password_input = PasswordInput::new(\"enter-your-password-here\");".into(),
        "{\"key\": \"home.title.welcome_message\", \"token\": \"PUNCTUATION\"}".into(),
    ];
    for text in &near_misses {
        assert_eq!(find(text), [], "{text}");
        assert!(!contains_secret(text), "{text}");
    }
    // Ordinary code: this crate's own sources hold no secret.
    for source in [
        include_str!("../lib.rs"),
        include_str!("../llm/client/mod.rs"),
        include_str!("../llm/client/attempts.rs"),
        include_str!("../llm/client/endpoints.rs"),
        include_str!("../llm/client/errors.rs"),
        include_str!("../llm/client/probe.rs"),
        include_str!("../llm/client/sharing.rs"),
        include_str!("../llm/client/stream.rs"),
        include_str!("../index/store/mod.rs"),
        include_str!("../index/store/open.rs"),
        include_str!("../index/store/build.rs"),
        include_str!("../index/store/update.rs"),
        include_str!("../index/store/commit.rs"),
        include_str!("../completion/prompt/mod.rs"),
        include_str!("../completion/prompt/definitions.rs"),
        include_str!("../completion/prompt/identifiers.rs"),
        include_str!("../completion/prompt/open_documents.rs"),
        include_str!("../completion/prompt/paths.rs"),
        include_str!("../completion/prompt/similar.rs"),
        include_str!("../completion/prompt/window.rs"),
    ] {
        assert_eq!(find(source), []);
    }
}

#[test]
fn a_key_block_cut_by_the_end_or_the_start_of_a_text_is_found() {
    let block = pem("", "\n");
    let cut = block.find("\n-----END").unwrap() - 100;
    let (head, tail) = block.split_at(cut);
    let found = find(head);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].range, 0..head.len());
    let found = find(tail);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].range, 0..tail.len());
}

#[test]
fn redaction_names_each_value_and_restores_it() {
    let text = format!(
        "a = \"{AWS}\"\nb = \"{AWS_SESSION}\"\nc = \"{AWS}\"\nd = \"{GITHUB}\"\n<redacted:github-token>\n"
    );
    let inputs = [text.as_str()];
    let mut redactor = Redactor::new(&inputs);
    let sent = redactor.redact(&text).unwrap();
    assert_eq!(
        sent,
        "a = \"<redacted:aws-access-key>\"\nb = \"<redacted:aws-access-key-2>\"\n\
         c = \"<redacted:aws-access-key>\"\nd = \"<redacted:github-token-2>\"\n\
         <redacted:github-token>\n",
        "the same value has the same placeholder; one the text holds already is not used"
    );
    assert_eq!(redactor.redact("nothing here"), None);
    let redactions = redactor.finish();
    assert_eq!(redactions.len(), 3);
    assert_eq!(
        redactions.restore(&sent),
        text,
        "restoring gives the text back"
    );
    assert_eq!(
        redactions.restore("x <redacted:stripe-key> <redacted:aws-access-key"),
        "x <redacted:stripe-key> <redacted:aws-access-key",
        "unknown and unfinished placeholders stay"
    );
}

#[test]
fn a_secret_across_the_cursor_is_found_in_the_pair() {
    let before = format!("id = \"{}", &AWS[..9]);
    let after = format!("{}\"\ntoken = \"{GITHUB}\"\n", &AWS[9..]);
    let inputs = [before.as_str(), after.as_str()];
    let mut redactor = Redactor::new(&inputs);
    let (b, a) = redactor.redact_pair(&before, &after).unwrap();
    assert_eq!(b, "id = \"<redacted:aws-access-key>");
    assert_eq!(a, "\"\ntoken = \"<redacted:github-token>\"\n");
    let redactions = redactor.finish();
    assert_eq!(redactions.restore(&b), format!("id = \"{AWS}"));
    assert_eq!(
        Redactor::new(&inputs).redact_pair("fn a() {", "}\n"),
        None,
        "clean texts"
    );
}

#[test]
fn a_streamed_answer_gets_values_back_across_pieces() {
    let text = format!("k = \"{AWS}\"\n");
    let inputs = [text.as_str()];
    let mut redactor = Redactor::new(&inputs);
    let sent = redactor.redact(&text).unwrap();
    let redactions = Arc::new(redactor.finish());
    let reply = format!("x = 1 < 2\n{sent}y = \"<redacted:other>\" <redac");
    for size in 1..reply.len() {
        let mut out = String::new();
        let mut restore_each = StreamRestore::new(Arc::clone(&redactions));
        for piece in reply.as_bytes().chunks(size) {
            out += &restore_each.push(std::str::from_utf8(piece).unwrap());
        }
        out += &restore_each.finish();
        assert_eq!(
            out,
            format!("x = 1 < 2\n{text}y = \"<redacted:other>\" <redac"),
            "pieces of {size}"
        );
    }
    let mut restore = StreamRestore::new(redactions);
    assert_eq!(restore.push("a <red"), "a ");
    assert_eq!(restore.push("acted:aws-access-key> b"), format!("{AWS} b"));
    assert_eq!(restore.finish(), "");
}

#[test]
fn many_markers_and_keys_in_one_text_are_each_found() {
    let block = pem("", "\n");
    let bundle = [block.as_str(); 3].join("\n");
    let found = find(&bundle);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.iter().all(|f| bundle[f.range.clone()] == block));
    // Markers with no body, many of them: none is a key.
    let dashes = "-----";
    let markers =
        format!("{dashes}BEGIN PRIVATE KEY{dashes}{dashes}END PRIVATE KEY{dashes}").repeat(20_000);
    assert_eq!(find(&markers), []);
}
