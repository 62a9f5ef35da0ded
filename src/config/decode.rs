//! Reading and decoding a `kind.x-k8s.io/v1alpha4` config (spec §2.1).
//!
//! Upstream decodes with go-yaml v3 into Go structs, in two passes: a lenient
//! read of `kind`/`apiVersion`, then a strict one (unknown fields are errors).
//! Its error texts name Go types and source lines, so rather than serde we
//! walk the positioned node tree (`crate::yaml::parse`) against a small schema of
//! the Go types, reproducing go-yaml's decoder rules: type errors are
//! collected (`yaml: unmarshal errors:` + one `line N: …` per problem), while
//! a few problems (bad explicit tags, unknown enum values) abort at once.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;

use super::{
    defaults, Cluster, Mount, MountPropagation, Networking, Node, PatchJson6902, PortMapping,
    API_VERSION,
};
use crate::yaml::parse::{parse_first_document, Document, Kind, NodeId};
use crate::yaml::resolve::{self, Resolved};

/// A config that could not be read or decoded. `Display` is upstream's text.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// `None` => the default config; `Some("-")` => stdin; otherwise a file.
/// The result is decoded and defaulted as upstream does at decode time,
/// except the name and node images (see `set_defaults_with_image`).
pub fn load(path: Option<&str>) -> Result<Cluster, ConfigError> {
    match path {
        None | Some("") => {
            let mut cluster = Cluster::default();
            defaults::set_defaults_except_name(&mut cluster);
            Ok(cluster)
        }
        Some("-") => {
            let mut raw = Vec::new();
            std::io::stdin().read_to_end(&mut raw).map_err(|e| {
                ConfigError(format!(
                    "error reading config from stdin: read /dev/stdin: {}",
                    crate::gotext::io_error_text(&e)
                ))
            })?;
            parse(&raw)
        }
        Some(path) => parse(&read_file(path)?),
    }
}

/// Reads a whole file, failing with Go's `os.ReadFile` texts.
fn read_file(path: &str) -> Result<Vec<u8>, ConfigError> {
    let fail = |op: &str, e: std::io::Error| {
        ConfigError(format!(
            "error reading file: {op} {path}: {}",
            crate::gotext::io_error_text(&e)
        ))
    };
    let mut file = std::fs::File::open(path).map_err(|e| fail("open", e))?;
    let mut raw = Vec::new();
    file.read_to_end(&mut raw).map_err(|e| fail("read", e))?;
    Ok(raw)
}

/// Decode the first YAML document of `raw` strictly (spec §2.1).
pub fn parse(raw: &[u8]) -> Result<Cluster, ConfigError> {
    const META: &str = "could not determine kind / apiVersion for config";
    let doc = parse_first_document(raw).map_err(|e| ConfigError(format!("{META}: {e}")))?;

    let type_meta =
        decode_root(&doc, &TYPE_META, false).map_err(|e| ConfigError(format!("{META}: {e}")))?;
    let api_version = type_meta.string("apiVersion");
    if api_version != API_VERSION {
        return Err(ConfigError(format!("unknown apiVersion: {api_version}")));
    }
    let kind = type_meta.string("kind");
    if kind != "Cluster" {
        return Err(ConfigError(format!(
            "unknown kind {kind} for apiVersion: {api_version}"
        )));
    }

    let value = decode_root(&doc, &CLUSTER, true)
        .map_err(|e| ConfigError(format!("unable to decode config: {e}")))?;
    let mut cluster = to_cluster(&value);
    // Upstream defaults the versioned object at decode time; the name is
    // only defaulted later, after the CLI's name override.
    defaults::set_defaults_except_name(&mut cluster);
    Ok(cluster)
}

// ---------------------------------------------------------------------------
// The Go types upstream decodes into, as far as errors can name them.

