//! containerd `config.toml` patching (spec §4.4). The config goes through
//! JSON for patching and is re-encoded in the canonical layout of the Go
//! TOML encoder upstream uses (BurntSushi/toml): per table, plain keys then
//! sub-tables, each group sorted, sub-table headers repeating the full
//! dotted path, indented two spaces per nesting level.

use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Number, Value};

use super::json6902;
use super::merge::merge_patch;

/// Patch a containerd `config.toml` (spec §4.4): version detection, TOML
/// merge patches (skipped when their `version` differs), JSON 6902 patches.
pub fn containerd_toml(raw: &str, merge: &[String], json6902: &[String]) -> anyhow::Result<String> {
    let mut doc = toml_to_json(raw)?;
    let version = config_version(&doc)?;
    if version == 0 {
        bail!("failed to detect containerd config version");
    }
    // Upstream adds nothing to the parser's own texts here.
    for patch in merge {
        let p = toml_to_json(patch)?;
        let pv = config_version(&p)?;
        // A patch written for another config version would corrupt this one.
        if pv != 0 && pv != version {
            continue;
        }
        merge_patch(&mut doc, p)?;
    }
    // Upstream adds nothing to the library's own texts here.
    for patch in json6902 {
        let ops = json6902::decode(patch).map_err(|e| anyhow!(e))?;
        json6902::apply(&mut doc, &ops).map_err(|e| anyhow!(e))?;
    }
    let Value::Object(root) = &doc else {
        bail!("patched containerd config is not a TOML table")
    };
    let mut enc = Encoder::default();
    enc.table(&[], root)?;
    Ok(enc.out)
}

fn toml_to_json(raw: &str) -> Result<Value> {
    let table: toml::Table = raw.parse().map_err(|e| {
        anyhow!(super::gotoml::load_error(raw).unwrap_or_else(|| parse_error_text(raw, &e)))
    })?;
    Ok(toml_value_to_json(toml::Value::Table(table)))
}

/// A TOML syntax error that `gotoml` does not reproduce, in the shape
/// upstream's parser (go-toml v1) gives it, `(line, column): message` on
/// one line, with the toml crate's own wording.
fn parse_error_text(raw: &str, e: &toml::de::Error) -> String {
    let (line, col) = match e.span() {
        Some(span) => {
            let before = &raw[..span.start.min(raw.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            (line, col)
        }
        None => (0, 0),
    };
    let message: Vec<&str> = e
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    format!("({line}, {col}): {}", message.join(", "))
}

fn toml_value_to_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        toml::Value::Boolean(b) => Value::Bool(b),
        // Upstream's TOML->JSON step turns dates into strings too.
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_value_to_json).collect()),
        toml::Value::Table(t) => Value::Object(
            t.into_iter()
                .map(|(k, v)| (k, toml_value_to_json(v)))
                .collect(),
        ),
    }
}

/// The top-level integer `version` (0 when absent).
fn config_version(doc: &Value) -> Result<i64> {
    match doc.get("version") {
        None => Ok(0),
        Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64().unwrap_or(0)),
        Some(other) => bail!("containerd config version must be an integer, got {other}"),
    }
}

#[derive(Default)]
struct Encoder {
    out: String,
}

fn is_table(v: &Value) -> bool {
    v.is_object() || is_table_array(v)
}

fn is_table_array(v: &Value) -> bool {
    matches!(v, Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_object))
}

fn quote_key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        quote_string(k)
    }
}

fn quote_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn header(path: &[&str]) -> String {
    path.iter()
        .map(|k| quote_key(k))
        .collect::<Vec<_>>()
        .join(".")
}

fn indent(path: &[&str]) -> String {
    "  ".repeat(path.len().saturating_sub(1))
}

impl Encoder {
    /// Newline only once something has been written (so output never
    /// starts with a blank line).
    fn newline(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
    }

