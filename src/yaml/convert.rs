//! YAML read into JSON the way `sigs.k8s.io/yaml.YAMLToJSON` does (through
//! serde_yaml): what the patching and kubeconfig code edit before the
//! emitter (`emit`) writes it back.

use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Number, Value};

use super::emit::go_format_float;

/// Parse one YAML document (an empty one is `null`) into JSON, the way
/// `sigs.k8s.io/yaml.YAMLToJSON` does: non-string keys become strings,
/// tags are dropped, non-finite floats are rejected.
pub fn to_json(doc: &str) -> Result<Value> {
    let v: serde_yaml::Value = serde_yaml::from_str(doc)?;
    yaml_value_to_json(&normalize(v)?)
}

/// Parse one YAML document keeping mapping order (keys made strings), for
/// callers that care about the order a user wrote things in.
pub fn to_ordered(doc: &str) -> Result<serde_yaml::Value> {
    normalize(serde_yaml::from_str(doc)?)
}

/// Drop tags and turn every mapping key into its string form.
fn normalize(v: serde_yaml::Value) -> Result<serde_yaml::Value> {
    use serde_yaml::Value as Y;
    Ok(match v {
        Y::Tagged(t) => normalize(t.value)?,
        Y::Sequence(s) => Y::Sequence(s.into_iter().map(normalize).collect::<Result<_>>()?),
        Y::Mapping(m) => {
            let mut out = serde_yaml::Mapping::new();
            for (k, v) in m {
                out.insert(Y::String(key_string(k)?), normalize(v)?);
            }
            Y::Mapping(out)
        }
        other => other,
    })
}

fn key_string(k: serde_yaml::Value) -> Result<String> {
    use serde_yaml::Value as Y;
    Ok(match k {
        Y::String(s) => s,
        Y::Bool(b) => b.to_string(),
        Y::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => go_format_float(f),
            _ => n.to_string(),
        },
        Y::Tagged(t) => key_string(t.value)?,
        other => bail!("unsupported map key: {other:?}"),
    })
}

/// Convert an (already normalised) YAML value to JSON.
pub fn yaml_value_to_json(v: &serde_yaml::Value) -> Result<Value> {
    use serde_yaml::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                Value::Number(
                    Number::from_f64(f).ok_or_else(|| anyhow!("json: unsupported value: {n}"))?,
                )
            }
        }
        Y::String(s) => Value::String(s.clone()),
        Y::Sequence(s) => Value::Array(s.iter().map(yaml_value_to_json).collect::<Result<_>>()?),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let k = match k {
                    Y::String(s) => s.clone(),
                    other => key_string(other.clone())?,
                };
                out.insert(k, yaml_value_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => yaml_value_to_json(&t.value)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_to_json_stringifies_keys_and_keeps_numbers() {
        let v = to_json("a: 1\n2: x\ntrue: y\nf: 1.5\nl: [x, 2]\nn: ~\n").unwrap();
        assert_eq!(
            v,
            json!({"a": 1, "2": "x", "true": "y", "f": 1.5, "l": ["x", 2], "n": null})
        );
        assert_eq!(to_json("").unwrap(), Value::Null);
        assert_eq!(to_json("# only a comment\n").unwrap(), Value::Null);
        assert!(to_json("a: [").is_err());
    }
}