/// A Go type: what a YAML node may decode into.
enum Ty {
    /// `string` or a named string type (`v1alpha4.NodeRole`).
    Str(&'static str),
    Int32,
    Bool,
    Struct(&'static StructTy),
    Slice(&'static Ty),
    /// `map[string]T`.
    Map(&'static Ty),
    /// `*T` (nil when unset, so "unset" and "empty" differ).
    Ptr(&'static Ty),
}

struct StructTy {
    /// Go type name, e.g. `v1alpha4.Node`.
    name: &'static str,
    fields: &'static [(&'static str, Ty)],
    hook: Option<Hook>,
}

/// Upstream's `UnmarshalYAML` on Mount and PortMapping: decode through an
/// alias type (whose name errors then show), then check the result.
struct Hook {
    alias: &'static StructTy,
    check: fn(&mut Value) -> Result<(), String>,
}

const STRING: Ty = Ty::Str("string");
const STRINGS: Ty = Ty::Slice(&STRING);

static TYPE_META: StructTy = StructTy {
    name: "encoding.typeMeta",
    fields: &[("kind", STRING), ("apiVersion", STRING)],
    hook: None,
};

static CLUSTER: StructTy = StructTy {
    name: "v1alpha4.Cluster",
    fields: &[
        ("kind", STRING),
        ("apiVersion", STRING),
        ("name", STRING),
        ("nodes", Ty::Slice(&Ty::Struct(&NODE))),
        ("networking", Ty::Struct(&NETWORKING)),
        ("featureGates", Ty::Map(&Ty::Bool)),
        ("runtimeConfig", Ty::Map(&STRING)),
        ("kubeadmConfigPatches", STRINGS),
        (
            "kubeadmConfigPatchesJSON6902",
            Ty::Slice(&Ty::Struct(&PATCH_JSON6902)),
        ),
        ("containerdConfigPatches", STRINGS),
        ("containerdConfigPatchesJSON6902", STRINGS),
    ],
    hook: None,
};

static NODE: StructTy = StructTy {
    name: "v1alpha4.Node",
    fields: &[
        ("role", Ty::Str("v1alpha4.NodeRole")),
        ("image", STRING),
        ("labels", Ty::Map(&STRING)),
        ("extraMounts", Ty::Slice(&Ty::Struct(&MOUNT))),
        ("extraPortMappings", Ty::Slice(&Ty::Struct(&PORT_MAPPING))),
        ("kubeadmConfigPatches", STRINGS),
        (
            "kubeadmConfigPatchesJSON6902",
            Ty::Slice(&Ty::Struct(&PATCH_JSON6902)),
        ),
    ],
    hook: None,
};

static NETWORKING: StructTy = StructTy {
    name: "v1alpha4.Networking",
    fields: &[
        ("ipFamily", Ty::Str("v1alpha4.ClusterIPFamily")),
        ("apiServerPort", Ty::Int32),
        ("apiServerAddress", STRING),
        ("podSubnet", STRING),
        ("serviceSubnet", STRING),
        ("disableDefaultCNI", Ty::Bool),
        ("kubeProxyMode", Ty::Str("v1alpha4.ProxyMode")),
        ("dnsSearch", Ty::Ptr(&STRINGS)),
    ],
    hook: None,
};

static PATCH_JSON6902: StructTy = StructTy {
    name: "v1alpha4.PatchJSON6902",
    fields: &[
        ("group", STRING),
        ("version", STRING),
        ("kind", STRING),
        ("patch", STRING),
    ],
    hook: None,
};

const MOUNT_FIELDS: &[(&str, Ty)] = &[
    ("containerPath", STRING),
    ("hostPath", STRING),
    ("readOnly", Ty::Bool),
    ("selinuxRelabel", Ty::Bool),
    ("propagation", Ty::Str("v1alpha4.MountPropagation")),
];
static MOUNT: StructTy = StructTy {
    name: "v1alpha4.Mount",
    fields: MOUNT_FIELDS,
    hook: Some(Hook {
        alias: &MOUNT_ALIAS,
        check: check_mount,
    }),
};
static MOUNT_ALIAS: StructTy = StructTy {
    name: "v1alpha4.MountAlias",
    fields: MOUNT_FIELDS,
    hook: None,
};

const PORT_MAPPING_FIELDS: &[(&str, Ty)] = &[
    ("containerPort", Ty::Int32),
    ("hostPort", Ty::Int32),
    ("listenAddress", STRING),
    ("protocol", Ty::Str("v1alpha4.PortMappingProtocol")),
];
static PORT_MAPPING: StructTy = StructTy {
    name: "v1alpha4.PortMapping",
    fields: PORT_MAPPING_FIELDS,
    hook: Some(Hook {
        alias: &PORT_MAPPING_ALIAS,
        check: check_port_mapping,
    }),
};
static PORT_MAPPING_ALIAS: StructTy = StructTy {
    name: "v1alpha4.PortMappingAlias",
    fields: PORT_MAPPING_FIELDS,
    hook: None,
};

/// Propagation is case-sensitive; unset is allowed.
fn check_mount(mount: &mut Value) -> Result<(), String> {
    let p = mount.string("propagation");
    match p.as_str() {
        "" | "None" | "HostToContainer" | "Bidirectional" => Ok(()),
        _ => Err(format!(
            "Unknown MountPropagation: {}",
            crate::gotext::quote(&p)
        )),
    }
}

/// Protocol is case-insensitive: stored upper-cased, unset allowed.
fn check_port_mapping(mapping: &mut Value) -> Result<(), String> {
    let protocol = mapping.string("protocol").to_uppercase();
    if let Value::Struct(fields) = mapping {
        fields.insert("protocol", Value::Str(protocol.clone()));
    }
    match protocol.as_str() {
        "" | "TCP" | "UDP" | "SCTP" => Ok(()),
        _ => Err(format!(
            "Unknown PortMappingProtocol: {}",
            crate::gotext::quote(&protocol)
        )),
    }
}

impl Ty {
    fn go_name(&self) -> String {
        match self {
            Ty::Str(name) => name.to_string(),
            Ty::Int32 => "int32".into(),
            Ty::Bool => "bool".into(),
            Ty::Struct(s) => s.name.into(),
            Ty::Slice(elem) => format!("[]{}", elem.go_name()),
            Ty::Map(elem) => format!("map[string]{}", elem.go_name()),
            Ty::Ptr(elem) => format!("*{}", elem.go_name()),
        }
    }

    fn zero(&self) -> Value {
        match self {
            Ty::Str(_) => Value::Str(String::new()),
            Ty::Int32 => Value::Int(0),
            Ty::Bool => Value::Bool(false),
            Ty::Struct(_) => Value::Struct(BTreeMap::new()),
            Ty::Slice(_) | Ty::Map(_) | Ty::Ptr(_) => Value::Nil,
        }
    }
}

/// A decoded Go value. `Nil` is a nil slice, map or pointer.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Nil,
    Str(String),
    Int(i32),
    Bool(bool),
    Struct(BTreeMap<&'static str, Value>),
    Seq(Vec<Value>),
    Map(BTreeMap<String, Value>),
}

impl Value {
    fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Struct(fields) => fields.get(name),
            _ => None,
        }
    }
    fn string(&self, name: &str) -> String {
        match self.field(name) {
            Some(Value::Str(s)) => s.clone(),
            _ => String::new(),
        }
    }
    fn int(&self, name: &str) -> i32 {
        match self.field(name) {
            Some(Value::Int(i)) => *i,
            _ => 0,
        }
    }
    fn bool(&self, name: &str) -> bool {
        matches!(self.field(name), Some(Value::Bool(true)))
    }
    fn items(&self, name: &str) -> &[Value] {
        match self.field(name) {
            Some(Value::Seq(items)) => items,
            _ => &[],
        }
    }
    fn strings(&self, name: &str) -> Vec<String> {
        self.items(name)
            .iter()
            .map(|v| {
                if let Value::Str(s) = v {
                    s.clone()
                } else {
                    String::new()
                }
            })
            .collect()
    }
    fn map<T>(&self, name: &str, f: impl Fn(&Value) -> T) -> BTreeMap<String, T> {
        match self.field(name) {
            Some(Value::Map(m)) => m.iter().map(|(k, v)| (k.clone(), f(v))).collect(),
            _ => BTreeMap::new(),
        }
    }
}

// ---------------------------------------------------------------------------
// The decoder (go-yaml v3's `decoder`, restricted to the kinds above).

/// An error that stops decoding at once (go-yaml's `fail`).
type Fatal = String;

struct Decoder<'a> {
    doc: &'a Document,
    /// Reject fields the struct does not have (`KnownFields(true)`).
    strict: bool,
    terrors: Vec<String>,
    /// Aliases being expanded, to report self-containing anchors.
    expanding: Vec<NodeId>,
    decode_count: usize,
    alias_count: usize,
    alias_depth: usize,
    /// Keys already set while applying `<<` merge keys.
    merged_fields: Option<HashSet<String>>,
}

