//! Node images named by the user (`--image`, `nodes[].image`) in Sysbox
//! mode: each is derived locally from the embedded `node-image/` exactly
//! like the default Sysbox node image, under a deterministic name made from
//! the named reference (see [`derived_image_name`]), and cached the same way
//! (reused while its base image ID and build context hash match its labels).
//! An image that already is such a derivation (it carries our labels) runs
//! as is: a derivation is never derived again.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::build::{self, LABEL_BASE_ID, LABEL_CONTEXT};
use crate::log::Logger;
use crate::provider::Provider;

/// Every derived name lives under this namespace with at least two more
/// path components, so it never collides with `kind-sysbox/node:*` (the
/// default image and `kind build node-image`'s default).
const DERIVED_PREFIX: &str = "kind-sysbox/";
/// Docker's limits: a repository name (without the tag) and a tag.
const MAX_REPO_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;
/// Digest characters kept in a tag: enough to tell digests apart; the
/// labels, not the name, decide whether a derived image is current.
const DIGEST_CHARS: usize = 12;

/// The name of the Sysbox node image derived from `base`:
/// `kind-sysbox/<repository as Docker normalises it, registry included>:<tag>`.
///
/// * `kindest/node:v1.31.2` and `docker.io/kindest/node:v1.31.2` →
///   `kind-sysbox/kindest/node:v1.31.2`; `ubuntu` → `kind-sysbox/library/ubuntu:latest`;
/// * a registry with a port: `localhost:5000/node:v1` → `kind-sysbox/localhost-5000/node:v1`;
/// * a digest goes into the tag, shortened: `…node:v1.36.1@sha256:3489c767…` →
///   `…node:v1.36.1-sha256-3489c7674813` (`…node@sha256:…` → `…node:sha256-3489c7674813`);
/// * a tag longer than Docker's 128 characters is cut, a repository longer
///   than 255 becomes `kind-sysbox/derived/<hash of it>`.
pub fn derived_image_name(base: &str) -> String {
    let (name, digest) = match base.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (base, None),
    };
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let (repo, tag) = match name[last_slash..].rfind(':') {
        Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
        None => (name, None),
    };

    let mut parts: Vec<&str> = repo.split('/').collect();
    // Docker's rule: a first component with `.` or `:`, or `localhost`, is a registry.
    let is_registry = |p: &str| p.contains(['.', ':']) || p == "localhost";
    if parts.len() > 1 && matches!(parts[0], "docker.io" | "index.docker.io") {
        parts.remove(0);
    }
    if parts.len() == 1 && !is_registry(parts[0]) {
        parts.insert(0, "library");
    }
    let path: Vec<String> = parts.iter().map(|p| path_component(p)).collect();
    let mut repository = format!("{DERIVED_PREFIX}{}", path.join("/"));
    if repository.len() > MAX_REPO_LEN {
        let h = Sha256::digest(repository.as_bytes());
        repository =
            format!("{DERIVED_PREFIX}derived/{:x}", h)[..DERIVED_PREFIX.len() + 8 + 16].to_string();
    }

    let suffix = digest.map(|d| {
        let (algo, hex) = d.split_once(':').unwrap_or(("digest", d));
        format!("{algo}-{}", prefix(hex, DIGEST_CHARS))
    });
    let tag = match (tag.filter(|t| !t.is_empty()), suffix) {
        (Some(t), Some(s)) => {
            let keep = MAX_TAG_LEN.saturating_sub(s.len() + 1);
            format!("{}-{s}", prefix(t, keep))
        }
        (Some(t), None) => t.to_string(),
        (None, Some(s)) => s,
        (None, None) => "latest".to_string(),
    };
    format!("{repository}:{}", tag_text(prefix(&tag, MAX_TAG_LEN)))
}

