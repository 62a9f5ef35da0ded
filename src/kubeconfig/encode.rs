//! Kubeconfig text as upstream kind writes it (spec §5.2): through
//! sigs.k8s.io/yaml, i.e. a JSON round trip then the go-yaml v2 emitter
//! (`crate::yaml::emit`): keys sorted in go-yaml's order, 2-space indentation,
//! sequences at the parent's indentation, `{}`/`[]` for empty collections,
//! YAML 1.1 quoting (a namespace `yes` stays a string for kubectl).

use serde_yaml::Value;

/// Encode a document; a top-level empty mapping is `{}\n` (callers decide
/// whether that means "write an empty file"). `Config::parse` only accepts
/// documents whose keys convert to JSON, so the conversion cannot fail here.
pub(crate) fn to_yaml(value: &Value) -> String {
    let json = crate::yaml::convert::yaml_value_to_json(value)
        .expect("kubeconfig keys were checked when parsed");
    crate::yaml::emit::marshal(&json)
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;

    use serde_yaml::Mapping;

    use super::*;
    use crate::yaml::emit::{go_format_float, natural_cmp as go_key_cmp};

    fn yaml(src: &str) -> String {
        to_yaml(&serde_yaml::from_str::<Value>(src).unwrap())
    }

    fn enc_str(s: &str) -> String {
        let mut m = Mapping::new();
        m.insert(Value::String("k".into()), Value::String(s.into()));
        to_yaml(&Value::Mapping(m))
    }

    #[test]
    fn keys_sort_like_go_yaml() {
        let mut keys = vec![
            "users",
            "preferences",
            "kind",
            "current-context",
            "contexts",
            "clusters",
            "apiVersion",
        ];
        keys.sort_by(|a, b| go_key_cmp(a, b));
        assert_eq!(
            keys,
            [
                "apiVersion",
                "clusters",
                "contexts",
                "current-context",
                "kind",
                "preferences",
                "users"
            ]
        );
        // non-letters before letters (byte order would put 'B' before '_')
        assert_eq!(go_key_cmp("a_b", "aB"), Ordering::Less);
        // digit runs compare as numbers
        assert_eq!(go_key_cmp("a10", "a9"), Ordering::Greater);
        assert_eq!(go_key_cmp("a", "ab"), Ordering::Less);
        assert_eq!(go_key_cmp("B", "a"), Ordering::Less);
    }

    #[test]
    fn scalar_quoting_follows_go_yaml_v2() {
        let cases: &[(&str, &str)] = &[
            ("plain", "k: plain\n"),
            ("https://127.0.0.1:6443", "k: https://127.0.0.1:6443\n"),
            ("", "k: \"\"\n"),
            ("yes", "k: \"yes\"\n"),
            ("on", "k: \"on\"\n"),
            ("y", "k: \"y\"\n"),
            ("true", "k: \"true\"\n"),
            ("null", "k: \"null\"\n"),
            ("~", "k: \"~\"\n"),
            ("123", "k: \"123\"\n"),
            ("1_000", "k: \"1_000\"\n"),
            ("0x1F", "k: \"0x1F\"\n"),
            ("1.5e3", "k: \"1.5e3\"\n"),
            (".5", "k: \".5\"\n"),
            ("089", "k: \"089\"\n"),
            ("1:20", "k: \"1:20\"\n"),
            ("2001-12-14", "k: \"2001-12-14\"\n"),
            (
                "2001-12-14T21:59:43.10Z",
                "k: \"2001-12-14T21:59:43.10Z\"\n",
            ),
            ("1.2.3", "k: 1.2.3\n"),
            ("v1", "k: v1\n"),
            ("- x", "k: '- x'\n"),
            ("a: b", "k: 'a: b'\n"),
            ("it's", "k: it's\n"),
            ("'q'", "k: '''q'''\n"),
            (" lead", "k: ' lead'\n"),
            ("#c", "k: '#c'\n"),
            ("a #c", "k: 'a #c'\n"),
            ("a#c", "k: a#c\n"),
            ("---", "k: '---'\n"),
            ("tab\there", "k: \"tab\\there\"\n"),
            ("emoji 😀", "k: \"emoji \\U0001F600\"\n"),
            ("a\nb", "k: |-\n  a\n  b\n"),
            ("a\nb\n", "k: |\n  a\n  b\n"),
            // go-yaml v2.4.0 (what sigs.k8s.io/yaml vendors) writes no `...` here.
            ("a\n\n", "k: |+\n  a\n\n"),
            (" a\nb", "k: |2-\n   a\n  b\n"),
            ("a \nb", "k: \"a \\nb\"\n"),
        ];
        for (input, want) in cases {
            assert_eq!(enc_str(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn long_strings_fold_at_80_columns_like_go_yaml() {
        let words = vec!["word"; 30].join(" ");
        let out = enc_str(&words);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        // Folded at the first space after column 80, continuation indented.
        assert_eq!(lines[0].len(), 3 + 5 * 16 - 1);
        assert!(lines[1].starts_with("  word"));
        assert_eq!(
            serde_yaml::from_str::<Value>(&out).unwrap()["k"],
            Value::String(words)
        );
        // Base64 data has no spaces and is never folded.
        let b64 = "A".repeat(500);
        assert_eq!(enc_str(&b64), format!("k: {b64}\n"));
    }

    #[test]
    fn block_layout() {
        let src = "b: {}\na:\n  - x: 1\n    l: [p, q]\n    e: []\n  - - n1\n    - n2\n  - null\nc:\n  d:\n    f: 1.5\n    g: true\n";
        assert_eq!(
            yaml(src),
            "a:\n- e: []\n  l:\n  - p\n  - q\n  x: 1\n- - n1\n  - n2\n- null\nb: {}\nc:\n  d:\n    f: 1.5\n    g: true\n"
        );
        assert_eq!(yaml("{}"), "{}\n");
        assert_eq!(
            yaml("'1': x\n2: w\ntrue: z\n"),
            "\"1\": x\n\"2\": w\n\"true\": z\n"
        );
        assert_eq!(yaml("k: !custom v\n"), "k: v\n");
    }

    #[test]
    fn floats_format_like_go() {
        let cases: &[(f64, &str)] = &[
            (1.5, "1.5"),
            (0.0, "0"),
            (100000.0, "100000"),
            (1e21, "1e+21"),
            (1e6, "1e+06"),
            (1234567.5, "1.2345675e+06"),
            (1.25e-7, "1.25e-07"),
            (0.0001, "0.0001"),
            (f64::INFINITY, ".inf"),
            (f64::NEG_INFINITY, "-.inf"),
            (-2.5, "-2.5"),
        ];
        for (f, want) in cases {
            assert_eq!(go_format_float(*f), *want, "{f}");
        }
    }
}
