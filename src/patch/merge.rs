//! RFC 7386 JSON merge patch with the null handling of the Go library
//! upstream kind uses (evanphx/json-patch v5): nulls are pruned from newly
//! inserted objects, including objects nested in arrays, while `null`
//! array elements themselves are kept.

use anyhow::{bail, Result};
use serde_json::{Map, Value};

/// Merge `patch` into `doc`; both must be JSON objects, as kind's patches
/// and documents always are.
pub fn merge_patch(doc: &mut Value, patch: Value) -> Result<()> {
    let Value::Object(doc) = doc else {
        bail!("invalid JSON Document")
    };
    let Value::Object(patch) = patch else {
        bail!("invalid JSON Patch")
    };
    merge_objects(doc, patch);
    Ok(())
}

fn merge_objects(doc: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (k, v) in patch {
        if v.is_null() {
            doc.remove(&k);
            continue;
        }
        match doc.get_mut(&k) {
            Some(cur) if !cur.is_null() => {
                let old = std::mem::take(cur);
                *cur = merge_value(old, v);
            }
            _ => {
                let mut v = v;
                prune_nulls(&mut v);
                doc.insert(k, v);
            }
        }
    }
}

fn merge_value(cur: Value, mut patch: Value) -> Value {
    match (cur, patch.is_object()) {
        (Value::Object(mut c), true) => {
            if let Value::Object(p) = patch {
                merge_objects(&mut c, p);
            }
            Value::Object(c)
        }
        (Value::Object(_), false) => patch,
        (_, _) => {
            prune_nulls(&mut patch);
            patch
        }
    }
}

fn prune_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(prune_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(prune_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_follows_rfc_7386() {
        // (doc, patch, result) — the RFC 7386 appendix examples that apply to objects.
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (
                json!({"a": "b", "b": "c"}),
                json!({"a": null}),
                json!({"b": "c"}),
            ),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
            (
                json!({"a": {"b": "c"}}),
                json!({"a": {"b": "d", "c": null}}),
                json!({"a": {"b": "d"}}),
            ),
            (
                json!({"a": [{"b": "c"}]}),
                json!({"a": [1]}),
                json!({"a": [1]}),
            ),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
            (
                json!({}),
                json!({"a": {"bb": {"ccc": null}}}),
                json!({"a": {"bb": {}}}),
            ),
        ];
        for (mut doc, patch, want) in cases {
            let p = patch.clone();
            merge_patch(&mut doc, patch).unwrap();
            assert_eq!(doc, want, "patch {p}");
        }
    }

    #[test]
    fn nulls_inside_new_arrays_are_pruned_from_objects_only() {
        let mut doc = json!({"x": 1});
        merge_patch(&mut doc, json!({"a": [{"k": null, "v": 1}, null]})).unwrap();
        assert_eq!(doc, json!({"x": 1, "a": [{"v": 1}, null]}));
    }

    #[test]
    fn non_objects_are_rejected() {
        assert!(merge_patch(&mut json!(null), json!({})).is_err());
        assert!(merge_patch(&mut json!({}), json!(null)).is_err());
    }
}