/// Decode the document root into `ty`; the error is the full go-yaml text.
fn decode_root(doc: &Document, ty: &'static StructTy, strict: bool) -> Result<Value, String> {
    let mut out = Value::Struct(BTreeMap::new());
    let Some(root) = doc.root else { return Ok(out) };
    let mut d = Decoder {
        doc,
        strict,
        terrors: Vec::new(),
        expanding: Vec::new(),
        decode_count: 0,
        alias_count: 0,
        alias_depth: 0,
        merged_fields: None,
    };
    d.unmarshal(root, &Ty::Struct(ty), &mut out)?;
    if d.terrors.is_empty() {
        Ok(out)
    } else {
        Err(format!(
            "yaml: unmarshal errors:\n  {}",
            d.terrors.join("\n  ")
        ))
    }
}

/// Identity of a key already set, for merge bookkeeping: Go compares the
/// decoded key values, so the resolved tag is part of the identity.
fn key_identity(tag: &str, text: &str) -> String {
    format!("{tag}:{text}")
}

impl Decoder<'_> {
    /// Decode node `n` into `out` (of type `ty`). `Ok(false)` means nothing
    /// usable was stored (go-yaml's `good == false`): sequences then drop the
    /// item. Type problems are recorded in `terrors`.
    fn unmarshal(&mut self, n: NodeId, ty: &Ty, out: &mut Value) -> Result<bool, Fatal> {
        self.decode_count += 1;
        if self.alias_depth > 0 {
            self.alias_count += 1;
        }
        if self.alias_count > 100
            && self.decode_count > 1000
            && self.alias_count as f64 / self.decode_count as f64
                > allowed_alias_ratio(self.decode_count)
        {
            return Err("yaml: document contains excessive aliasing".into());
        }
        let node = self.doc.node(n);
        if node.kind == Kind::Alias {
            if self.expanding.contains(&n) {
                return Err(format!(
                    "yaml: anchor '{}' value contains itself",
                    node.value
                ));
            }
            let target = node.alias.expect("aliases are resolved while parsing");
            self.expanding.push(n);
            self.alias_depth += 1;
            let good = self.unmarshal(target, ty, out);
            self.alias_depth -= 1;
            self.expanding.pop();
            return good;
        }
        if !self.doc.is_null(n) {
            if let Ty::Ptr(elem) = ty {
                if *out == Value::Nil {
                    *out = elem.zero();
                }
                return self.unmarshal_kind(n, elem, out);
            }
            if let Ty::Struct(StructTy {
                hook: Some(hook), ..
            }) = ty
            {
                return self.unmarshal_with_hook(n, hook, out);
            }
        }
        self.unmarshal_kind(n, ty, out)
    }

    /// An `UnmarshalYAML` hook: decode via the alias type; type errors keep
    /// the value unset, otherwise the check may reject or adjust it.
    fn unmarshal_with_hook(
        &mut self,
        n: NodeId,
        hook: &Hook,
        out: &mut Value,
    ) -> Result<bool, Fatal> {
        let before = self.terrors.len();
        let mut alias = Value::Struct(BTreeMap::new());
        self.unmarshal(n, &Ty::Struct(hook.alias), &mut alias)?;
        if self.terrors.len() > before {
            return Ok(false);
        }
        (hook.check)(&mut alias)?;
        *out = alias;
        Ok(true)
    }

    fn unmarshal_kind(&mut self, n: NodeId, ty: &Ty, out: &mut Value) -> Result<bool, Fatal> {
        match self.doc.node(n).kind {
            Kind::Scalar => self.scalar(n, ty, out),
            Kind::Sequence => self.sequence(n, ty, out),
            Kind::Mapping => self.mapping(n, ty, out),
            Kind::Alias => self.unmarshal(n, ty, out),
        }
    }

    /// go-yaml's "cannot unmarshal" message; long scalars are cut to 7 bytes.
    fn terror(&mut self, n: NodeId, tag: &str, go_type: &str) {
        let node = self.doc.node(n);
        let tag = if node.tag.is_empty() { tag } else { &node.tag };
        let value = if tag == resolve::SEQ || tag == resolve::MAP {
            String::new()
        } else if node.value.len() > 10 {
            format!(
                " `{}...`",
                String::from_utf8_lossy(&node.value.as_bytes()[..7])
            )
        } else {
            format!(" `{}`", node.value)
        };
        self.terrors.push(format!(
            "line {}: cannot unmarshal {tag}{value} into {go_type}",
            node.line
        ));
    }

    fn null(ty: &Ty, out: &mut Value) -> bool {
        match ty {
            Ty::Slice(_) | Ty::Map(_) | Ty::Ptr(_) => {
                *out = Value::Nil;
                true
            }
            _ => false,
        }
    }

    fn scalar(&mut self, n: NodeId, ty: &Ty, out: &mut Value) -> Result<bool, Fatal> {
        let node = self.doc.node(n);
        let (tag, resolved) = if self.doc.is_indicated_string(n) {
            (resolve::STR.to_string(), Resolved::Str(node.value.clone()))
        } else {
            resolve::tagged(&node.tag, &node.value)?
        };
        let binary = if tag == resolve::BINARY {
            let Resolved::Str(text) = &resolved else {
                unreachable!("!!binary resolves to its text")
            };
            let bytes =
                base64_decode(text).ok_or("yaml: !!binary value contains invalid base64 data")?;
            Some(String::from_utf8_lossy(&bytes).into_owned())
        } else {
            None
        };
        if resolved == Resolved::Null {
            return Ok(Self::null(ty, out));
        }
        match (ty, &resolved) {
            // Any scalar is taken as its literal text (`!!binary` decoded).
            (Ty::Str(_), _) => {
                *out = Value::Str(binary.unwrap_or_else(|| node.value.clone()));
                return Ok(true);
            }
            (Ty::Int32, r) => {
                let fits = |v: i64| i32::try_from(v).ok();
                let v = match *r {
                    Resolved::Int(v) => fits(v),
                    Resolved::Uint(v) => i64::try_from(v).ok().and_then(fits),
                    // Go truncates floats into ints when in range.
                    Resolved::Float(f) if f <= i64::MAX as f64 => fits(f as i64),
                    _ => None,
                };
                if let Some(v) = v {
                    *out = Value::Int(v);
                    return Ok(true);
                }
            }
            (Ty::Bool, Resolved::Bool(b)) => {
                *out = Value::Bool(*b);
                return Ok(true);
            }
            // YAML 1.1 booleans, accepted for typed bools only.
            (Ty::Bool, Resolved::Str(s)) => match s.as_str() {
                "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
                    *out = Value::Bool(true);
                    return Ok(true);
                }
                "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
                    *out = Value::Bool(false);
                    return Ok(true);
                }
                _ => {}
            },
            _ => {}
        }
        let go_type = ty.go_name();
        self.terror(n, &tag, &go_type);
        Ok(false)
    }

    fn sequence(&mut self, n: NodeId, ty: &Ty, out: &mut Value) -> Result<bool, Fatal> {
        let Ty::Slice(elem) = ty else {
            let go_type = ty.go_name();
            self.terror(n, resolve::SEQ, &go_type);
            return Ok(false);
        };
        let mut items = Vec::new();
        for &child in &self.doc.node(n).children {
            let mut item = elem.zero();
            if self.unmarshal(child, elem, &mut item)? {
                items.push(item);
            }
        }
        *out = Value::Seq(items);
        Ok(true)
    }

    /// Duplicate keys (same node kind and text) are reported; the mapping is
    /// then not decoded at all.
    fn unique_keys(&mut self, n: NodeId) -> bool {
        let node = self.doc.node(n);
        let keys: Vec<NodeId> = node.children.iter().step_by(2).copied().collect();
        let before = self.terrors.len();
        for (i, &a) in keys.iter().enumerate() {
            for &b in &keys[i + 1..] {
                let (ka, kb) = (self.doc.node(a), self.doc.node(b));
                if ka.kind == kb.kind && ka.value == kb.value {
                    self.terrors.push(format!(
                        "line {}: mapping key {} already defined at line {}",
                        kb.line,
                        crate::gotext::quote(&kb.value),
                        ka.line
                    ));
                }
            }
        }
        self.terrors.len() == before
    }

    fn mapping(&mut self, n: NodeId, ty: &Ty, out: &mut Value) -> Result<bool, Fatal> {
        if !self.unique_keys(n) {
            return Ok(false);
        }
        match ty {
            Ty::Struct(s) => self.mapping_struct(n, s, out),
            Ty::Map(elem) => self.mapping_map(n, ty, elem, out),
            _ => {
                let go_type = ty.go_name();
                self.terror(n, resolve::MAP, &go_type);
                Ok(false)
            }
        }
    }

    /// Decode a key as a Go string; `None` when it yields nothing (null).
    fn key(&mut self, k: NodeId) -> Result<Option<String>, Fatal> {
        let mut name = Value::Str(String::new());
        if !self.unmarshal(k, &STRING, &mut name)? {
            return Ok(None);
        }
        Ok(match name {
            Value::Str(s) => Some(s),
            _ => None,
        })
    }

    /// While merging, a key already set by the including mapping (or an
    /// earlier merge source) is skipped.
    fn already_merged(merged: &mut Option<HashSet<String>>, key: &str) -> bool {
        match merged {
            Some(set) => !set.insert(key_identity(resolve::STR, key)),
            None => false,
        }
    }

    fn mapping_map(
        &mut self,
        n: NodeId,
        ty: &Ty,
        elem: &Ty,
        out: &mut Value,
    ) -> Result<bool, Fatal> {
        let mut merged = self.merged_fields.take();
        let mut merge_node = None;
        let is_new = *out == Value::Nil;
        if is_new {
            *out = Value::Map(BTreeMap::new());
        }
        let children = self.doc.node(n).children.clone();
        for pair in children.chunks(2) {
            let (k, v) = (pair[0], pair[1]);
            if self.doc.is_merge_key(k) {
                merge_node = Some(v);
                continue;
            }
            let Some(key) = self.key(k)? else { continue };
            if Self::already_merged(&mut merged, &key) {
                continue;
            }
            let mut value = elem.zero();
            let good = self.unmarshal(v, elem, &mut value)?;
            let Value::Map(map) = out else {
                unreachable!("set above")
            };
            // A null value still creates the entry (with the zero value).
            if good || (self.doc.is_null(v) && (is_new || !map.contains_key(&key))) {
                map.insert(key, value);
            }
        }
        self.merged_fields = merged;
        if let Some(m) = merge_node {
            self.merge(n, m, ty, out)?;
        }
        Ok(true)
    }

    fn mapping_struct(
        &mut self,
        n: NodeId,
        s: &'static StructTy,
        out: &mut Value,
    ) -> Result<bool, Fatal> {
        let mut merged = self.merged_fields.take();
        let mut merge_node = None;
        let mut done: HashSet<&str> = HashSet::new();
        if !matches!(out, Value::Struct(_)) {
            *out = Value::Struct(BTreeMap::new());
        }
        let children = self.doc.node(n).children.clone();
        for pair in children.chunks(2) {
            let (k, v) = (pair[0], pair[1]);
            if self.doc.is_merge_key(k) {
                merge_node = Some(v);
                continue;
            }
            let Some(name) = self.key(k)? else { continue };
            if Self::already_merged(&mut merged, &name) {
                continue;
            }
            let line = self.doc.node(k).line;
            match s.fields.iter().find(|(f, _)| *f == name) {
                Some(&(field, ref fty)) => {
                    if !done.insert(field) {
                        self.terrors.push(format!(
                            "line {line}: field {name} already set in type {}",
                            s.name
                        ));
                        continue;
                    }
                    let Value::Struct(fields) = out else {
                        unreachable!("set above")
                    };
                    let mut value = fields.remove(field).unwrap_or_else(|| fty.zero());
                    let result = self.unmarshal(v, fty, &mut value);
                    let Value::Struct(fields) = out else {
                        unreachable!("set above")
                    };
                    fields.insert(field, value);
                    result?;
                }
                None if self.strict => {
                    self.terrors.push(format!(
                        "line {line}: field {name} not found in type {}",
                        s.name
                    ));
                }
                None => {}
            }
        }
        self.merged_fields = merged;
        if let Some(m) = merge_node {
            self.merge(n, m, &Ty::Struct(s), out)?;
        }
        Ok(true)
    }

    /// Start merge bookkeeping with the keys the including mapping set.
    fn begin_merge(&mut self, parent: NodeId) -> Result<Option<HashSet<String>>, Fatal> {
        let saved = self.merged_fields.clone();
        if self.merged_fields.is_none() {
            let mut set = HashSet::new();
            for &k in self.doc.node(parent).children.iter().step_by(2) {
                let target = self.follow_alias(k);
                let node = self.doc.node(target);
                if node.kind != Kind::Scalar {
                    continue;
                }
                let tag = if self.doc.is_indicated_string(target) {
                    resolve::STR.to_string()
                } else {
                    resolve::tagged(&node.tag, &node.value)?.0
                };
                set.insert(key_identity(&tag, &node.value));
            }
            self.merged_fields = Some(set);
        }
        Ok(saved)
    }

    fn follow_alias(&self, mut n: NodeId) -> NodeId {
        while let Some(target) = self.doc.node(n).alias {
            n = target;
        }
        n
    }

    /// The mappings a `<<` value names, in order; anything else is fatal.
    fn merge_sources(&self, merge: NodeId) -> Result<Vec<NodeId>, Fatal> {
        const WANT_MAP: &str = "yaml: map merge requires map or sequence of maps as the value";
        let node = self.doc.node(merge);
        let is_map = |id: NodeId| self.doc.node(self.follow_alias(id)).kind == Kind::Mapping;
        match node.kind {
            Kind::Mapping => Ok(vec![merge]),
            Kind::Alias if is_map(merge) => Ok(vec![merge]),
            Kind::Sequence if node.children.iter().all(|&c| is_map(c)) => Ok(node.children.clone()),
            _ => Err(WANT_MAP.into()),
        }
    }

    fn merge(
        &mut self,
        parent: NodeId,
        merge: NodeId,
        ty: &Ty,
        out: &mut Value,
    ) -> Result<(), Fatal> {
        let saved = self.begin_merge(parent)?;
        for source in self.merge_sources(merge)? {
            self.unmarshal(source, ty, out)?;
        }
        self.merged_fields = saved;
        Ok(())
    }
}

