//! Where augur reads and writes outside the workspace folders: the user's configuration file,
//! the directory of the indexes and the usage data.
//!
//! The command line reads them from the environment once ([`Dirs::from_env`]: `AUGUR_CONFIG` or
//! `XDG_CONFIG_HOME`, `AUGUR_CACHE_DIR`, `AUGUR_DATA_DIR`) and hands them to the host, so a host
//! run inside another program (the in-process test harness) has places of its own: it never
//! reads the user's file or writes to the user's directories unless it is given them.
//!
//! ```
//! use augur::dirs::Dirs;
//!
//! // A host given no places reads no user file, records no usage and keeps its indexes where
//! // the configuration says.
//! let none = Dirs::default();
//! assert!(none.user_config.is_none() && none.cache.is_none() && none.usage.is_none());
//! ```

use std::path::PathBuf;

/// The places of one host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dirs {
    /// The user's configuration file (the first configuration layer), if any.
    pub user_config: Option<PathBuf>,
    /// The directory of the indexes; when set it wins over `index.cache_dir`.
    pub cache: Option<PathBuf>,
    /// The directory the usage log is written to; without it usage is not recorded on disk.
    pub usage: Option<PathBuf>,
}

impl Dirs {
    /// The places of the process, from its environment and the user's home.
    pub fn from_env() -> Dirs {
        Dirs {
            user_config: crate::config::user_config_path(),
            cache: std::env::var_os(crate::index::CACHE_DIR_ENV)
                .filter(|dir| !dir.is_empty())
                .map(PathBuf::from),
            usage: Some(crate::llm::usage::usage_dir()),
        }
    }
}
