//! Kubernetes version parsing: generic (leading `v` optional, >= 2 numeric
//! components, pre-release/build ignored in comparisons) and semantic
//! (full semver 2.0 ordering), as upstream's apimachinery version library.

use std::cmp::Ordering;
use std::fmt;
use std::sync::OnceLock;

use regex::Regex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub components: Vec<u64>,
    /// Pre-release identifiers (semantic versions only), e.g. `alpha.1`.
    pub pre_release: String,
    pub build_metadata: String,
    semver: bool,
}

// Go's RE2 `\s` is ASCII-only; spell it out so Unicode spaces don't parse.
fn version_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[\t\n\f\r ]*v?([0-9]+(?:\.[0-9]+)*)(.*)$").unwrap())
}

fn extra_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?[\t\n\f\r ]*$",
        )
        .unwrap()
    })
}

fn parse(s: &str, semver: bool) -> Result<Version, String> {
    let caps = version_re()
        .captures(s)
        .ok_or_else(|| format!("could not parse {} as version", crate::gotext::quote(s)))?;
    let numbers = caps.get(1).map_or("", |m| m.as_str());
    let extra = caps.get(2).map_or("", |m| m.as_str());

    let parts: Vec<&str> = numbers.split('.').collect();
    if (semver && parts.len() != 3) || (!semver && parts.len() < 2) {
        return Err(format!(
            "illegal version string {}",
            crate::gotext::quote(s)
        ));
    }
    let mut components = Vec::with_capacity(parts.len());
    for (i, comp) in parts.iter().enumerate() {
        // Generic versions only forbid a zero-prefixed major component.
        if (i == 0 || semver) && comp.starts_with('0') && *comp != "0" {
            return Err(format!(
                "illegal zero-prefixed version component {} in {}",
                crate::gotext::quote(comp),
                crate::gotext::quote(s)
            ));
        }
        let n: u64 = comp.parse().map_err(|e| {
            format!(
                "illegal non-numeric version component {} in {}: {e}",
                crate::gotext::quote(comp),
                crate::gotext::quote(s)
            )
        })?;
        components.push(n);
    }

    let mut v = Version {
        components,
        pre_release: String::new(),
        build_metadata: String::new(),
        semver,
    };
    if semver && !extra.is_empty() {
        let caps = extra_re().captures(extra).ok_or_else(|| {
            format!(
                "could not parse pre-release/metadata ({extra}) in version {}",
                crate::gotext::quote(s)
            )
        })?;
        v.pre_release = caps.get(1).map_or("", |m| m.as_str()).to_string();
        v.build_metadata = caps.get(2).map_or("", |m| m.as_str()).to_string();
        for comp in v.pre_release.split('.') {
            if comp.parse::<u64>().is_ok() && comp.starts_with('0') && comp != "0" {
                return Err(format!(
                    "illegal zero-prefixed version component {} in {}",
                    crate::gotext::quote(comp),
                    crate::gotext::quote(s)
                ));
            }
        }
    }
    Ok(v)
}

