//! RFC 6902 patches decoded and applied the way upstream's library
//! (evanphx/json-patch v5 over Go's encoding/json) does, with its error
//! texts where kind shows them:
//!
//! * decoding only checks that the text is JSON (Go's syntax errors) and
//!   that it is a list of objects (`json: cannot unmarshal number into Go
//!   value of type jsonpatch.Operation`); `null` is an empty patch;
//! * each operation's `op` is looked at only when it is applied, in order:
//!   an unknown one fails there with `Unexpected kind: <op>` (`unknown` when
//!   `op` is missing or not a string), so a patch that matches no document
//!   never fails on it.
//!
//! The known operations are carried out by the `json-patch` crate.

use serde_json::{Map, Value};

use crate::gojson;

/// A decoded patch: its operations as objects, unchecked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Patch(Vec<Map<String, Value>>);

const KNOWN_OPS: &[&str] = &["add", "remove", "replace", "move", "test", "copy"];

/// Go's name for a JSON value's type in an `UnmarshalTypeError`.
fn go_kind(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Null => "null",
    }
}

/// From JSON text (containerd's patches: JSON only).
pub fn decode(text: &str) -> Result<Patch, String> {
    if let Some(e) = gojson::syntax_error(text.as_bytes()) {
        return Err(e);
    }
    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    decode_value(value)
}

/// From a JSON value (kubeadm patches, YAML converted to JSON first).
pub fn decode_value(value: Value) -> Result<Patch, String> {
    let items = match value {
        Value::Null => return Ok(Patch::default()),
        Value::Array(items) => items,
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
                go_kind(&other)
            ))
        }
    };
    let mut ops = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::Object(op) => ops.push(op),
            // Go leaves a nil map: an operation without `op`.
            Value::Null => ops.push(Map::new()),
            other => {
                return Err(format!(
                    "json: cannot unmarshal {} into Go value of type jsonpatch.Operation",
                    go_kind(&other)
                ))
            }
        }
    }
    Ok(Patch(ops))
}

/// The operation's kind as Go's `Operation.Kind` reads it.
fn kind(op: &Map<String, Value>) -> &str {
    match op.get("op") {
        Some(Value::String(s)) => s,
        _ => "unknown",
    }
}

/// Apply every operation in order; the first failure stops it (the
/// document is then not to be used, as upstream discards it).
pub fn apply(doc: &mut Value, patch: &Patch) -> Result<(), String> {
    for op in &patch.0 {
        let k = kind(op);
        if !KNOWN_OPS.contains(&k) {
            return Err(format!("Unexpected kind: {k}"));
        }
        let op: json_patch::PatchOperation =
            serde_json::from_value(Value::Object(op.clone())).map_err(|e| e.to_string())?;
        json_patch::patch(doc, std::slice::from_ref(&op)).map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Texts as upstream kind v0.32.0 (json-patch v5.6.0, go1.19) printed
    /// them for the same containerd JSON 6902 patch.
    #[test]
    fn decoding_errors_read_as_upstreams() {
        let cases = [
            (
                "op: add",
                "invalid character 'o' looking for beginning of value",
            ),
            ("", "unexpected end of JSON input"),
            (
                r#"{"op":"add"}"#,
                "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
            ),
            (
                r#""x""#,
                "json: cannot unmarshal string into Go value of type jsonpatch.Patch",
            ),
            (
                "3",
                "json: cannot unmarshal number into Go value of type jsonpatch.Patch",
            ),
            (
                "true",
                "json: cannot unmarshal bool into Go value of type jsonpatch.Patch",
            ),
            (
                "[1]",
                "json: cannot unmarshal number into Go value of type jsonpatch.Operation",
            ),
            (
                r#"["x"]"#,
                "json: cannot unmarshal string into Go value of type jsonpatch.Operation",
            ),
            (
                "[[1]]",
                "json: cannot unmarshal array into Go value of type jsonpatch.Operation",
            ),
            (
                "[true]",
                "json: cannot unmarshal bool into Go value of type jsonpatch.Operation",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(decode(text), Err(want.to_string()), "{text:?}");
        }
        assert_eq!(decode("null"), Ok(Patch::default()));
    }

    #[test]
    fn unknown_ops_fail_when_applied_in_order() {
        let mut doc = json!({"x": 1});
        let cases = [
            (
                r#"[{"op": "bogus", "path": "/a"}]"#,
                "Unexpected kind: bogus",
            ),
            ("[null]", "Unexpected kind: unknown"),
            (r#"[{"path": "/a"}]"#, "Unexpected kind: unknown"),
            (r#"[{"op": 3, "path": "/a"}]"#, "Unexpected kind: unknown"),
            (
                r#"[{"op":"add","path":"/y","value":1},{"op":"bogus","path":"/a"}]"#,
                "Unexpected kind: bogus",
            ),
        ];
        for (text, want) in cases {
            let patch = decode(text).expect("decodes: kinds are checked when applied");
            assert_eq!(apply(&mut doc, &patch), Err(want.to_string()), "{text}");
        }
        // An earlier failing operation is reported first.
        let patch = decode(r#"[{"op":"remove","path":"/missing"},{"op":"bogus"}]"#).unwrap();
        let err = apply(&mut json!({}), &patch).unwrap_err();
        assert!(!err.contains("Unexpected kind"), "{err}");
    }

    #[test]
    fn known_ops_apply() {
        let mut doc = json!({"a": {"b": 1}});
        let patch = decode(
            r#"[{"op":"add","path":"/a/c","value":2},{"op":"copy","from":"/a/b","path":"/d"},{"op":"test","path":"/d","value":1},{"op":"move","from":"/d","path":"/e"},{"op":"replace","path":"/e","value":3},{"op":"remove","path":"/a/b"}]"#,
        )
        .unwrap();
        apply(&mut doc, &patch).unwrap();
        assert_eq!(doc, json!({"a": {"c": 2}, "e": 3}));
    }
}