/// go-yaml's limit on how much of a document may come from alias expansion.
fn allowed_alias_ratio(decode_count: usize) -> f64 {
    const LOW: f64 = 400_000.0;
    const HIGH: f64 = 4_000_000.0;
    let count = decode_count as f64;
    if count <= LOW {
        0.99
    } else if count >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((count - LOW) / (HIGH - LOW))
    }
}

/// Standard base64 (with padding, whitespace ignored), for `!!binary`.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !clean.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::new();
    for chunk in clean.chunks(4) {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 {
            return None;
        }
        let mut acc = 0u32;
        for &c in &chunk[..4 - pad] {
            acc = (acc << 6) | ALPHABET.iter().position(|&a| a == c)? as u32;
        }
        acc <<= 6 * pad as u32;
        out.extend_from_slice(&acc.to_be_bytes()[1..4 - pad]);
    }
    Some(out)
}

// ---------------------------------------------------------------------------
// Conversion of the decoded v1alpha4 value to the internal form.

fn to_cluster(v: &Value) -> Cluster {
    Cluster {
        name: v.string("name"),
        nodes: v.items("nodes").iter().map(to_node).collect(),
        networking: to_networking(v.field("networking").unwrap_or(&Value::Nil)),
        feature_gates: v.map("featureGates", |b| matches!(b, Value::Bool(true))),
        runtime_config: v.map("runtimeConfig", |s| {
            if let Value::Str(s) = s {
                s.clone()
            } else {
                String::new()
            }
        }),
        kubeadm_config_patches: v.strings("kubeadmConfigPatches"),
        kubeadm_config_patches_json6902: v
            .items("kubeadmConfigPatchesJSON6902")
            .iter()
            .map(to_patch)
            .collect(),
        containerd_config_patches: v.strings("containerdConfigPatches"),
        containerd_config_patches_json6902: v.strings("containerdConfigPatchesJSON6902"),
    }
}

