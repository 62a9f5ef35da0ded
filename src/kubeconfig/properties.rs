//! Property tests (issue 9): merging our entries into any valid kubeconfig
//! (as `create` does) and removing them (as `delete` does) gives back the
//! original document.
//!
//! "The original" as upstream kind would see it: equal after decoding
//! (`Config::parse`), apart from `current-context`, which the merge points
//! at our context and the removal then clears, so an original one is not
//! restored (upstream behaves the same). The writer normalises (sorted
//! keys, go-yaml v2 quoting, empty lists omitted), so bytes are only
//! identical when the original was already in that form: both are asserted.

use proptest::prelude::*;
use serde_yaml::{Mapping, Value};

use super::model::Config;
use super::{from_admin_conf, key, merged, removed};

/// The admin.conf of the fixture node image, as a real create reads it.
const ADMIN_CONF: &str = include_str!("../../tests/fixtures/kubeconfig/admin.conf");

/// Scalars, including strings that read as other types unless quoted.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            any::<String>(),
            "[ -~]{0,12}",
            prop::sample::select(vec![
                "",
                "yes",
                "No",
                "on",
                "~",
                "null",
                "true",
                "1",
                "0x1F",
                "017",
                "1e3",
                "-.inf",
                "1:20",
                "2001-12-14",
                "<<",
                "- a",
                "a: b",
                "#x",
                "'q'",
                "\"d\"",
                " lead",
                "trail ",
                "multi\nline",
                "tab\there",
                "é",
                "kind-kind",
            ])
            .prop_map(String::from),
        ]
        .prop_map(Value::String),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z0-9@.:-]{1,16}", any::<String>()]
}

/// Arbitrary YAML with string keys (kubectl reads kubeconfigs via JSON).
fn any_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Sequence),
            prop::collection::vec((name(), inner), 0..4).prop_map(|kv| {
                Value::Mapping(kv.into_iter().map(|(k, v)| (Value::String(k), v)).collect())
            }),
        ]
    })
}

/// Unknown fields, whose names avoid the ones given.
fn extras(avoid: &'static [&'static str]) -> impl Strategy<Value = Vec<(String, Value)>> {
    prop::collection::vec(
        (
            "[a-zA-Z][a-zA-Z0-9-]{0,10}"
                .prop_filter("known field", move |k| !avoid.contains(&k.as_str())),
            any_value(),
        ),
        0..3,
    )
}

/// A clusters/users/contexts entry: `name`, a body of known string fields
/// and unknown ones, and unknown fields beside them.
fn entry(body: &'static str, fields: &'static [&'static str]) -> impl Strategy<Value = Mapping> {
    (
        name(),
        prop::collection::vec((prop::sample::select(fields), name()), 0..3),
        extras(&["server", "cluster", "user"]),
        extras(&["name", "cluster", "user", "context"]),
    )
        .prop_map(move |(n, known, body_extra, extra)| {
            let mut b = Mapping::new();
            for (k, v) in known {
                b.insert(k.into(), v.into());
            }
            for (k, v) in body_extra {
                b.insert(k.into(), v);
            }
            let mut m = Mapping::new();
            m.insert("name".into(), n.into());
            m.insert(body.into(), Value::Mapping(b));
            for (k, v) in extra {
                m.insert(k.into(), v);
            }
            m
        })
}

/// A valid kubeconfig as clients write it: apiVersion and kind, entries,
/// maybe current-context, preferences, extensions and unknown fields.
fn kubeconfig() -> impl Strategy<Value = Value> {
    let list = |body, fields| prop::collection::vec(entry(body, fields), 0..4);
    (
        list(
            "cluster",
            &["server", "certificate-authority-data", "proxy-url"],
        ),
        list("user", &["token", "client-key-data", "username"]),
        list("context", &["cluster", "user", "namespace"]),
        prop::option::of(name()),
        prop::option::of(any_value()),
        prop::option::of(prop::collection::vec(
            (name(), any_value()).prop_map(|(n, e)| {
                let mut m = Mapping::new();
                m.insert("name".into(), n.into());
                m.insert("extension".into(), e);
                Value::Mapping(m)
            }),
            0..3,
        )),
        extras(&[
            "apiVersion",
            "kind",
            "clusters",
            "users",
            "contexts",
            "current-context",
            "preferences",
            "extensions",
        ]),
    )
        .prop_map(
            |(clusters, users, contexts, current, preferences, extensions, extra)| {
                let mut m = Mapping::new();
                m.insert("apiVersion".into(), "v1".into());
                m.insert("kind".into(), "Config".into());
                let seq =
                    |l: Vec<Mapping>| Value::Sequence(l.into_iter().map(Value::Mapping).collect());
                m.insert("clusters".into(), seq(clusters));
                m.insert("users".into(), seq(users));
                m.insert("contexts".into(), seq(contexts));
                if let Some(c) = current {
                    m.insert("current-context".into(), c.into());
                }
                if let Some(p) = preferences {
                    m.insert("preferences".into(), p);
                }
                if let Some(e) = extensions {
                    m.insert("extensions".into(), Value::Sequence(e));
                }
                for (k, v) in extra {
                    m.insert(k.into(), v);
                }
                Value::Mapping(m)
            },
        )
}

/// Decoded, with current-context unset (see the module comment).
fn without_current_context(text: &str) -> Config {
    let mut cfg = Config::parse(text).unwrap();
    cfg.current_context.clear();
    cfg
}

fn has_entry_named(cfg: &Config, key: &str) -> bool {
    [&cfg.clusters, &cfg.users, &cfg.contexts]
        .iter()
        .any(|l| l.iter().any(|e| super::model::entry_name(e) == key))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn merge_then_remove_restores_the_original(
        doc in kubeconfig(),
        cluster in "[a-z0-9][a-z0-9.-]{0,12}",
    ) {
        let original = serde_yaml::to_string(&doc).unwrap();
        let decoded = Config::parse(&original).unwrap();
        // Entries already named kind-<cluster> would be replaced by ours:
        // not this property's case.
        prop_assume!(!has_entry_named(&decoded, &key(&cluster)));
        let kind = from_admin_conf(ADMIN_CONF, &cluster, Some("https://127.0.0.1:6443")).unwrap();

        let with_ours = merged(original.as_bytes(), &kind).unwrap();
        let after = removed(with_ours.as_bytes(), &cluster)
            .unwrap()
            .expect("the merged file holds our entries");
        prop_assert_eq!(without_current_context(&after), without_current_context(&original));

        // Byte identity holds for an original already in the writer's form.
        let mut canonical = decoded;
        canonical.current_context.clear();
        let canonical = canonical.encode();
        let with_ours = merged(canonical.as_bytes(), &kind).unwrap();
        let after = removed(with_ours.as_bytes(), &cluster).unwrap().unwrap();
        prop_assert_eq!(after, canonical);
    }
}
