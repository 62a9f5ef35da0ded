//! Patching a multi-document Kubernetes YAML stream (kubeadm configs, the
//! CNI manifest): merge patches matched by kind/apiVersion, kubeadm-aware
//! for extraArgs and certSANs, then RFC 6902 patches; re-emitted as go-yaml
//! v2 writes it.

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{Map, Value};
use serde_yaml::Value as Yaml;

use super::json6902;
use super::merge::merge_patch;
use crate::config::PatchJson6902;
use crate::yaml::{convert, emit};

/// Apply merge patches then JSON 6902 patches to every matching document of
/// a `---`-separated YAML stream; output is always re-serialised (sorted
/// keys, no comments). Spec §4.4.
pub fn kube_yaml(
    raw: &str,
    merge: &[String],
    json6902: &[PatchJson6902],
) -> anyhow::Result<String> {
    let mut resources = parse_resources(raw).context("failed to parse yaml to patch")?;
    let merge_patches = parse_merge_patches(merge).context("failed to parse patches")?;
    let patches_6902 = parse_6902_patches(json6902).context("failed to parse JSON 6902 patches")?;

    let mut docs = Vec::with_capacity(resources.len());
    for r in &mut resources {
        let meta = r.meta.clone();
        for p in merge_patches.iter().filter(|p| meta.matched_by(&p.meta)) {
            r.apply_merge(p).context("failed to apply patch")?;
        }
        for p in patches_6902.iter().filter(|p| meta.matched_by(&p.meta)) {
            json6902::apply(&mut r.json, &p.ops)
                .map_err(|e| anyhow!("{e}"))
                .context("failed to apply JSON 6902 patch")?;
        }
        docs.push(emit::marshal(&r.json));
    }
    Ok(docs.join("---\n"))
}

/// Split a YAML stream at every line starting with `---` (the rest of that
/// line is dropped), as upstream's document splitter does. A stream that
/// begins with `---` keeps it: only separators after a newline count.
pub fn split_documents(stream: &str) -> Vec<&str> {
    let mut docs = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let Some(i) = rest.find("\n---") else {
            docs.push(rest);
            break;
        };
        docs.push(&rest[..i]);
        let after = &rest[i + 4..];
        match after.find('\n') {
            Some(j) => rest = &after[j + 1..],
            // A final separator line without a newline ends the stream.
            // (Upstream's scanner would drop the whole last document here.)
            None => break,
        }
    }
    docs
}

/// The TypeMeta fields documents and patches are matched on.
#[derive(Debug, Default, Clone, PartialEq)]
struct MatchInfo {
    kind: String,
    api_version: String,
}

