//! The names of the commands augur serves through `workspace/executeCommand`.
//!
//! A leaf module: the capabilities advertise these names, code actions hand them out, and the
//! `execute_command` handler runs them, so each of those imports this module and none of them
//! imports another (which made `state` → `capabilities` → `execute_command` a loop).

/// Rewrites a range following an instruction.
pub const REWRITE_COMMAND: &str = "augur.rewrite";
/// Runs any AI action.
pub const ACTION_COMMAND: &str = "augur.action";
/// Counts an accepted suggestion; completion items carry it, and the editor runs it on accept.
pub const ACCEPTED_COMMAND: &str = "augur.accepted";
/// Answers (and shows) what augur measured, as `augur/metrics` does.
pub const METRICS_COMMAND: &str = "augur.metrics";
/// The commands augur serves.
pub const COMMANDS: [&str; 4] = [
    REWRITE_COMMAND,
    ACTION_COMMAND,
    ACCEPTED_COMMAND,
    METRICS_COMMAND,
];
