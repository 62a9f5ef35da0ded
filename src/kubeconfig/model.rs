//! The kubeconfig model: only the parts kind reads or changes are typed;
//! everything else (unknown fields at any level, entry order) is kept as
//! generic YAML so it is written back verbatim.

use serde_yaml::{Mapping, Value};

use super::encode;

const CLUSTERS: &str = "clusters";
const USERS: &str = "users";
const CONTEXTS: &str = "contexts";
const CURRENT_CONTEXT: &str = "current-context";

/// A parsed kubeconfig.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Config {
    /// `clusters` entries (`name`, `cluster`, anything else), in file order.
    pub clusters: Vec<Mapping>,
    pub users: Vec<Mapping>,
    pub contexts: Vec<Mapping>,
    /// Empty = unset.
    pub current_context: String,
    /// Every other top-level field (`apiVersion`, `kind`, `preferences`, …).
    pub other: Mapping,
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

fn untag(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => untag(&t.value),
        v => v,
    }
}

/// The text of a scalar the way a Go string field would receive it.
fn scalar_text(v: &Value) -> Option<String> {
    match untag(v) {
        Value::Null => Some(String::new()),
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn get<'a>(m: &'a Mapping, key: &str) -> Option<&'a Value> {
    m.get(key)
}

/// The `name` of a cluster/user/context entry ("" when missing).
pub(crate) fn entry_name(entry: &Mapping) -> String {
    get(entry, "name").and_then(scalar_text).unwrap_or_default()
}

/// Checks the fields kind interprets have the types kubectl expects; a file
/// failing this is reported instead of being rewritten.
fn check_entry(
    list: &str,
    index: usize,
    entry: &Mapping,
    body: &str,
    strings: &[&str],
) -> Result<(), String> {
    let at = || format!("{list}[{index}]");
    if let Some(name) = get(entry, "name") {
        if scalar_text(name).is_none() {
            return Err(format!(
                "{}.name must be a string, found {}",
                at(),
                kind_of(name)
            ));
        }
    }
    match get(entry, body).map(untag) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Mapping(m)) => {
            for field in strings {
                if let Some(v) = get(m, field) {
                    if scalar_text(v).is_none() {
                        return Err(format!(
                            "{}.{body}.{field} must be a string, found {}",
                            at(),
                            kind_of(v)
                        ));
                    }
                }
            }
            Ok(())
        }
        Some(other) => Err(format!(
            "{}.{body} must be a mapping, found {}",
            at(),
            kind_of(other)
        )),
    }
}

fn entries(
    list: &str,
    value: &Value,
    body: &str,
    strings: &[&str],
) -> Result<Vec<Mapping>, String> {
    match untag(value) {
        Value::Null => Ok(Vec::new()),
        Value::Sequence(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let entry = match untag(item) {
                    // A null entry decodes to an empty struct upstream.
                    Value::Null => Mapping::new(),
                    Value::Mapping(m) => m.clone(),
                    other => {
                        return Err(format!(
                            "{list}[{i}] must be a mapping, found {}",
                            kind_of(other)
                        ))
                    }
                };
                check_entry(list, i, &entry, body, strings)?;
                Ok(entry)
            })
            .collect(),
        other => Err(format!(
            "\"{list}\" must be a list, found {}",
            kind_of(other)
        )),
    }
}

