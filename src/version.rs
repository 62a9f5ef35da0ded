//! Kubernetes version parsing: generic (leading `v` optional, >= 2 numeric
//! components, pre-release/build ignored in comparisons) and semantic
//! (full semver 2.0 ordering), as upstream's apimachinery version library.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub components: Vec<u64>,
    /// Pre-release identifiers (semantic versions only), e.g. `alpha.1`.
    pub pre_release: String,
    pub build_metadata: String,
    semver: bool,
}

impl Version {
    /// Generic parse: `could not parse "<s>" as version` on failure.
    pub fn parse_generic(s: &str) -> Result<Version, String> {
        todo!("{s}")
    }
    /// Semantic parse (exactly 3 components, semver pre-release/build).
    pub fn parse_semantic(s: &str) -> Result<Version, String> {
        todo!("{s}")
    }
    /// Compare; for generic versions only the numeric components count.
    pub fn compare(&self, other: &Version) -> Ordering {
        todo!("{other:?}{}", self.semver)
    }
    pub fn less_than(&self, other: &Version) -> bool {
        self.compare(other) == Ordering::Less
    }
    pub fn at_least(&self, other: &Version) -> bool {
        !self.less_than(other)
    }
}