    /// Body of the table at `path`: plain keys first, then sub-tables.
    fn table(&mut self, path: &[&str], m: &Map<String, Value>) -> Result<()> {
        for k in ordered_keys(m) {
            let v = &m[k];
            let mut p = path.to_vec();
            p.push(k);
            match v {
                Value::Null => {}
                Value::Object(t) => {
                    if p.len() == 1 {
                        self.newline();
                    }
                    self.out
                        .push_str(&format!("{}[{}]", indent(&p), header(&p)));
                    self.newline();
                    self.table(&p, t)?;
                }
                Value::Array(items) if is_table_array(v) => {
                    for item in items {
                        self.newline();
                        self.out
                            .push_str(&format!("{}[[{}]]", indent(&p), header(&p)));
                        self.newline();
                        if let Value::Object(t) = item {
                            self.table(&p, t)?;
                        }
                    }
                }
                _ => {
                    self.out
                        .push_str(&format!("{}{} = {}", indent(&p), quote_key(k), inline(v)?));
                    self.newline();
                }
            }
        }
        Ok(())
    }
}

/// BurntSushi's key order: plain keys sorted, then sub-tables sorted.
fn ordered_keys(m: &Map<String, Value>) -> Vec<&String> {
    let (mut sub, mut direct): (Vec<&String>, Vec<&String>) =
        m.keys().partition(|k| is_table(&m[*k]));
    direct.sort();
    sub.sort();
    direct.extend(sub);
    direct
}

/// A value written after `key = `.
fn inline(v: &Value) -> Result<String> {
    Ok(match v {
        Value::Null => bail!("toml: cannot encode a null value"),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => quote_string(s),
        Value::Number(n) => number(n),
        Value::Array(a) => {
            if a.iter().any(Value::is_null) {
                bail!("toml: cannot encode array with nil element");
            }
            let items: Result<Vec<String>> = a.iter().map(inline).collect();
            format!("[{}]", items?.join(", "))
        }
        Value::Object(m) => {
            let mut parts = Vec::new();
            for k in ordered_keys(m) {
                if m[k].is_null() {
                    continue;
                }
                parts.push(format!("{} = {}", quote_key(k), inline(&m[k])?));
            }
            format!("{{{}}}", parts.join(", "))
        }
    })
}