impl Config {
    /// Parse kubeconfig text. Empty (or comment-only) text is an empty
    /// config. The error is a short description of what is wrong. A leading
    /// UTF-8 byte order mark (Windows editors write one) is skipped, as
    /// kubectl does.
    pub fn parse(text: &str) -> Result<Config, String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        let mut value: Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        value.apply_merge().map_err(|e| e.to_string())?;
        // kubectl reads kubeconfigs through JSON: keys must be scalars.
        crate::yaml::convert::yaml_value_to_json(&value).map_err(|e| e.to_string())?;
        let top = match untag(&value) {
            Value::Null => return Ok(Config::default()),
            Value::Mapping(m) => m,
            other => {
                return Err(format!(
                    "the top level must be a mapping, found {}",
                    kind_of(other)
                ))
            }
        };
        let mut cfg = Config::default();
        for (key, v) in top {
            match key.as_str() {
                Some(CLUSTERS) => cfg.clusters = entries(CLUSTERS, v, "cluster", &["server"])?,
                Some(USERS) => cfg.users = entries(USERS, v, "user", &[])?,
                Some(CONTEXTS) => {
                    cfg.contexts = entries(CONTEXTS, v, "context", &["cluster", "user"])?
                }
                Some(CURRENT_CONTEXT) => {
                    cfg.current_context = scalar_text(v).ok_or_else(|| {
                        format!("\"current-context\" must be a string, found {}", kind_of(v))
                    })?
                }
                _ => {
                    cfg.other.insert(key.clone(), v.clone());
                }
            }
        }
        Ok(cfg)
    }

    /// Encode as upstream does (spec §5.2): sorted keys, empty lists and
    /// an empty current-context omitted, and "" for an empty config.
    pub fn encode(&self) -> String {
        let mut top = self.other.clone();
        let lists = [
            (CLUSTERS, &self.clusters),
            (USERS, &self.users),
            (CONTEXTS, &self.contexts),
        ];
        for (key, list) in lists {
            if !list.is_empty() {
                top.insert(
                    key.into(),
                    Value::Sequence(list.iter().cloned().map(Value::Mapping).collect()),
                );
            }
        }
        if !self.current_context.is_empty() {
            top.insert(
                CURRENT_CONTEXT.into(),
                Value::String(self.current_context.clone()),
            );
        }
        let encoded = encode::to_yaml(&Value::Mapping(top));
        if encoded == "{}\n" {
            String::new()
        } else {
            encoded
        }
    }

    /// kubeadm's admin.conf (and so kind's kubeconfig) has exactly one
    /// cluster, user and context.
    pub fn check_kubeadm_expectations(&self) -> anyhow::Result<()> {
        for (what, n) in [
            ("cluster", self.clusters.len()),
            ("user", self.users.len()),
            ("context", self.contexts.len()),
        ] {
            if n != 1 {
                anyhow::bail!("kubeadm KUBECONFIG should have one {what}, but read {n}");
            }
        }
        Ok(())
    }
}

/// Set `key` in the mapping stored under `field` of `entry`, creating it.
fn set_in_body(entry: &mut Mapping, field: &str, key: &str, value: &str) {
    let body = entry.entry(field.into()).or_insert(Value::Null);
    if !matches!(body, Value::Mapping(_)) {
        *body = Value::Mapping(Mapping::new());
    }
    if let Value::Mapping(m) = body {
        m.insert(key.into(), Value::String(value.into()));
    }
}

fn set_name(entry: &mut Mapping, name: &str) {
    entry.insert("name".into(), Value::String(name.into()));
}

/// kind's kubeconfig from kubeadm's: every entry renamed to `key`, the
/// context pointing at it, current-context set, `server` replaced if given.
pub(crate) fn kind_from_kubeadm(
    mut cfg: Config,
    key: &str,
    server: Option<&str>,
) -> anyhow::Result<Config> {
    cfg.check_kubeadm_expectations()?;
    set_name(&mut cfg.clusters[0], key);
    set_name(&mut cfg.users[0], key);
    set_name(&mut cfg.contexts[0], key);
    set_in_body(&mut cfg.contexts[0], "context", "cluster", key);
    set_in_body(&mut cfg.contexts[0], "context", "user", key);
    cfg.current_context = key.to_string();
    if let Some(server) = server.filter(|s| !s.is_empty()) {
        set_in_body(&mut cfg.clusters[0], "cluster", "server", server);
    }
    Ok(cfg)
}

