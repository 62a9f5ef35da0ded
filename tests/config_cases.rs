//! Runs every case of `tests/fixtures/config/cases.yaml` (see the README
//! there) through decode, CLI-style overrides, defaulting and validation.

use kind_sysbox::config;

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    config: String,
    error: Option<String>,
}

/// `KIND_CONFIG_CASES` may name another file of the same format, e.g. one
/// whose expectations were recorded from upstream kind for a differential run.
fn cases() -> Vec<Case> {
    let default = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/config/cases.yaml"
    );
    let path = std::env::var("KIND_CONFIG_CASES").unwrap_or_else(|_| default.to_string());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    serde_yaml::from_str(&text).expect("cases.yaml is a list of {name, config, error?}")
}

/// What `kind create cluster --config` would do with the text, minus the
/// "failed to create cluster: " prefix the CLI adds.
fn outcome(raw: &str) -> Result<config::Cluster, String> {
    let mut cluster = config::parse(raw.as_bytes()).map_err(|e| e.to_string())?;
    config::apply_overrides(&mut cluster, "", None);
    config::set_defaults(&mut cluster);
    config::validate(&cluster).map_err(|e| e.to_string())?;
    Ok(cluster)
}

#[test]
fn every_case_behaves_as_recorded() {
    let cases = cases();
    let mut failures = Vec::new();
    for case in &cases {
        let got = outcome(&case.config).err();
        if got != case.error {
            failures.push(format!(
                "{}:\n  want {:?}\n  got  {:?}",
                case.name, case.error, got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_is_large_and_names_are_unique() {
    let cases = cases();
    let invalid = cases.iter().filter(|c| c.error.is_some()).count();
    assert!(
        cases.len() >= 80 && invalid >= 60,
        "{} cases, {invalid} invalid",
        cases.len()
    );
    let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names must be unique");
}