impl Version {
    /// Generic parse: `could not parse "<s>" as version` on failure.
    pub fn parse_generic(s: &str) -> Result<Version, String> {
        parse(s, false)
    }
    /// Semantic parse (exactly 3 components, semver pre-release/build).
    pub fn parse_semantic(s: &str) -> Result<Version, String> {
        parse(s, true)
    }
    /// Whether this version was parsed semantically.
    pub fn is_semantic(&self) -> bool {
        self.semver
    }
    pub fn major(&self) -> u64 {
        self.components[0]
    }
    pub fn minor(&self) -> u64 {
        self.components[1]
    }
    /// Third component, 0 when absent.
    pub fn patch(&self) -> u64 {
        self.components.get(2).copied().unwrap_or(0)
    }
    /// Compare; for generic versions only the numeric components count.
    pub fn compare(&self, other: &Version) -> Ordering {
        for (a, b) in self.components.iter().zip(&other.components) {
            match a.cmp(b) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        // Extra trailing components only count when not all zero (1.4 == 1.4.0).
        let (sl, ol) = (self.components.len(), other.components.len());
        if ol < sl && self.components[ol..].iter().any(|&c| c != 0) {
            return Ordering::Greater;
        }
        if sl < ol && other.components[sl..].iter().any(|&c| c != 0) {
            return Ordering::Less;
        }
        if !self.semver || !other.semver {
            return Ordering::Equal;
        }
        match (self.pre_release.is_empty(), other.pre_release.is_empty()) {
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            _ if self.pre_release == other.pre_release => return Ordering::Equal,
            _ => {}
        }
        let a: Vec<&str> = self.pre_release.split('.').collect();
        let b: Vec<&str> = other.pre_release.split('.').collect();
        for (x, y) in a.iter().zip(&b) {
            // Numeric identifiers compare numerically; anything else (including
            // numeric vs alphanumeric) compares as ASCII text, as upstream.
            if let (Ok(xn), Ok(yn)) = (x.parse::<u64>(), y.parse::<u64>()) {
                match xn.cmp(&yn) {
                    Ordering::Equal => continue,
                    o => return o,
                }
            }
            match x.cmp(y) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        a.len().cmp(&b.len())
    }
    pub fn less_than(&self, other: &Version) -> bool {
        self.compare(other) == Ordering::Less
    }
    pub fn at_least(&self, other: &Version) -> bool {
        !self.less_than(other)
    }
}

/// Numeric components joined by `.`, then `-pre` and `+build` when set
/// (generic versions drop whatever followed the numbers).
impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nums: Vec<String> = self.components.iter().map(|c| c.to_string()).collect();
        f.write_str(&nums.join("."))?;
        if !self.pre_release.is_empty() {
            write!(f, "-{}", self.pre_release)?;
        }
        if !self.build_metadata.is_empty() {
            write!(f, "+{}", self.build_metadata)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, expected Display, equal to the previous entry)
    type Item = (&'static str, &'static str, bool);

    fn check_ordered(items: &[Item], semver: bool) {
        let mut prev: Option<&str> = None;
        for &(input, shown, equals_prev) in items {
            let v = parse(input, semver).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(v.to_string(), shown, "round trip of {input:?}");
            if let Some(p) = prev {
                let pv = parse(p, semver).unwrap();
                let want = if equals_prev {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                };
                assert_eq!(v.compare(&pv), want, "{input:?} vs {p:?}");
                assert_eq!(pv.compare(&v), want.reverse(), "{p:?} vs {input:?}");
            }
            prev = Some(input);
        }
    }

    #[test]
    fn semantic_versions_follow_semver_2_ordering() {
        // Every version string in the semver 2.0 spec, in increasing order.
        check_ordered(
            &[
                ("0.1.0", "0.1.0", false),
                ("1.0.0-0.3.7", "1.0.0-0.3.7", false),
                ("1.0.0-alpha", "1.0.0-alpha", false),
                ("1.0.0-alpha+001", "1.0.0-alpha+001", true),
                ("1.0.0-alpha.1", "1.0.0-alpha.1", false),
                ("1.0.0-alpha.beta", "1.0.0-alpha.beta", false),
                ("1.0.0-beta", "1.0.0-beta", false),
                (
                    "1.0.0-beta+exp.sha.5114f85",
                    "1.0.0-beta+exp.sha.5114f85",
                    true,
                ),
                ("1.0.0-beta.2", "1.0.0-beta.2", false),
                ("1.0.0-beta.11", "1.0.0-beta.11", false),
                ("1.0.0-rc.1", "1.0.0-rc.1", false),
                ("1.0.0-x.7.z.92", "1.0.0-x.7.z.92", false),
                ("1.0.0", "1.0.0", false),
                ("1.0.0+20130313144700", "1.0.0+20130313144700", true),
                ("1.8.0-alpha.3", "1.8.0-alpha.3", false),
                (
                    "1.8.0-alpha.3.673+73326ef01d2d7c",
                    "1.8.0-alpha.3.673+73326ef01d2d7c",
                    false,
                ),
                ("1.9.0", "1.9.0", false),
                ("1.10.0", "1.10.0", false),
                ("1.11.0", "1.11.0", false),
                ("2.0.0", "2.0.0", false),
                ("2.1.0", "2.1.0", false),
                ("2.1.1", "2.1.1", false),
                ("42.0.0", "42.0.0", false),
                ("   42.0.0", "42.0.0", true),
                ("\t42.0.0  ", "42.0.0", true),
                ("43.0.0-1", "43.0.0-1", false),
                ("43.0.0-1  ", "43.0.0-1", true),
                ("v43.0.0-1", "43.0.0-1", true),
                ("  v43.0.0", "43.0.0", false),
                (" 43.0.0 ", "43.0.0", true),
            ],
            true,
        );
    }

    #[test]
    fn generic_versions_ignore_everything_after_the_numbers() {
        check_ordered(
            &[
                ("0.1.0", "0.1.0", false),
                ("1.0.0-0.3.7", "1.0.0", false),
                ("1.0.0-alpha", "1.0.0", true),
                ("1.0.0-alpha+001", "1.0.0", true),
                ("1.0.0.beta", "1.0.0", true),
                ("1.0.0-x.7.z.92", "1.0.0", true),
                ("1.0.0", "1.0.0", true),
                ("1.0.0+20130313144700", "1.0.0", true),
                ("1.2", "1.2", false),
                ("1.2a.3", "1.2", true),
                ("1.2.3", "1.2.3", false),
                ("1.2.3.0", "1.2.3.0", true),
                ("1.2.3a", "1.2.3", true),
                ("1.2.3-01", "1.2.3", true),
                ("1.2.3+", "1.2.3", true),
                ("1.02.3", "1.2.3", true),
                ("1.2.003", "1.2.3", true),
                ("1.2.3.4", "1.2.3.4", false),
                ("1.2.3.4b3", "1.2.3.4", true),
                ("1.2.3.4.5", "1.2.3.4.5", false),
                ("1.9.0", "1.9.0", false),
                ("1.9.0.0.0.0.0.0", "1.9.0.0.0.0.0.0", true),
                ("1.10.0", "1.10.0", false),
                ("1.11.0.0.5", "1.11.0.0.5", false),
                ("2.0.0", "2.0.0", false),
                ("42.0.0", "42.0.0", false),
                ("\t42.0.0  ", "42.0.0", true),
                ("v42.0.0-1", "42.0.0", true),
                ("  v43.0.0", "43.0.0", false),
                (" 43.0.0 ", "43.0.0", true),
            ],
            false,
        );
    }

    #[test]
    fn bad_semantic_versions_are_rejected() {
        for s in [
            "1",
            "1.2",
            "1.2.3.4",
            ".2.3",
            "1..3",
            "1.2.",
            "",
            "..",
            "-1.2.3",
            "1.-2.3",
            "1.2.-3",
            "1a.2.3",
            "1.2a.3",
            "1.2.3a",
            "a1.2.3",
            "a.b.c",
            "1 .2.3",
            "1. 2.3",
            "01.2.3",
            "1.02.3",
            "1.2.03",
            "1.2.3-/",
            "1.2.3-",
            "1.2.3-.",
            "1.2.3-foo.",
            "1.2.3-.foo",
            "1.2.3-01",
            "1.2.3+/",
            "1.2.3+",
            "1.2.3+.",
            "1.2.3+foo.",
            "1.2.3+.foo",
            "v 1.2.3",
            "vv1.2.3",
        ] {
            assert!(
                Version::parse_semantic(s).is_err(),
                "{s:?} should not parse"
            );
        }
    }

    #[test]
    fn bad_generic_versions_are_rejected() {
        for s in [
            "1", "01.2.3", "-1.2.3", "1.-2.3", ".2.3", "1..3", "1a.2.3", "a1.2.3", "1 .2.3",
            "1. 2.3", "1.bob", "bob", "v 1.2.3", "vv1.2.3", "", ".",
        ] {
            assert!(Version::parse_generic(s).is_err(), "{s:?} should not parse");
        }
    }

    #[test]
    fn error_messages_match_upstream() {
        let cases = [
            ("bob", false, r#"could not parse "bob" as version"#),
            ("", false, r#"could not parse "" as version"#),
            ("1", false, r#"illegal version string "1""#),
            ("1.2", true, r#"illegal version string "1.2""#),
            (
                "01.2.3",
                false,
                r#"illegal zero-prefixed version component "01" in "01.2.3""#,
            ),
            (
                "1.02.3",
                true,
                r#"illegal zero-prefixed version component "02" in "1.02.3""#,
            ),
            (
                "1.2.3-01",
                true,
                r#"illegal zero-prefixed version component "01" in "1.2.3-01""#,
            ),
            (
                "1.2.3-/",
                true,
                r#"could not parse pre-release/metadata (-/) in version "1.2.3-/""#,
            ),
        ];
        for (s, semver, want) in cases {
            assert_eq!(parse(s, semver).unwrap_err(), want, "{s:?}");
        }
    }

    #[test]
    fn components_pre_release_and_build_metadata() {
        let v = Version::parse_semantic("1.0.2-beta+exp.sha.5114f85").unwrap();
        assert_eq!((v.major(), v.minor(), v.patch()), (1, 0, 2));
        assert_eq!(v.pre_release, "beta");
        assert_eq!(v.build_metadata, "exp.sha.5114f85");
        assert!(v.is_semantic());
        let v = Version::parse_generic("1.2").unwrap();
        assert_eq!(v.components, vec![1, 2]);
        assert_eq!(v.patch(), 0);
        assert!(!v.is_semantic());
        let v = Version::parse_semantic("v1.24.0-alpha.1.592+370031cadac624").unwrap();
        assert_eq!(v.components, vec![1, 24, 0]);
        assert_eq!(v.pre_release, "alpha.1.592");
        assert_eq!(v.build_metadata, "370031cadac624");
    }

    #[test]
    fn less_than_and_at_least() {
        let sem = |s| Version::parse_semantic(s).unwrap();
        let gen = |s| Version::parse_generic(s).unwrap();
        let cases = [
            (sem("1.21.1"), sem("1.21.1"), false),
            (sem("1.21.1"), sem("1.21.2"), true),
            (sem("1.21.3"), sem("1.21.2"), false),
            (sem("1.22.1"), sem("1.21.2"), false),
            (sem("1.20.3"), sem("1.21.2"), true),
            (
                sem("v1.24.0"),
                sem("v1.24.0-beta.0.115+65178fec72df62"),
                false,
            ),
            (
                sem("v1.24.0-beta.0.115+65178fec72df62"),
                sem("v1.24.0"),
                true,
            ),
            (
                sem("v1.24.0-alpha.1.591+a3d5e5598290df"),
                sem("v1.24.0-alpha.1.592+370031cadac624"),
                true,
            ),
            (
                sem("v1.24.0-alpha.2"),
                sem("v1.24.0-alpha.1.592+370031cadac624"),
                false,
            ),
            // A generic operand ignores pre-releases: 1.36.0-alpha.1 counts as 1.36.0.
            (gen("v1.36.0-alpha.1"), sem("v1.36.0"), false),
            (gen("v1.35.9"), sem("v1.36.0"), true),
            (gen("1.4"), sem("1.4.0"), false),
        ];
        for (a, b, want) in cases {
            assert_eq!(a.less_than(&b), want, "{a} < {b}");
            assert_eq!(a.at_least(&b), !want, "{a} >= {b}");
        }
    }
}
