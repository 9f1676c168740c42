//! The names of the commands augur serves through `workspace/executeCommand`.
//!
//! A leaf module: the capabilities advertise these names, code actions hand them out, and the
//! `execute_command` handler runs them, so each of those imports this module and none of them
//! imports another (which made `state` → `capabilities` → `execute_command` a loop).

/// Rewrites a range following an instruction.
pub const REWRITE_COMMAND: &str = "augur.rewrite";
/// Runs any AI action.
pub const ACTION_COMMAND: &str = "augur.action";
/// The commands augur serves.
pub const COMMANDS: [&str; 2] = [REWRITE_COMMAND, ACTION_COMMAND];
