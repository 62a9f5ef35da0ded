//! `-o/--output` of `get clusters` and `get nodes` (ours): `wide` (aligned
//! columns under a header, as kubectl prints them), `json` and `yaml` (one
//! list document, see `cluster::listing`). Without `-o` the commands print
//! upstream's bare names and never come here.

use serde::Serialize;
#[cfg(test)]
use serde_json::{json, Value};

use crate::cluster::listing::{ClusterSummary, NodeSummary, API_VERSION};

/// An output format named with `-o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Upstream's: one name per line.
    Names,
    Wide,
    Json,
    Yaml,
}

impl Format {
    /// `""` is upstream's names; anything else not listed is refused
    /// before the engine is asked.
    pub fn parse(value: &str) -> anyhow::Result<Format> {
        match value {
            "" => Ok(Format::Names),
            "wide" => Ok(Format::Wide),
            "json" => Ok(Format::Json),
            "yaml" => Ok(Format::Yaml),
            other => anyhow::bail!(
                "unknown output format {other:?}: the allowed values are wide, json and yaml"
            ),
        }
    }
}

/// A list document (`ClusterList`, `NodeList`); serialised in this field
/// order (JSON keeps it; YAML sorts keys as go-yaml does).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListDocument<'a, T> {
    api_version: &'static str,
    kind: &'a str,
    items: &'a [T],
}

/// The list document of `kind` (`ClusterList`, `NodeList`).
pub fn document<'a, T: Serialize>(kind: &'a str, items: &'a [T]) -> ListDocument<'a, T> {
    ListDocument {
        api_version: API_VERSION,
        kind,
        items,
    }
}

/// A document as JSON (4-space indent, as kubectl) or YAML (go-yaml style).
fn encode<T: Serialize>(format: Format, doc: &T) -> String {
    match format {
        Format::Yaml => {
            crate::yaml::emit::marshal(&serde_json::to_value(doc).expect("a listing serialises"))
        }
        _ => {
            let mut buf = Vec::new();
            let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
            let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
            doc.serialize(&mut ser).expect("a JSON value serialises");
            buf.push(b'\n');
            String::from_utf8(buf).expect("serde_json writes UTF-8")
        }
    }
}

/// Rows under a header, each column as wide as its widest cell plus three
/// spaces (kubectl's tabwriter padding); empty cells read `<none>`.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let cell = |s: &str| {
        if s.is_empty() {
            "<none>".to_string()
        } else {
            s.to_string()
        }
    };
    let all: Vec<Vec<String>> = std::iter::once(header.iter().map(|h| h.to_string()).collect())
        .chain(rows.iter().map(|r| r.iter().map(|c| cell(c)).collect()))
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| all.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &all {
        let mut line = String::new();
        for (i, c) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(c);
            } else {
                line.push_str(&format!("{c:<w$}", w = widths[i] + 3));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `get clusters -o …` (not `Names`).
pub fn clusters(format: Format, items: &[ClusterSummary]) -> String {
    match format {
        Format::Wide => table(
            &[
                "NAME",
                "CONTROL-PLANES",
                "WORKERS",
                "NETWORK",
                "IMAGES",
                "VERSION",
                "RUNTIME",
                "STATUS",
                "EPHEMERAL",
            ],
            &items
                .iter()
                .map(|c| {
                    vec![
                        c.name.clone(),
                        c.control_planes.to_string(),
                        c.workers.to_string(),
                        c.network.clone(),
                        c.images.join(","),
                        c.kubernetes_version.clone(),
                        c.runtime.clone(),
                        c.status.clone(),
                        c.ephemeral.to_string(),
                    ]
                })
                .collect::<Vec<_>>(),
        ),
        _ => encode(format, &document("ClusterList", items)),
    }
}

/// `get nodes -o …` (not `Names`).
pub fn nodes(format: Format, items: &[NodeSummary]) -> String {
    match format {
        Format::Wide => table(
            &[
                "NAME",
                "ROLE",
                "STATUS",
                "IMAGE",
                "CONTAINER-IMAGE",
                "IPV4",
                "IPV6",
                "RUNTIME",
            ],
            &items
                .iter()
                .map(|n| {
                    vec![
                        n.name.clone(),
                        n.role.clone(),
                        n.status.clone(),
                        n.image.clone(),
                        n.container_image.clone(),
                        n.ipv4.clone(),
                        n.ipv6.clone(),
                        n.runtime.clone(),
                    ]
                })
                .collect::<Vec<_>>(),
        ),
        _ => encode(format, &document("NodeList", items)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> ClusterSummary {
        ClusterSummary {
            name: "dev".into(),
            control_planes: 1,
            workers: 2,
            load_balancer: false,
            network: "kind".into(),
            images: vec![
                "kindest/node:v1.31.2".into(),
                "kind-sysbox/node:v1.36.1".into(),
            ],
            kubernetes_version: "v1.36.1".into(),
            runtime: "sysbox-runc".into(),
            status: "running".into(),
            ephemeral: false,
        }
    }

    #[test]
    fn formats_parse_and_unknown_ones_name_the_allowed_values() {
        assert_eq!(Format::parse("").unwrap(), Format::Names);
        assert_eq!(Format::parse("wide").unwrap(), Format::Wide);
        assert_eq!(Format::parse("json").unwrap(), Format::Json);
        assert_eq!(Format::parse("yaml").unwrap(), Format::Yaml);
        for bad in ["JSON", "name", "jsonpath"] {
            assert_eq!(
                Format::parse(bad).unwrap_err().to_string(),
                format!(
                    "unknown output format {bad:?}: the allowed values are wide, json and yaml"
                )
            );
        }
    }

    #[test]
    fn wide_aligns_columns_like_kubectl() {
        let mut other = cluster();
        other.name = "a-much-longer-name".into();
        other.images = vec!["x".into()];
        other.network = String::new();
        assert_eq!(
            clusters(Format::Wide, &[cluster(), other]),
            "\
NAME                 CONTROL-PLANES   WORKERS   NETWORK   IMAGES                                          VERSION   RUNTIME       STATUS    EPHEMERAL
dev                  1                2         kind      kindest/node:v1.31.2,kind-sysbox/node:v1.36.1   v1.36.1   sysbox-runc   running   false
a-much-longer-name   1                2         <none>    x                                               v1.36.1   sysbox-runc   running   false
"
        );
    }

    #[test]
    fn json_and_yaml_are_one_list_document() {
        let text = clusters(Format::Json, &[cluster()]);
        assert!(
            text.starts_with("{\n    \"apiVersion\": \"kind-sysbox.dev/v1alpha1\",\n    \"kind\": \"ClusterList\",\n    \"items\": [\n        {\n            \"name\": \"dev\",\n"),
            "{text}"
        );
        let json: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["apiVersion"], API_VERSION);
        assert_eq!(json["kind"], "ClusterList");
        assert_eq!(json["items"][0]["controlPlanes"], 1);
        assert_eq!(json["items"][0]["kubernetesVersion"], "v1.36.1");
        let yaml = clusters(Format::Yaml, &[cluster()]);
        assert!(
            yaml.starts_with("apiVersion: kind-sysbox.dev/v1alpha1\nitems:\n- controlPlanes: 1\n"),
            "{yaml}"
        );
        assert_eq!(crate::yaml::convert::to_json(&yaml).unwrap(), json);
        // No clusters: still a document, with no items.
        let empty: Value = serde_json::from_str(&clusters(Format::Json, &[])).unwrap();
        assert_eq!(empty["items"], json!([]));
    }
}