impl MatchInfo {
    fn of(doc: &Value) -> Result<MatchInfo> {
        let field = |m: &Map<String, Value>, name: &str| -> Result<String> {
            match m.get(name) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(other) => bail!("cannot read {name} {other} as a string"),
            }
        };
        match doc {
            Value::Null => Ok(MatchInfo::default()),
            Value::Object(m) => Ok(MatchInfo {
                kind: field(m, "kind")?,
                api_version: field(m, "apiVersion")?,
            }),
            other => bail!(
                "expected a YAML mapping with kind and apiVersion, got {}",
                describe(other)
            ),
        }
    }

    /// Kind must be equal; an empty apiVersion in the patch matches any.
    fn matched_by(&self, patch: &MatchInfo) -> bool {
        self.kind == patch.kind
            && (patch.api_version.is_empty() || self.api_version == patch.api_version)
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Number(n) => format!("the number {n}"),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Null => "null".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

struct Resource {
    json: Value,
    meta: MatchInfo,
}

struct MergePatch {
    /// The patch in source order (needed to convert map-form extraArgs).
    ordered: Yaml,
    meta: MatchInfo,
}

struct Json6902 {
    ops: json6902::Patch,
    meta: MatchInfo,
}

fn parse_resources(raw: &str) -> Result<Vec<Resource>> {
    split_documents(raw)
        .into_iter()
        .map(|doc| {
            let json = convert::to_json(doc)?;
            let meta = MatchInfo::of(&json)?;
            Ok(Resource { json, meta })
        })
        .collect()
}

fn parse_merge_patches(raw: &[String]) -> Result<Vec<MergePatch>> {
    let mut out = Vec::new();
    for stream in raw {
        for doc in split_documents(stream) {
            let ordered = convert::to_ordered(doc)?;
            let meta = MatchInfo::of(&convert::yaml_value_to_json(&ordered)?)?;
            out.push(MergePatch { ordered, meta });
        }
    }
    Ok(out)
}

fn parse_6902_patches(raw: &[PatchJson6902]) -> Result<Vec<Json6902>> {
    raw.iter()
        .map(|p| {
            // YAML is a superset of JSON, so either form is accepted.
            // An empty patch decodes as null: nothing to do, as upstream.
            let ops =
                json6902::decode_value(convert::to_json(&p.patch)?).map_err(|e| anyhow!(e))?;
            let api_version = if p.group.is_empty() {
                p.version.clone()
            } else {
                format!("{}/{}", p.group, p.version)
            };
            Ok(Json6902 {
                ops,
                meta: MatchInfo {
                    kind: p.kind.clone(),
                    api_version,
                },
            })
        })
        .collect()
}

impl Resource {
    fn apply_merge(&mut self, p: &MergePatch) -> Result<()> {
        let mut patch = p.ordered.clone();
        if let (Value::Object(target), Yaml::Mapping(pm)) = (&mut self.json, &mut patch) {
            kubeadm_prepass(target, pm, &self.meta.api_version, &p.meta.api_version)?;
        }
        merge_patch(&mut self.json, convert::yaml_value_to_json(&patch)?)
    }
}

/// kubeadm-aware handling before the plain merge: certSANs are unioned,
/// and for v1beta4 targets extraArgs/kubeletExtraArgs merge by name. Those
/// keys are removed from the patch; nested maps missing in the target are
/// created so the walk can descend.
fn kubeadm_prepass(
    target: &mut Map<String, Value>,
    patch: &mut serde_yaml::Mapping,
    target_version: &str,
    patch_version: &str,
) -> Result<()> {
    let keys: Vec<String> = patch
        .keys()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect();
    for k in keys {
        let ykey = Yaml::String(k.clone());
        if k == "extraArgs" || k == "kubeletExtraArgs" {
            if target_version.ends_with("v1beta4") {
                let pv = patch.remove(&ykey).unwrap_or(Yaml::Null);
                merge_extra_args(target, &k, &pv, patch_version)?;
            }
            continue;
        }
        if k == "certSANs" {
            let pv = patch.remove(&ykey).unwrap_or(Yaml::Null);
            merge_cert_sans(target, &k, &pv)?;
            continue;
        }
        if let Some(Yaml::Mapping(sub)) = patch.get_mut(&ykey) {
            let tv = target
                .entry(k.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(tm) = tv {
                kubeadm_prepass(tm, sub, target_version, patch_version)?;
            }
        }
    }
    Ok(())
}

/// Old-style `{name: value}` args as a v1beta4 `[{name, value}]` list.
fn args_from_map<'a>(entries: impl Iterator<Item = (String, &'a Value)>) -> Vec<Value> {
    entries
        .map(|(k, v)| {
            let mut m = Map::new();
            m.insert("name".into(), Value::String(k));
            m.insert("value".into(), v.clone());
            Value::Object(m)
        })
        .collect()
}