fn replace_or_append(list: &mut Vec<Mapping>, entry: &Mapping) {
    let name = entry_name(entry);
    let mut replaced = false;
    for existing in list.iter_mut().filter(|e| entry_name(e) == name) {
        *existing = entry.clone();
        replaced = true;
    }
    if !replaced {
        list.push(entry.clone());
    }
}

/// Merge kind's config into `existing` (spec §5.4 step 3).
pub(crate) fn merge(existing: &mut Config, kind: &Config) -> anyhow::Result<()> {
    kind.check_kubeadm_expectations()?;
    replace_or_append(&mut existing.clusters, &kind.clusters[0]);
    replace_or_append(&mut existing.users, &kind.users[0]);
    replace_or_append(&mut existing.contexts, &kind.contexts[0]);
    existing.current_context = kind.current_context.clone();
    // Some clients need apiVersion/kind; only fill them into a file that
    // has no top-level extras of its own.
    if existing.other.is_empty() {
        existing.other = kind.other.clone();
    }
    Ok(())
}

/// Drop the entries named `key` and unset current-context if it is `key`.
/// Returns whether anything changed.
pub(crate) fn remove(cfg: &mut Config, key: &str) -> bool {
    let before = (cfg.clusters.len(), cfg.users.len(), cfg.contexts.len());
    cfg.clusters.retain(|e| entry_name(e) != key);
    cfg.users.retain(|e| entry_name(e) != key);
    cfg.contexts.retain(|e| entry_name(e) != key);
    let mut changed = before != (cfg.clusters.len(), cfg.users.len(), cfg.contexts.len());
    if cfg.current_context == key {
        cfg.current_context.clear();
        changed = true;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of spec §5.2.
    pub(crate) const KIND_KUBECONFIG: &str = "apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: definitelyacert
    server: https://192.168.9.4:6443
  name: kind-kind
contexts:
- context:
    cluster: kind-kind
    user: kind-kind
  name: kind-kind
current-context: kind-kind
kind: Config
preferences: {}
users:
- name: kind-kind
  user:
    client-certificate-data: seemslegit
    client-key-data: yup
";

    fn parse(s: &str) -> Config {
        Config::parse(s).unwrap()
    }

    fn names(list: &[Mapping]) -> Vec<String> {
        list.iter().map(entry_name).collect()
    }

    fn entry(yaml: &str) -> Mapping {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn encode_round_trip_is_byte_identical() {
        assert_eq!(parse(KIND_KUBECONFIG).encode(), KIND_KUBECONFIG);
    }

    #[test]
    fn encode_empty_is_empty_string() {
        assert_eq!(Config::default().encode(), "");
        assert_eq!(parse("").encode(), "");
        assert_eq!(parse("clusters: []\ncurrent-context: \"\"\n").encode(), "");
    }

    #[test]
    fn encode_sorts_and_normalises_unsorted_input() {
        let unsorted = "users:\n    - user: {client-key-data: yup}\n      name: u\nkind: Config\napiVersion: v1\n";
        assert_eq!(
            parse(unsorted).encode(),
            "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    client-key-data: yup\n"
        );
    }

    #[test]
    fn parse_keeps_unknown_fields_at_every_level() {
        let src = "apiVersion: v1\nextensions:\n- name: e\n  extension: {a: 1}\nclusters:\n- name: c\n  extra: kept\n  cluster:\n    server: s\n    x-future: {deep: [1, 2]}\ncontexts:\n- name: c\n  context: {cluster: c, user: u, namespace: ns}\nusers:\n- name: u\n  user:\n    exec: {command: foo, args: [a, b]}\n";
        let cfg = parse(src);
        let out = cfg.encode();
        let reparsed: Value = serde_yaml::from_str(&out).unwrap();
        let orig: Value = serde_yaml::from_str(src).unwrap();
        assert_eq!(reparsed, orig, "{out}");
    }

    #[test]
    fn parse_rejects_what_kubectl_cannot_read() {
        let cases: &[(&str, &str)] = &[
            (
                "just some text",
                "top level must be a mapping, found a string",
            ),
            ("- a\n- b\n", "top level must be a mapping, found a list"),
            (
                "clusters: nope\n",
                "\"clusters\" must be a list, found a string",
            ),
            (
                "clusters:\n- 1\n",
                "clusters[0] must be a mapping, found a number",
            ),
            (
                "clusters:\n- name: a\n  cluster: [1]\n",
                "clusters[0].cluster must be a mapping, found a list",
            ),
            (
                "contexts:\n- name: {a: 1}\n",
                "contexts[0].name must be a string, found a mapping",
            ),
            (
                "contexts:\n- context:\n    user: [x]\n",
                "contexts[0].context.user must be a string, found a list",
            ),
            (
                "current-context: [a]\n",
                "\"current-context\" must be a string, found a list",
            ),
            ("a: [unclosed\n", "did not find expected"),
            ("a: 1\na: 2\n", "duplicate entry"),
        ];
        for (src, want) in cases {
            let err = Config::parse(src).unwrap_err();
            assert!(err.contains(want), "{src:?}: {err}");
        }
    }

    #[test]
    fn parse_skips_a_byte_order_mark() {
        let src = "clusters: [{name: a, cluster: {server: s}}]\n";
        assert_eq!(Config::parse(&format!("\u{feff}{src}")), Config::parse(src));
        assert_eq!(Config::parse("\u{feff}"), Ok(Config::default()));
    }

    #[test]
    fn parse_accepts_empty_and_null_documents() {
        for src in ["", "   \n\t\n", "# just a comment\n", "null\n", "~"] {
            assert_eq!(Config::parse(src), Ok(Config::default()), "{src:?}");
        }
    }

    #[test]
    fn key_and_kubeadm_expectations() {
        assert_eq!(super::super::key("foobar"), "kind-foobar");
        let one = "clusters: [{name: a}]\nusers: [{name: a}]\ncontexts: [{name: a}]\n";
        assert!(parse(one).check_kubeadm_expectations().is_ok());
        let cases: &[(&str, &str)] = &[
            ("", "kubeadm KUBECONFIG should have one cluster, but read 0"),
            (
                "clusters: [{name: a}, {name: b}]\n",
                "kubeadm KUBECONFIG should have one cluster, but read 2",
            ),
            (
                "clusters: [{name: a}]\ncontexts: [{name: a}]\n",
                "kubeadm KUBECONFIG should have one user, but read 0",
            ),
            (
                "clusters: [{name: a}]\nusers: [{name: a}]\ncontexts: [{name: a}, {name: b}]\n",
                "kubeadm KUBECONFIG should have one context, but read 2",
            ),
        ];
        for (src, want) in cases {
            assert_eq!(
                parse(src)
                    .check_kubeadm_expectations()
                    .unwrap_err()
                    .to_string(),
                *want
            );
        }
    }

    fn kind_cfg(name: &str, server: &str) -> Config {
        let key = format!("kind-{name}");
        Config {
            clusters: vec![entry(&format!(
                "name: {key}\ncluster: {{server: {server}}}"
            ))],
            users: vec![entry(&format!("name: {key}\nuser: {{token: t-{name}}}"))],
            contexts: vec![entry(&format!(
                "name: {key}\ncontext: {{cluster: {key}, user: {key}}}"
            ))],
            current_context: key,
            other: entry("apiVersion: v1\nkind: Config\npreferences: {}"),
        }
    }

    #[test]
    fn merge_empty_kind_config_is_an_error() {
        let err = merge(&mut Config::default(), &Config::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "kubeadm KUBECONFIG should have one cluster, but read 0"
        );
    }

    #[test]
    fn merge_into_empty_gives_kind_entries() {
        let mut existing = Config::default();
        merge(&mut existing, &kind_cfg("kind", "https://a")).unwrap();
        assert_eq!(existing, kind_cfg("kind", "https://a"));
    }

    #[test]
    fn merge_replaces_same_name_in_place_and_appends_new() {
        let mut existing = parse(
            "clusters:\n- {name: kind-kind, cluster: {server: old}}\n- {name: other, cluster: {server: o}}\nusers:\n- {name: other, user: {}}\n- {name: kind-kind, user: {token: old}}\ncontexts:\n- {name: other, context: {cluster: other, user: other}}\ncurrent-context: other\nfoo: bar\n",
        );
        merge(&mut existing, &kind_cfg("kind", "https://new")).unwrap();
        assert_eq!(names(&existing.clusters), ["kind-kind", "other"]);
        assert_eq!(
            existing.clusters[0]["cluster"]["server"],
            Value::from("https://new")
        );
        assert_eq!(names(&existing.users), ["other", "kind-kind"]);
        assert_eq!(existing.users[1]["user"]["token"], Value::from("t-kind"));
        assert_eq!(names(&existing.contexts), ["other", "kind-kind"]);
        assert_eq!(existing.current_context, "kind-kind");
        // The file had its own top-level extras: kind's are not copied.
        assert_eq!(existing.other, entry("foo: bar"));
    }

    #[test]
    fn merge_keeps_others_and_appends_kind_at_the_end() {
        let mut existing = Config {
            clusters: vec![entry("name: kops-blah\ncluster: {server: k}")],
            users: vec![entry("name: kops-blah\nuser: {}")],
            contexts: vec![entry(
                "name: kops-blah\ncontext: {cluster: kops-blah, user: kops-blah}",
            )],
            current_context: "kops-blah".into(),
            other: Mapping::new(),
        };
        merge(&mut existing, &kind_cfg("kind", "https://a")).unwrap();
        assert_eq!(names(&existing.clusters), ["kops-blah", "kind-kind"]);
        assert_eq!(names(&existing.users), ["kops-blah", "kind-kind"]);
        assert_eq!(names(&existing.contexts), ["kops-blah", "kind-kind"]);
        assert_eq!(existing.other, kind_cfg("kind", "x").other);
    }

    #[test]
    fn remove_cases() {
        // Nothing to remove: unmodified.
        let mut empty = Config::default();
        assert!(!remove(&mut empty, "kind-kind"));
        assert_eq!(empty, Config::default());

        // Only kind entries: lists end up empty, current-context cleared.
        let mut only = kind_cfg("kind", "s");
        assert!(remove(&mut only, "kind-kind"));
        assert!(only.clusters.is_empty() && only.users.is_empty() && only.contexts.is_empty());
        assert_eq!(only.current_context, "");
        assert_eq!(
            only.encode(),
            "apiVersion: v1\nkind: Config\npreferences: {}\n"
        );

        // Others kept, current-context pointing at us cleared.
        let mut mixed = kind_cfg("kind", "s");
        merge(&mut mixed, &kind_cfg("blah", "s")).unwrap();
        for list in [&mut mixed.clusters, &mut mixed.users, &mut mixed.contexts] {
            set_name(&mut list[1], "kops-blah");
        }
        mixed.current_context = "kind-kind".into();
        assert!(remove(&mut mixed, "kind-kind"));
        assert_eq!(names(&mixed.clusters), ["kops-blah"]);
        assert_eq!(names(&mixed.users), ["kops-blah"]);
        assert_eq!(names(&mixed.contexts), ["kops-blah"]);
        assert_eq!(mixed.current_context, "");

        // Someone else's current-context survives.
        let mut other_current = kind_cfg("kind", "s");
        merge(&mut other_current, &kind_cfg("other", "s")).unwrap();
        assert!(remove(&mut other_current, "kind-kind"));
        assert_eq!(other_current.current_context, "kind-other");
        assert_eq!(names(&other_current.clusters), ["kind-other"]);

        // Only the current-context is ours: still a change.
        let mut dangling = Config {
            current_context: "kind-kind".into(),
            ..Config::default()
        };
        assert!(remove(&mut dangling, "kind-kind"));
        assert_eq!(dangling.encode(), "");
    }
}
