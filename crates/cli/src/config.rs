//! The configuration file: what Dialtone should do (the crisis playbook,
//! where notifications go). How to run it (addresses, directories, speeds)
//! stays on the command line. Reference: docs/configuration.md.

use std::path::Path;

use dialtone_notify::NotifyConfig;
use dialtone_respond::Playbook;
use serde::Deserialize;

use crate::cmd::UsageError;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub playbook: Playbook,
    pub notify: NotifyConfig,
}

impl Config {
    /// Reads `path`, or the defaults without one. A missing file, bad TOML,
    /// an unknown key or a value that cannot work (an unparsable URL, an
    /// interval out of range, two mitigations of one name) is a usage error
    /// naming the file and the key: found at start, not when an incident
    /// needs it.
    pub fn load(path: Option<&Path>) -> Result<Config, UsageError> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            UsageError(format!(
                "cannot read the configuration file {}: {e}; `examples/dialtone.toml` is one to \
                 start from, and docs/configuration.md explains every key",
                path.display()
            ))
        })?;
        let config: Config =
            toml::from_str(&text).map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        let invalid = |e: &dyn std::fmt::Display| UsageError(format!("{}: {e}", path.display()));
        config.playbook.validate().map_err(|e| invalid(&e))?;
        config.notify.validate().map_err(|e| invalid(&e))?;
        // A pager for a level the playbook's escalation never reaches would
        // never be paged.
        let unreachable = (config.playbook.escalation.len().checked_sub(1)).and_then(|top| {
            (config.notify.pagers.iter().enumerate())
                .find(|(_, pager)| !pager.pages_at(top))
                .map(|(i, pager)| (i, pager, top))
        });
        if let Some((i, pager, top)) = unreachable {
            return Err(UsageError(format!(
                "{}: notify.pagers.from_escalation_level: pager {} ({}) waits for a level the \
                 playbook's escalation never reaches (its last is {top}): lower the level, or \
                 add a target to playbook.escalation",
                path.display(),
                i + 1,
                pager.name(),
            )));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_example_configuration_loads() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/dialtone.toml");
        let config = Config::load(Some(&example)).expect("examples/dialtone.toml is valid");
        assert!(config.notify.smtp.is_some());
        assert!(!config.playbook.mitigations.is_empty());
    }

    #[test]
    fn values_that_cannot_work_are_errors_naming_the_file_and_the_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("dialtone.toml");
        for (text, key) in [
            (
                "[playbook]\nescalate_after_secs = 0\n",
                "playbook.escalate_after_secs",
            ),
            (
                "[[playbook.mitigations]]\nname = \"drain\"\n[[playbook.mitigations]]\nname = \"drain\"\n",
                "playbook.mitigations",
            ),
            ("[notify]\nbase_url = \"not a url\"\n", "notify.base_url"),
            (
                "[[notify.pagers]]\nkind = \"alertmanager\"\nurl = \"not a url\"\n",
                "notify.pagers.url",
            ),
            (
                "[playbook]\nescalation = [\"noc\", \"duty-manager\"]\n\
                 [[notify.pagers]]\nkind = \"alertmanager\"\nurl = \"http://127.0.0.1:9093/\"\n\
                 from_escalation_level = 2\n",
                "notify.pagers.from_escalation_level",
            ),
        ] {
            std::fs::write(&path, text).expect("writes");
            let err = Config::load(Some(&path)).expect_err("refused");
            assert!(
                err.0.starts_with(&format!("{}: {key}: ", path.display())),
                "{}",
                err.0
            );
        }
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[playbook]\nauto_publish = \"major\"\n").expect("writes");
        let err = Config::load(Some(&path)).expect_err("refused");
        assert!(
            err.0.contains("bad.toml") && err.0.contains("auto_publish"),
            "{}",
            err.0
        );
    }
}