fn merge_extra_args(
    target: &mut Map<String, Value>,
    key: &str,
    patch_val: &Yaml,
    patch_version: &str,
) -> Result<()> {
    let patch_items: Vec<Value> = match patch_val {
        Yaml::Sequence(_) => match convert::yaml_value_to_json(patch_val)? {
            Value::Array(a) => a,
            _ => Vec::new(),
        },
        // Map form is only understood from unversioned patches; converted
        // in the order the user wrote it.
        Yaml::Mapping(m) if patch_version.is_empty() => {
            let mut items = Vec::new();
            for (k, v) in m {
                let v = convert::yaml_value_to_json(v)?;
                items.extend(args_from_map(std::iter::once((
                    k.as_str().unwrap_or_default().to_string(),
                    &v,
                ))));
            }
            items
        }
        _ => Vec::new(),
    };

    // `None` stands for upstream's nil slice, which serialises as null.
    let mut items: Option<Vec<Value>> = match target.get(key) {
        Some(Value::Array(a)) => Some(a.clone()),
        Some(Value::Object(m)) if !m.is_empty() => {
            Some(args_from_map(m.iter().map(|(k, v)| (k.clone(), v))))
        }
        _ => None,
    };

    for p in &patch_items {
        let Some(name) = p.get("name").and_then(Value::as_str) else {
            continue;
        };
        let value = p.get("value").cloned().unwrap_or(Value::Null);
        let found = items.as_ref().and_then(|l| {
            l.iter()
                .position(|t| t.get("name").and_then(Value::as_str) == Some(name))
        });
        match (found, items.as_mut()) {
            (Some(i), Some(list)) if value.is_null() => {
                list.remove(i);
            }
            (Some(i), Some(list)) => {
                if let Value::Object(t) = &mut list[i] {
                    t.insert("value".into(), value);
                }
            }
            _ if value.is_null() => {}
            _ => {
                let mut m = Map::new();
                m.insert("name".into(), Value::String(name.to_string()));
                m.insert("value".into(), value);
                items.get_or_insert_with(Vec::new).push(Value::Object(m));
            }
        }
    }
    target.insert(key.to_string(), items.map_or(Value::Null, Value::Array));
    Ok(())
}

