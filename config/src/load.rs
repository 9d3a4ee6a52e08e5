//! Reading a config: the file, then `WAYBILL_<SECTION>_<KEY>` environment overrides, then the
//! checks of every value. Every error names where the bad value came from: the file (with its
//! line, when the file itself is at fault) or the environment variable.

use std::path::Path;

use super::{ConfigError, NodeConfig};

/// The sections an environment variable may override.
pub const SECTIONS: [&str; 6] = ["node", "network", "rpc", "metrics", "mempool", "log"];

/// One `WAYBILL_<SECTION>_<KEY>=value` override.
#[derive(Clone, Debug)]
pub struct Override {
    pub var: String,
    pub raw: String,
    pub section: &'static str,
    pub key: String,
    pub value: toml::Value,
}

impl Override {
    fn apply(&self, table: &mut toml::Table) -> Result<(), ConfigError> {
        let entry = table
            .entry(self.section.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let Some(sect) = entry.as_table_mut() else {
            return Err(self.error(format!(
                "[{}] is not a table in the config file",
                self.section
            )));
        };
        sect.insert(self.key.clone(), self.value.clone());
        Ok(())
    }

    fn error(&self, reason: String) -> ConfigError {
        ConfigError::Env {
            var: self.var.clone(),
            value: self.raw.clone(),
            reason,
        }
    }
}

/// The overrides in `env`. `WAYBILL_RPC_LISTEN=x` sets `[rpc] listen = "x"`. Values parse as
/// TOML (numbers, booleans, arrays) and fall back to a plain string. Only known sections are
/// touched, so unrelated variables such as `WAYBILL_RPC` (a client's node URL) are ignored.
pub fn overrides(env: &[(String, String)]) -> Vec<Override> {
    let mut out = Vec::new();
    for (var, raw) in env {
        let Some(rest) = var.strip_prefix("WAYBILL_") else {
            continue;
        };
        let rest = rest.to_ascii_lowercase();
        let Some(section) = SECTIONS
            .iter()
            .find(|s| rest.len() > s.len() + 1 && rest.starts_with(&format!("{s}_")))
        else {
            continue;
        };
        let key = rest[section.len() + 1..].to_string();
        let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.clone()));
        out.push(Override {
            var: var.clone(),
            raw: raw.clone(),
            section,
            key,
            value,
        });
    }
    out
}

fn deserialize(table: toml::Table) -> Result<NodeConfig, toml::de::Error> {
    toml::Value::Table(table).try_into()
}

/// Parses `text` (the file at `path`) with `overrides` applied; when that fails, blames the
/// override without which it would not, else the file.
pub fn parse(path: &Path, text: &str, overrides: &[Override]) -> Result<NodeConfig, ConfigError> {
    let shown = path.display().to_string();
    let file: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Invalid {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    let with = |skip: Option<usize>| -> Result<toml::Table, ConfigError> {
        let mut t = file.clone();
        for (i, o) in overrides.iter().enumerate() {
            if Some(i) != skip {
                o.apply(&mut t)?;
            }
        }
        Ok(t)
    };
    let err = match deserialize(with(None)?) {
        Ok(cfg) => return Ok(cfg),
        Err(e) => e,
    };
    let reason = err.to_string().trim().to_string();
    for (i, o) in overrides.iter().enumerate() {
        if deserialize(with(Some(i))?).is_ok() {
            return Err(o.error(reason));
        }
    }
    // The file is at fault: its own parse gives the line.
    let reason = match toml::from_str::<NodeConfig>(text) {
        Err(e) if overrides.is_empty() => e.to_string(),
        _ => reason,
    };
    Err(ConfigError::Invalid {
        path: shown,
        reason,
    })
}