/// At most `n` characters of `s`.
fn prefix(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// One path component as Docker's grammar allows it: lower-case
/// alphanumerics joined by `.`, `_`, `__` or runs of `-`; anything else
/// (a port's `:`, an IPv6 host's brackets) becomes `-`.
fn path_component(part: &str) -> String {
    let mapped = dash_invalid(&part.to_ascii_lowercase());
    let mut out = String::new();
    let mut run = String::new();
    for c in mapped.chars() {
        if c.is_ascii_alphanumeric() {
            if !out.is_empty() && !run.is_empty() {
                let valid =
                    matches!(run.as_str(), "." | "_" | "__") || run.chars().all(|r| r == '-');
                out.push_str(if valid { &run } else { "-" });
            }
            run.clear();
            out.push(c);
        } else {
            run.push(c);
        }
    }
    if out.is_empty() {
        "x".into()
    } else {
        out
    }
}

/// Every character outside `[A-Za-z0-9._-]` replaced by `-`.
fn dash_invalid(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// A tag as Docker's grammar allows it: `[A-Za-z0-9_][A-Za-z0-9_.-]*`.
fn tag_text(tag: &str) -> String {
    let mut out = dash_invalid(tag);
    if out.starts_with(['.', '-']) {
        out.replace_range(..1, "_");
    }
    out
}

/// Whether an image with these labels is a Sysbox node image we derived
/// (by `kind create` or `kind build node-image`).
pub fn is_sysbox_derivation(labels: &HashMap<String, String>) -> bool {
    labels.contains_key(LABEL_BASE_ID) && labels.contains_key(LABEL_CONTEXT)
}

/// The image a Sysbox node named `named` runs, made present: the named
/// image pulled first when absent (upstream's retries), then used as is when
/// it is a derivation already, else its derivation, built once and reused.
pub async fn ensure_sysbox_node_image(
    provider: &dyn Provider,
    named: &str,
    log: &Logger,
) -> anyhow::Result<String> {
    if named == build::DEFAULT_SYSBOX_IMAGE {
        build::ensure_default_image(provider, log).await?;
        return Ok(named.to_string());
    }
    provider.ensure_image(named, log).await?;
    let labels = provider
        .inspect_image(named)
        .await?
        .map(|i| i.labels)
        .unwrap_or_default();
    if is_sysbox_derivation(&labels) {
        log.debug(
            1,
            &format!("Using node image {named} as is: it is a Sysbox node image already"),
        );
        return Ok(named.to_string());
    }
    let derived = derived_image_name(named);
    build::ensure_node_image(provider, &derived, named, log).await?;
    Ok(derived)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Docker's reference grammar (distribution/reference), name and tag.
    fn valid_reference(r: &str) -> bool {
        let component = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
        let re = regex::Regex::new(&format!(
            r"^{component}(?:/{component})*:[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}$"
        ))
        .unwrap();
        let repo_len = r.rfind(':').unwrap();
        re.is_match(r) && repo_len <= MAX_REPO_LEN
    }

    #[test]
    fn derived_names_follow_the_named_reference() {
        let digest = "sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5";
        let cases = [
            ("kindest/node:v1.31.2", "kind-sysbox/kindest/node:v1.31.2"),
            (
                "docker.io/kindest/node:v1.31.2",
                "kind-sysbox/kindest/node:v1.31.2",
            ),
            ("ubuntu", "kind-sysbox/library/ubuntu:latest"),
            (
                "docker.io/library/ubuntu:24.04",
                "kind-sysbox/library/ubuntu:24.04",
            ),
            (
                "kind-fixture/node:v1.36.1",
                "kind-sysbox/kind-fixture/node:v1.36.1",
            ),
            (
                "localhost:5000/kindest/node:v1.31.2",
                "kind-sysbox/localhost-5000/kindest/node:v1.31.2",
            ),
            ("localhost/node", "kind-sysbox/localhost/node:latest"),
            ("ghcr.io/org/node:v1", "kind-sysbox/ghcr.io/org/node:v1"),
            (
                "Registry.Example.com:443/team/node:v1",
                "kind-sysbox/registry.example.com-443/team/node:v1",
            ),
            ("[::1]:5000/node:v1", "kind-sysbox/1--5000/node:v1"),
        ];
        for (base, want) in cases {
            let got = derived_image_name(base);
            assert_eq!(got, want, "{base}");
            assert!(valid_reference(&got), "{got}");
        }
        let with_digest = format!("kindest/node:v1.36.1@{digest}");
        assert_eq!(
            derived_image_name(&with_digest),
            "kind-sysbox/kindest/node:v1.36.1-sha256-3489c7674813"
        );
        assert_eq!(
            derived_image_name(&format!("localhost:5000/node@{digest}")),
            "kind-sysbox/localhost-5000/node:sha256-3489c7674813"
        );
    }

    #[test]
    fn derived_names_never_collide_with_the_default_images() {
        for base in [
            "node:v1.36.1",
            "node",
            "node:latest",
            "kind-sysbox/node:v1.36.1",
        ] {
            let got = derived_image_name(base);
            assert_ne!(got, build::DEFAULT_SYSBOX_IMAGE, "{base}");
            assert_ne!(got, build::DEFAULT_BUILD_IMAGE, "{base}");
        }
        assert_eq!(
            derived_image_name("node:v1.36.1"),
            "kind-sysbox/library/node:v1.36.1"
        );
    }

    #[test]
    fn derived_names_keep_within_dockers_length_limits() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let long_tag = "t".repeat(128);
        let got = derived_image_name(&format!("kindest/node:{long_tag}@{digest}"));
        let tag = got.rsplit_once(':').unwrap().1;
        assert_eq!(tag.len(), 128, "{got}");
        assert!(tag.ends_with("-sha256-aaaaaaaaaaaa"), "{got}");
        assert!(valid_reference(&got), "{got}");

        let long_repo = format!("example.com/{}/node:v1", "p".repeat(300));
        let got = derived_image_name(&long_repo);
        assert!(got.starts_with("kind-sysbox/derived/"), "{got}");
        assert!(got.ends_with(":v1"), "{got}");
        assert!(valid_reference(&got), "{got}");
        assert_eq!(got, derived_image_name(&long_repo), "deterministic");
        assert_ne!(
            got,
            derived_image_name(&format!("example.com/{}/node:v1", "q".repeat(300)))
        );
    }

    #[test]
    fn odd_components_become_valid() {
        assert_eq!(path_component("a..b"), "a-b");
        assert_eq!(path_component("-a-"), "a");
        assert_eq!(path_component("a__b"), "a__b");
        assert_eq!(path_component("a___b"), "a-b");
        assert_eq!(path_component("a--b"), "a--b");
        assert_eq!(path_component(":::"), "x");
        assert_eq!(tag_text(".x"), "_x");
    }

    #[test]
    fn a_derivation_is_recognised_by_our_labels() {
        let labels = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(is_sysbox_derivation(&labels(&[
            (LABEL_BASE_ID, "sha256:a"),
            (LABEL_CONTEXT, "sha256:b"),
        ])));
        assert!(!is_sysbox_derivation(&labels(&[(
            LABEL_BASE_ID,
            "sha256:a"
        )])));
        assert!(!is_sysbox_derivation(&labels(&[("other", "x")])));
    }
}