fn to_node(v: &Value) -> Node {
    Node {
        role: v.string("role"),
        image: v.string("image"),
        labels: v.map("labels", |s| {
            if let Value::Str(s) = s {
                s.clone()
            } else {
                String::new()
            }
        }),
        extra_mounts: v.items("extraMounts").iter().map(to_mount).collect(),
        extra_port_mappings: v
            .items("extraPortMappings")
            .iter()
            .map(to_port_mapping)
            .collect(),
        kubeadm_config_patches: v.strings("kubeadmConfigPatches"),
        kubeadm_config_patches_json6902: v
            .items("kubeadmConfigPatchesJSON6902")
            .iter()
            .map(to_patch)
            .collect(),
    }
}

fn to_networking(v: &Value) -> Networking {
    Networking {
        ip_family: v.string("ipFamily"),
        api_server_port: v.int("apiServerPort"),
        api_server_address: v.string("apiServerAddress"),
        pod_subnet: v.string("podSubnet"),
        service_subnet: v.string("serviceSubnet"),
        disable_default_cni: v.bool("disableDefaultCNI"),
        kube_proxy_mode: v.string("kubeProxyMode"),
        dns_search: match v.field("dnsSearch") {
            Some(Value::Seq(_)) => Some(v.strings("dnsSearch")),
            _ => None,
        },
    }
}