fn number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    // Upstream round-trips through JSON text, where whole floats become integers.
    if f.fract() == 0.0 && f.abs() < 1e21 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
        return (f as i64).to_string();
    }
    let s = format!("{f}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"version = 2
disabled_plugins = ["restart"]
[plugins.linux]
  shim_debug = true
[plugins.cri.containerd.runtimes.runsc]
  runtime_type = "io.containerd.runsc.v1""#;

    const BASE_TABLES: &str = r#"[plugins]
  [plugins.cri]
    [plugins.cri.containerd]
      [plugins.cri.containerd.runtimes]
        [plugins.cri.containerd.runtimes.runsc]
          runtime_type = "io.containerd.runsc.v1"
  [plugins.linux]
    shim_debug = true
"#;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn upstream_containerd_toml_cases() {
        // (name, base, merge patches, 6902 patches, expected output or None for an error)
        let canonical = |head: &str| format!("{head}version = 2\n\n{BASE_TABLES}");
        let no_version = BASE.trim_start_matches("version = 2\n");
        type Case<'a> = (&'a str, &'a str, Vec<String>, Vec<String>, Option<String>);
        let cases: Vec<Case> = vec![
            ("invalid TOML", "🗿", vec![], vec![], None),
            ("invalid containerd versioning", "version = \"five\"", vec![], vec![], None),
            ("no version", no_version, vec![], vec![], None),
            ("no patches", BASE, vec![], vec![], Some(canonical("disabled_plugins = [\"restart\"]\n"))),
            (
                "only matching patches",
                "version = 2\n\ndisabled_plugins = [\"restart\"]\n\n[plugins.linux]\n  shim_debug = true\n[plugins.cri.containerd.runtimes.runsc]\n  runtime_type = \"io.containerd.runsc.v1\"",
                s(&["version = 3\ndisabled_plugins=[\"bar\"]", "version = 2\n disabled_plugins=[\"baz\"]"]),
                vec![],
                Some(canonical("disabled_plugins = [\"baz\"]\n")),
            ),
            ("invalid patch TOML", BASE, s(&["🏰"]), vec![], None),
            ("invalid patch version", BASE, s(&["version = \"two\""]), vec![], None),
            ("invalid 6902 patch JSON", BASE, vec![], s(&["🏰"]), None),
            ("6902 patch as YAML is rejected", BASE, vec![], s(&["- op: remove\n  path: /disabled_plugins"]), None),
            ("trivial patch", BASE, s(&["disabled_plugins=[]"]), vec![], Some(canonical("disabled_plugins = []\n"))),
            (
                "trivial 6902 patch",
                BASE,
                vec![],
                s(&[r#"[{"op": "remove", "path": "/disabled_plugins"}]"#]),
                Some(canonical("")),
            ),
            (
                "trivial patch and trivial 6902 patch",
                BASE,
                s(&[r#"disabled_plugins=["foo"]"#]),
                s(&[r#"[{"op": "remove", "path": "/disabled_plugins"}]"#]),
                Some(canonical("")),
            ),
            ("null 6902 patch is a no-op", BASE, vec![], s(&["null"]), Some(canonical("disabled_plugins = [\"restart\"]\n"))),
            ("invalid path 6902 patch", BASE, vec![], s(&[r#"[{"op": "remove", "path": "/fooooooo"}]"#]), None),
            (
                "patch registry",
                BASE,
                s(&["[plugins.cri.registry.mirrors]\n  [plugins.cri.registry.mirrors.\"registry:5000\"]\n    endpoint = [\"http://registry:5000\"]"]),
                vec![],
                Some(
                    r#"disabled_plugins = ["restart"]
version = 2

[plugins]
  [plugins.cri]
    [plugins.cri.containerd]
      [plugins.cri.containerd.runtimes]
        [plugins.cri.containerd.runtimes.runsc]
          runtime_type = "io.containerd.runsc.v1"
    [plugins.cri.registry]
      [plugins.cri.registry.mirrors]
        [plugins.cri.registry.mirrors."registry:5000"]
          endpoint = ["http://registry:5000"]
  [plugins.linux]
    shim_debug = true
"#
                    .to_string(),
                ),
            ),
        ];
        for (name, base, merge, p6902, want) in cases {
            let got = containerd_toml(base, &merge, &p6902);
            match (&want, got) {
                (Some(w), Ok(g)) => assert_eq!(&g, w, "{name}"),
                (None, Err(_)) => {}
                (w, g) => panic!("{name}: want {w:?}, got {g:?}"),
            }
        }
    }

    #[test]
    fn missing_version_error_text() {
        let err = containerd_toml("[plugins]\n", &[], &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to detect containerd config version"
        );
    }

    #[test]
    fn canonical_encoding_of_values() {
        let base = r#"version = 2
b = 1.5
a = 2.0
s = "quote \" and \\ and	tab"
"needs quoting" = 1
arr = [1, 2]
mixed = [{x = 1}, {y = {z = 2}}]
d = 1979-05-27T07:32:00Z
[[tables]]
  name = "one"
[[tables]]
  name = "two"
  [tables.sub]
    k = "v"
[empty]
"#;
        let got = containerd_toml(base, &[], &[]).unwrap();
        // Keys sort by their raw text, quoted or not.
        let want = r#"a = 2
arr = [1, 2]
b = 1.5
d = "1979-05-27T07:32:00Z"
"needs quoting" = 1
s = "quote \" and \\ and\ttab"
version = 2

[empty]

[[tables]]
  name = "one"

[[tables]]
  name = "two"
  [tables.sub]
    k = "v"
"#;
        // Arrays of tables are written as [[...]]; mixed is also all tables.
        assert!(
            got.contains("\n[[mixed]]\n  x = 1\n\n[[mixed]]\n  [mixed.y]\n    z = 2\n"),
            "{got}"
        );
        let without_mixed = got.replace(
            "\n[[mixed]]\n  x = 1\n\n[[mixed]]\n  [mixed.y]\n    z = 2\n",
            "",
        );
        assert_eq!(without_mixed, want);
    }

    #[test]
    fn arrays_mixing_tables_and_values_are_inline() {
        let got =
            containerd_toml("version = 2\nm = [{a = 1, t = {b = 2}}, 3]\n", &[], &[]).unwrap();
        assert_eq!(got, "m = [{a = 1, t = {b = 2}}, 3]\nversion = 2\n");
    }

    #[test]
    fn merge_tables_recursively_and_replace_arrays() {
        let base = "version = 2\n[a]\n  x = 1\n  l = [1, 2]\n  [a.b]\n    y = 2\n";
        let patch = "[a]\n  l = [3]\n  [a.b]\n    z = 3\n";
        let got = containerd_toml(base, &s(&[patch]), &[]).unwrap();
        assert_eq!(
            got,
            "version = 2\n\n[a]\n  l = [3]\n  x = 1\n  [a.b]\n    y = 2\n    z = 3\n"
        );
    }

    /// The texts upstream kind v0.32.0 printed for the same containerd
    /// JSON 6902 patches: Go's and its json-patch library's, nothing added
    /// (the caller prefixes `failed to patch containerd config: `).
    #[test]
    fn malformed_6902_patches_read_as_upstreams() {
        let base = "version = 2\n";
        let err = |patch: &str| {
            format!(
                "{:#}",
                containerd_toml(base, &[], &[patch.to_string()]).unwrap_err()
            )
        };
        assert_eq!(
            err("🏰"),
            "invalid character 'ð' looking for beginning of value"
        );
        assert_eq!(
            err("- op: remove\n  path: /disabled_plugins"),
            "invalid character ' ' in numeric literal"
        );
        assert_eq!(
            err("op: add"),
            "invalid character 'o' looking for beginning of value"
        );
        assert_eq!(err(""), "unexpected end of JSON input");
        assert_eq!(
            err(r#"[{"op":"bogus","path":"/version"}]"#),
            "Unexpected kind: bogus"
        );
        assert_eq!(
            err(r#"{"op":"add"}"#),
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
        );
    }

    /// Upstream's texts (go-toml v1.9.5's, nothing added; the caller
    /// prefixes `failed to patch containerd config: `).
    #[test]
    fn unparsable_toml_patches_read_as_upstreams() {
        let err = |patch: &str| {
            format!(
                "{:#}",
                containerd_toml("version = 2\n", &[patch.to_string()], &[]).unwrap_err()
            )
        };
        assert_eq!(
            err("this is not toml"),
            r#"(1, 6): was expecting token =, but got "is" instead"#
        );
        assert_eq!(err("a = b"), "(1, 5): no value can start with b");
        assert_eq!(
            err("a = 1\na = 2"),
            "(2, 1): The following key was defined twice: a"
        );
        assert_eq!(
            err("[plugins.\"io.containerd.grpc.v1.cri\"\nx = 1"),
            "(1, 2): unexpected token unclosed table key, was expecting a table key"
        );
    }

    #[test]
    fn unreproduced_load_errors_keep_upstreams_shape() {
        // go-toml checks dates only when converting them (`parsing time
        // "1979-13-27": month out of range`), which is not reproduced.
        let e = toml_to_json("a = 1979-13-27").unwrap_err().to_string();
        assert_eq!(e, "(1, 10): invalid date-time, value is out of range");
    }

    #[test]
    fn json6902_patches_apply_in_order() {
        let ops = s(&[
            r#"[{"op": "add", "path": "/plugins", "value": {"x": {"enabled": true}}}]"#,
            r#"[{"op": "replace", "path": "/plugins/x/enabled", "value": false}]"#,
        ]);
        let got = containerd_toml("version = 3\n", &[], &ops).unwrap();
        assert_eq!(
            got,
            "version = 3\n\n[plugins]\n  [plugins.x]\n    enabled = false\n"
        );
    }
}
