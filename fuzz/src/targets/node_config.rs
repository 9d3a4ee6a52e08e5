//! A node's config file (`waybill_config`), as `waybill run` reads it: TOML, with `WAYBILL_*`
//! environment overrides, then the checks of its values. The input is the file, optionally
//! preceded by `NAME=value` lines and a `---` line (the environment).
//!
//! - reading never panics: a refusal is a typed `ConfigError`;
//! - what is accepted passes the value checks, and writes back (`to_toml`, what `waybill init`
//!   writes) to a file that reads as the very same config, with no environment.

use std::path::Path;

use waybill_config::NodeConfig;

/// Where the fuzzed file is said to be: its relative paths resolve against `/fuzz`.
const PATH: &str = "/fuzz/config.toml";

pub fn run(data: &[u8]) {
    let Some(text) = super::text(data) else {
        return;
    };
    let (env, file) = match text.split_once("\n---\n") {
        Some((vars, file)) => (environment(vars), file),
        None => (Vec::new(), text),
    };
    let path = Path::new(PATH);
    match NodeConfig::parse_with_env(path, file, &env) {
        Ok(cfg) => {
            cfg.check_values()
                .expect("an accepted config passes the value checks");
            let written = cfg.to_toml();
            let back = NodeConfig::parse_with_env(path, &written, &[]).unwrap_or_else(|e| {
                panic!("the written config does not read back: {e}\n{written}")
            });
            assert_eq!(back, cfg, "written and read back:\n{written}");
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
        }
    }
}

/// `NAME=value` lines; others are skipped, as the process environment would not hold them.
fn environment(vars: &str) -> Vec<(String, String)> {
    vars.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The round trip is reached: the seeds written as tools write configs are accepted, with
    /// and without an environment, and the ones meant to be refused are.
    #[test]
    fn seeds_reach_both_sides() {
        let seeds = crate::seeds::all()
            .into_iter()
            .find(|(name, _)| *name == "node_config")
            .expect("node_config seeds")
            .1;
        let accepted: Vec<bool> = seeds
            .iter()
            .map(|s| {
                let text = std::str::from_utf8(s).unwrap();
                let (env, file) = match text.split_once("\n---\n") {
                    Some((vars, file)) => (environment(vars), file),
                    None => (Vec::new(), text),
                };
                NodeConfig::parse_with_env(Path::new(PATH), file, &env).is_ok()
            })
            .collect();
        assert_eq!(accepted, [true, true, true, true, false, false, false]);
    }
}