fn to_mount(v: &Value) -> Mount {
    Mount {
        container_path: v.string("containerPath"),
        host_path: v.string("hostPath"),
        read_only: v.bool("readOnly"),
        selinux_relabel: v.bool("selinuxRelabel"),
        propagation: match v.string("propagation").as_str() {
            "HostToContainer" => MountPropagation::HostToContainer,
            "Bidirectional" => MountPropagation::Bidirectional,
            _ => MountPropagation::None,
        },
    }
}

fn to_port_mapping(v: &Value) -> PortMapping {
    PortMapping {
        container_port: v.int("containerPort"),
        host_port: v.int("hostPort"),
        listen_address: v.string("listenAddress"),
        protocol: v.string("protocol"),
    }
}

fn to_patch(v: &Value) -> PatchJson6902 {
    PatchJson6902 {
        group: v.string("group"),
        version: v.string("version"),
        kind: v.string("kind"),
        patch: v.string("patch"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n";

    /// Issue 6: a timestamp-like scalar with a multi-byte character
    /// panicked while being resolved; it is a plain string, as in go-yaml.
    #[test]
    fn timestamp_like_scalar_with_multibyte_char_is_a_string() {
        let cfg = parse(format!("{HEAD}name: 2020-1-1T1:1:1+0é00\n").as_bytes()).unwrap();
        assert_eq!(cfg.name, "2020-1-1T1:1:1+0é00");
        let err = parse(
            format!("{HEAD}nodes:\n- role: worker\n  extraPortMappings:\n  - containerPort: 2020-1-1T1:1:1+0é00\n")
                .as_bytes(),
        )
        .unwrap_err();
        // go-yaml cuts the value to 7 bytes in type errors.
        assert_eq!(
            err.to_string(),
            "unable to decode config: yaml: unmarshal errors:\n  line 6: cannot unmarshal !!str `2020-1-...` into int32"
        );
    }
}