fn merge_cert_sans(target: &mut Map<String, Value>, key: &str, patch_val: &Yaml) -> Result<()> {
    let mut sans: Option<Vec<Value>> = match target.get(key) {
        Some(Value::Array(a)) => Some(a.clone()),
        _ => None,
    };
    if let Value::Array(add) = convert::yaml_value_to_json(patch_val)? {
        for item in add {
            let list = sans.get_or_insert_with(Vec::new);
            if !list.contains(&item) {
                list.push(item);
            }
        }
    }
    target.insert(key.to_string(), sans.map_or(Value::Null, Value::Array));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json6902(group: &str, version: &str, kind: &str, patch: &str) -> PatchJson6902 {
        PatchJson6902 {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            patch: patch.into(),
        }
    }

    const NORMAL_KUBEADM_CONFIG: &str = r#"# config generated by kind
apiVersion: kubeadm.k8s.io/v1beta2
kind: ClusterConfiguration
metadata:
  name: config
kubernetesVersion: v1.15.3
clusterName: "kind"
controlPlaneEndpoint: "192.168.9.3:6443"
# on docker for mac we have to expose the api server via port forward,
# so we need to ensure the cert is valid for localhost so we can talk
# to the cluster after rewriting the kubeconfig to point to localhost
apiServer:
  certSANs: [localhost, "127.0.0.1"]
controllerManager:
  extraArgs:
    enable-hostpath-provisioner: "true"
    # configure ipv6 default addresses for IPv6 clusters
    
scheduler:
  extraArgs:
    # configure ipv6 default addresses for IPv6 clusters
    
networking:
  podSubnet: "10.244.0.0/16"
  serviceSubnet: "10.96.0.0/12"
---
apiVersion: kubeadm.k8s.io/v1beta2
kind: InitConfiguration
metadata:
  name: config
# we use a well know token for TLS bootstrap
bootstrapTokens:
- token: "abcdef.0123456789abcdef"
# we use a well know port for making the API server discoverable inside docker network. 
# from the host machine such port will be accessible via a random local port instead.
localAPIEndpoint:
  advertiseAddress: "192.168.9.6"
  bindPort: 6443
nodeRegistration:
  criSocket: "/run/containerd/containerd.sock"
  kubeletExtraArgs:
    fail-swap-on: "false"
    node-ip: "192.168.9.6"
---
# no-op entry that exists solely so it can be patched
apiVersion: kubeadm.k8s.io/v1beta2
kind: JoinConfiguration
metadata:
  name: config
controlPlane:
  localAPIEndpoint:
    advertiseAddress: "192.168.9.6"
    bindPort: 6443
nodeRegistration:
  criSocket: "/run/containerd/containerd.sock"
  kubeletExtraArgs:
    fail-swap-on: "false"
    node-ip: "192.168.9.6"
discovery:
  bootstrapToken:
    apiServerEndpoint: "192.168.9.3:6443"
    token: "abcdef.0123456789abcdef"
    unsafeSkipCAVerification: true
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
metadata:
  name: config
# configure ipv6 addresses in IPv6 mode
 
# disable disk resource management by default
# kubelet will see the host disk that the inner container runtime
# is ultimately backed by and attempt to recover disk space. we don't want that.
imageGCHighThresholdPercent: 100
evictionHard:
  nodefs.available: "0%"
  nodefs.inodesFree: "0%"
  imagefs.available: "0%"
---
# no-op entry that exists solely so it can be patched
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
metadata:
  name: config
---"#;

    /// The normalised form of NORMAL_KUBEADM_CONFIG with placeholders for
    /// what the patch cases change.
    fn normal_output(scheduler_args: &str, extra_sans: &str, init_kubelet_args: &str) -> String {
        format!(
            r#"apiServer:
  certSANs:
  - localhost
  - 127.0.0.1
{extra_sans}apiVersion: kubeadm.k8s.io/v1beta2
clusterName: kind
controlPlaneEndpoint: 192.168.9.3:6443
controllerManager:
  extraArgs:
    enable-hostpath-provisioner: "true"
kind: ClusterConfiguration
kubernetesVersion: v1.15.3
metadata:
  name: config
networking:
  podSubnet: 10.244.0.0/16
  serviceSubnet: 10.96.0.0/12
scheduler:
  extraArgs:{scheduler_args}
---
apiVersion: kubeadm.k8s.io/v1beta2
bootstrapTokens:
- token: abcdef.0123456789abcdef
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 192.168.9.6
  bindPort: 6443
metadata:
  name: config
nodeRegistration:
  criSocket: /run/containerd/containerd.sock
  kubeletExtraArgs:
{init_kubelet_args}---
apiVersion: kubeadm.k8s.io/v1beta2
controlPlane:
  localAPIEndpoint:
    advertiseAddress: 192.168.9.6
    bindPort: 6443
discovery:
  bootstrapToken:
    apiServerEndpoint: 192.168.9.3:6443
    token: abcdef.0123456789abcdef
    unsafeSkipCAVerification: true
kind: JoinConfiguration
metadata:
  name: config
nodeRegistration:
  criSocket: /run/containerd/containerd.sock
  kubeletExtraArgs:
    fail-swap-on: "false"
    node-ip: 192.168.9.6
---
apiVersion: kubelet.config.k8s.io/v1beta1
evictionHard:
  imagefs.available: 0%
  nodefs.available: 0%
  nodefs.inodesFree: 0%
imageGCHighThresholdPercent: 100
kind: KubeletConfiguration
metadata:
  name: config
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
metadata:
  name: config
"#
        )
    }

    const DEFAULT_INIT_ARGS: &str = "    fail-swap-on: \"false\"\n    node-ip: 192.168.9.6\n";
    const PATCHED_INIT_ARGS: &str =
        "    fail-swap-on: \"false\"\n    logging-format: json\n    node-ip: 192.168.9.6\n    v: \"4\"\n";
    const PATCHED_SCHEDULER: &str = "\n    some-extra-arg: the-arg";

    const TRIVIAL_PATCH: &str = r#"
kind: ClusterConfiguration
apiVersion: kubeadm.k8s.io/v1beta2

scheduler:
  extraArgs:
   some-extra-arg: the-arg
----
kind: InitConfiguration
nodeRegistration:
  kubeletExtraArgs:
    "v": "4"
    "logging-format": "json"
"#;

    const V1BETA4_CONFIG: &str = r#"apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
metadata:
  name: config
apiServer:
  certSANs: [localhost, "127.0.0.1"]
  extraArgs:
  - name: "v"
    value: "4"
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
metadata:
  name: config
nodeRegistration:
  kubeletExtraArgs:
  - name: "fail-swap-on"
    value: "false"
"#;

    fn v1beta4_output(extra_args: &str, kubelet_args: &str) -> String {
        format!(
            "apiServer:\n  certSANs:\n  - localhost\n  - 127.0.0.1\n  - my-host\n  extraArgs:\n{extra_args}\
apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nmetadata:\n  name: config\n---\n\
apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nmetadata:\n  name: config\n\
nodeRegistration:\n  kubeletExtraArgs:\n{kubelet_args}"
        )
    }

    #[test]
    fn upstream_kube_yaml_cases() {
        let sans_6902 = json6902(
            "kubeadm.k8s.io",
            "v1beta2",
            "ClusterConfiguration",
            "\n- op: add\n  path: /apiServer/certSANs/-\n  value: my-hostname",
        );
        struct Case {
            name: &'static str,
            to_patch: &'static str,
            merge: Vec<String>,
            json6902: Vec<PatchJson6902>,
            want: Option<String>,
        }
        let cases = vec![
            Case {
                name: "no patches: normalised, metadata kept, no trailing separator",
                to_patch: NORMAL_KUBEADM_CONFIG,
                merge: vec![],
                json6902: vec![],
                want: Some(normal_output(" null", "", DEFAULT_INIT_ARGS)),
            },
            Case {
                name: "bogus patch",
                to_patch: NORMAL_KUBEADM_CONFIG,
                merge: vec!["b o g u s".into()],
                json6902: vec![],
                want: None,
            },
            Case {
                name: "one merge patch stream with a ---- separator",
                to_patch: NORMAL_KUBEADM_CONFIG,
                merge: vec![TRIVIAL_PATCH.into()],
                json6902: vec![],
                want: Some(normal_output(PATCHED_SCHEDULER, "", PATCHED_INIT_ARGS)),
            },
            Case {
                name: "merge patch and a YAML 6902 patch",
                to_patch: NORMAL_KUBEADM_CONFIG,
                merge: vec![TRIVIAL_PATCH.into()],
                json6902: vec![sans_6902],
                want: Some(normal_output(PATCHED_SCHEDULER, "  - my-hostname\n", PATCHED_INIT_ARGS)),
            },
            Case {
                name: "v1beta4 target, unversioned old-style patch",
                to_patch: V1BETA4_CONFIG,
                merge: vec![r#"kind: ClusterConfiguration
apiServer:
  extraArgs:
    "v": "5"
    "enable-hostpath-provisioner": "true"
  certSANs:
    - "my-host"
---
kind: InitConfiguration
nodeRegistration:
  kubeletExtraArgs:
    "fail-swap-on": null
    "node-ip": "192.168.9.6"
"#
                .into()],
                json6902: vec![],
                want: Some(v1beta4_output(
                    "  - name: v\n    value: \"5\"\n  - name: enable-hostpath-provisioner\n    value: \"true\"\n",
                    "  - name: node-ip\n    value: 192.168.9.6\n",
                )),
            },
            Case {
                name: "v1beta4 target, versioned v1beta4 patch",
                to_patch: V1BETA4_CONFIG,
                merge: vec![r#"apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
apiServer:
  extraArgs:
  - name: "enable-hostpath-provisioner"
    value: "true"
  certSANs:
  - "my-host"
"#
                .into()],
                json6902: vec![],
                want: Some(v1beta4_output(
                    "  - name: v\n    value: \"4\"\n  - name: enable-hostpath-provisioner\n    value: \"true\"\n",
                    "  - name: fail-swap-on\n    value: \"false\"\n",
                )),
            },
            Case {
                name: "v1beta3 target, versioned v1beta3 patch",
                to_patch: r#"apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
metadata:
  name: config
apiServer:
  certSANs: [localhost, "127.0.0.1"]
  extraArgs:
    "v": "4"
"#,
                merge: vec![r#"apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
apiServer:
  extraArgs:
    "enable-hostpath-provisioner": "true"
  certSANs:
    - "my-host"
"#
                .into()],
                json6902: vec![],
                want: Some(
                    "apiServer:\n  certSANs:\n  - localhost\n  - 127.0.0.1\n  - my-host\n  extraArgs:\n    \
enable-hostpath-provisioner: \"true\"\n    v: \"4\"\napiVersion: kubeadm.k8s.io/v1beta3\n\
kind: ClusterConfiguration\nmetadata:\n  name: config\n"
                        .into(),
                ),
            },
        ];
        for c in cases {
            let got = kube_yaml(c.to_patch, &c.merge, &c.json6902);
            match (&c.want, got) {
                (Some(want), Ok(got)) => assert_eq!(&got, want, "{}", c.name),
                (None, Err(_)) => {}
                (want, got) => panic!("{}: want {want:?}, got {got:?}", c.name),
            }
        }
    }

    #[test]
    fn error_prefixes() {
        let cases: Vec<(&str, Vec<String>, Vec<PatchJson6902>, &str)> = vec![
            (
                "kind: A\n---\n- a list\n",
                vec![],
                vec![],
                "failed to parse yaml to patch",
            ),
            ("a: [", vec![], vec![], "failed to parse yaml to patch"),
            (
                "kind: A\n",
                vec!["b o g u s".into()],
                vec![],
                "failed to parse patches",
            ),
            (
                "kind: A\n",
                vec!["kind: [1]".into()],
                vec![],
                "failed to parse patches",
            ),
            (
                "kind: A\n",
                vec![],
                vec![json6902("", "", "A", "op: add")],
                "failed to parse JSON 6902 patches",
            ),
            (
                "kind: A\n",
                vec![],
                vec![json6902("", "", "A", "[{op: bogus, path: /a}]")],
                "failed to apply JSON 6902 patch",
            ),
            (
                "kind: A\n",
                vec![],
                vec![json6902("", "", "A", "[{op: remove, path: /missing}]")],
                "failed to apply JSON 6902 patch",
            ),
            (
                "kind: A\n",
                vec!["kind: A\nx: [".into()],
                vec![],
                "failed to parse patches",
            ),
        ];
        for (doc, merge, p6902, prefix) in cases {
            let err = kube_yaml(doc, &merge, &p6902).unwrap_err();
            assert!(format!("{err:#}").starts_with(prefix), "{doc:?}: {err:#}");
        }
    }

    /// The texts upstream kind v0.32.0 printed for the same patches
    /// (its json-patch library's, under its own prefixes).
    #[test]
    fn malformed_6902_patches_read_as_upstreams() {
        let doc =
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nclusterName: kind\n";
        let err = |kind: &str, patch: &str| {
            format!(
                "{:#}",
                kube_yaml(doc, &[], &[json6902("", "", kind, patch)]).unwrap_err()
            )
        };
        let cp = "ClusterConfiguration";
        assert_eq!(
            err(cp, "[{op: bogus, path: /a}]"),
            "failed to apply JSON 6902 patch: Unexpected kind: bogus"
        );
        assert_eq!(
            err(cp, "- op: bogus\n  path: /a"),
            "failed to apply JSON 6902 patch: Unexpected kind: bogus"
        );
        assert_eq!(
            err(cp, "[{path: /a}]"),
            "failed to apply JSON 6902 patch: Unexpected kind: unknown"
        );
        assert_eq!(
            err(cp, "[{op: add, path: /x, value: 1}, {op: bogus, path: /a}]"),
            "failed to apply JSON 6902 patch: Unexpected kind: bogus"
        );
        assert_eq!(
            err(cp, "op: add"),
            "failed to parse JSON 6902 patches: json: cannot unmarshal object into Go value of type jsonpatch.Patch"
        );
        assert_eq!(
            err(cp, "[1]"),
            "failed to parse JSON 6902 patches: json: cannot unmarshal number into Go value of type jsonpatch.Operation"
        );
        // Kinds are checked when applied: a patch matching nothing never fails on one.
        assert!(kube_yaml(
            doc,
            &[],
            &[json6902("", "", "Other", "[{op: bogus, path: /a}]")]
        )
        .is_ok());
    }

    #[test]
    fn patches_match_on_kind_and_optional_api_version() {
        let doc = "apiVersion: a/v1\nkind: K\n---\napiVersion: a/v2\nkind: K\n---\napiVersion: a/v1\nkind: Other\n";
        let merge = vec!["kind: K\napiVersion: a/v2\nx: 1\n---\nkind: K\nw: 2\n".to_string()];
        let p6902 = vec![json6902(
            "a",
            "v1",
            "K",
            r#"[{"op": "add", "path": "/z", "value": 3}]"#,
        )];
        let got = kube_yaml(doc, &merge, &p6902).unwrap();
        assert_eq!(
            got,
            "apiVersion: a/v1\nkind: K\nw: 2\nz: 3\n---\napiVersion: a/v2\nkind: K\nw: 2\nx: 1\n---\napiVersion: a/v1\nkind: Other\n"
        );
        // A 6902 patch with no group targets the bare version; with neither, only kind counts.
        let p6902 = vec![
            json6902(
                "",
                "v1",
                "K",
                r#"[{"op": "add", "path": "/core", "value": true}]"#,
            ),
            json6902(
                "",
                "",
                "K",
                r#"[{"op": "add", "path": "/any", "value": true}]"#,
            ),
        ];
        let got = kube_yaml(
            "apiVersion: v1\nkind: K\n---\napiVersion: a/v1\nkind: K\n",
            &[],
            &p6902,
        )
        .unwrap();
        assert_eq!(got, "any: true\napiVersion: v1\ncore: true\nkind: K\n---\nany: true\napiVersion: a/v1\nkind: K\n");
    }

    #[test]
    fn empty_6902_patch_is_a_no_op() {
        assert_eq!(
            kube_yaml("kind: K\n", &[], &[json6902("", "", "K", "")]).unwrap(),
            "kind: K\n"
        );
    }

    #[test]
    fn merge_patches_apply_in_order_before_6902_patches() {
        let merge = vec![
            "kind: K\nv: first\n".to_string(),
            "kind: K\nv: second\n".to_string(),
        ];
        let p6902 = vec![json6902(
            "",
            "",
            "K",
            "- op: replace\n  path: /v\n  value: third",
        )];
        assert_eq!(
            kube_yaml("kind: K\n", &merge, &[]).unwrap(),
            "kind: K\nv: second\n"
        );
        assert_eq!(
            kube_yaml("kind: K\n", &merge, &p6902).unwrap(),
            "kind: K\nv: third\n"
        );
    }

    #[test]
    fn merge_patch_null_deletes_and_lists_replace() {
        let doc = "kind: K\na: {b: 1, c: 2}\nl: [1, 2]\n";
        let merge = vec!["kind: K\na: {b: null}\nl: [3]\n".to_string()];
        assert_eq!(
            kube_yaml(doc, &merge, &[]).unwrap(),
            "a:\n  c: 2\nkind: K\nl:\n- 3\n"
        );
    }

    #[test]
    fn cert_sans_are_unioned_at_any_depth() {
        let doc = "kind: K\nx:\n  certSANs: [a, b]\ncertSANs: [top]\n";
        let merge = vec![
            "kind: K\nx:\n  certSANs: [b, c]\ncertSANs: [top, d]\nnew:\n  certSANs: [e]\n"
                .to_string(),
        ];
        let got = kube_yaml(doc, &merge, &[]).unwrap();
        assert_eq!(got, "certSANs:\n- top\n- d\nkind: K\nnew:\n  certSANs:\n  - e\nx:\n  certSANs:\n  - a\n  - b\n  - c\n");
        // A non-list certSANs in the patch leaves the target list alone.
        let got = kube_yaml(doc, &["kind: K\ncertSANs: null\n".to_string()], &[]).unwrap();
        assert!(got.starts_with("certSANs:\n- top\n"), "{got}");
    }

    #[test]
    fn v1beta4_extra_args_merge_by_name() {
        let doc = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\napiServer:\n  extraArgs:\n  - {name: a, value: \"1\"}\n  - {name: b, value: \"2\"}\n";
        let cases = [
            // Unversioned map form: converted in source order (z before c).
            (
                "kind: ClusterConfiguration\napiServer:\n  extraArgs:\n    z: \"26\"\n    a: \"one\"\n    c: \"3\"\n",
                "- name: a\n    value: one\n  - name: b\n    value: \"2\"\n  - name: z\n    value: \"26\"\n  - name: c\n    value: \"3\"\n",
            ),
            // Versioned map form is ignored.
            (
                "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\napiServer:\n  extraArgs:\n    z: \"26\"\n",
                "- name: a\n    value: \"1\"\n  - name: b\n    value: \"2\"\n",
            ),
            // List form: null value deletes, a missing name is skipped.
            (
                "kind: ClusterConfiguration\napiServer:\n  extraArgs:\n  - {name: a, value: null}\n  - {value: x}\n  - {name: n}\n",
                "- name: b\n    value: \"2\"\n",
            ),
        ];
        for (patch, want_args) in cases {
            let got = kube_yaml(doc, &[patch.to_string()], &[]).unwrap();
            let want = format!("apiServer:\n  extraArgs:\n  {want_args}apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n");
            assert_eq!(got, want, "patch {patch:?}");
        }
        // Absent in the target: created from the patch (scheduler map created too).
        let got = kube_yaml(
            doc,
            &["kind: ClusterConfiguration\nscheduler:\n  extraArgs:\n    v: \"4\"\n".to_string()],
            &[],
        )
        .unwrap();
        assert!(
            got.contains("scheduler:\n  extraArgs:\n  - name: v\n    value: \"4\"\n"),
            "{got}"
        );
        // A versioned map-form patch on a target without the key yields null, as upstream.
        let got = kube_yaml(
            doc,
            &["apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nscheduler:\n  extraArgs:\n    v: \"4\"\n".to_string()],
            &[],
        )
        .unwrap();
        assert!(got.contains("scheduler:\n  extraArgs: null\n"), "{got}");
    }

    #[test]
    fn non_v1beta4_extra_args_use_the_plain_merge() {
        let doc = "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n    a: \"1\"\n    b: \"2\"\n";
        let patch = "kind: InitConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n    a: null\n    c: \"3\"\n";
        let got = kube_yaml(doc, &[patch.to_string()], &[]).unwrap();
        assert_eq!(
            got,
            "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n    b: \"2\"\n    c: \"3\"\n"
        );
    }

    #[test]
    fn document_splitting() {
        assert_eq!(split_documents("a\n---\nb"), vec!["a", "b"]);
        assert_eq!(
            split_documents("a\n--- # comment\nb\n----\nc\n"),
            vec!["a", "b", "c\n"]
        );
        assert_eq!(split_documents("a\n---"), vec!["a"]);
        assert_eq!(split_documents("a\n---\n"), vec!["a"]);
        assert_eq!(split_documents("---\na\n"), vec!["---\na\n"]);
        // The second separator starts the remaining text, which is not split again.
        assert_eq!(split_documents("a\n---\n---\nb"), vec!["a", "---\nb"]);
        assert_eq!(split_documents("a\n---\n\n---\nb"), vec!["a", "", "b"]);
        assert_eq!(split_documents(""), Vec::<&str>::new());
    }

    #[test]
    fn comments_are_dropped_and_quoting_normalised() {
        let doc = "# c\nkind: K # trailing\nport: \"6443\"\nflag: 'true'\nname: \"plain\"\n";
        assert_eq!(
            kube_yaml(doc, &[], &[]).unwrap(),
            "flag: \"true\"\nkind: K\nname: plain\nport: \"6443\"\n"
        );
    }
}
