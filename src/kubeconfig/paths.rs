//! Which kubeconfig files kind reads and writes (spec §5.3), with the
//! environment passed in so tests need not mutate the process env.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// `explicit` (non-empty) alone; else the `KUBECONFIG` list without empty
/// entries and duplicates (first kept); else `$HOME/.kube/config`.
pub(crate) fn paths_from(
    explicit: Option<&Path>,
    kubeconfig: Option<&OsStr>,
    home: Option<&OsStr>,
) -> Vec<PathBuf> {
    if let Some(p) = explicit.filter(|p| !p.as_os_str().is_empty()) {
        return vec![p.to_path_buf()];
    }
    let mut seen = HashSet::new();
    let listed: Vec<PathBuf> = kubeconfig
        .map(|v| {
            std::env::split_paths(v)
                .filter(|p| !p.as_os_str().is_empty() && seen.insert(p.clone()))
                .collect()
        })
        .unwrap_or_default();
    if !listed.is_empty() {
        return listed;
    }
    // Like upstream, an unset HOME gives the relative `.kube/config`.
    vec![Path::new(home.unwrap_or_default())
        .join(".kube")
        .join("config")]
}

/// The only entry; else the first that exists and is not a directory (any
/// stat error counts as "does not exist"); else the last.
pub(crate) fn merge_target(paths: &[PathBuf]) -> Option<PathBuf> {
    if paths.len() == 1 {
        return Some(paths[0].clone());
    }
    paths
        .iter()
        .find(|p| std::fs::metadata(p).map(|m| !m.is_dir()).unwrap_or(false))
        .or(paths.last())
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pb(v: &[&str]) -> Vec<PathBuf> {
        v.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn paths_cases() {
        let os = |s: &'static str| Some(OsStr::new(s));
        // (--kubeconfig, KUBECONFIG, HOME, expected)
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a OsStr>,
            Option<&'a OsStr>,
            &'a [&'a str],
        );
        let cases: &[Case] = &[
            // explicit wins over everything
            (
                Some("/explicit"),
                os("/foo:/bar"),
                os("/home/u"),
                &["/explicit"],
            ),
            // empty explicit = not given
            (Some(""), os("/foo"), os("/home/u"), &["/foo"]),
            // empties and duplicates dropped, first occurrence kept
            (
                None,
                os("/foo:/bar::/foo:/bar"),
                os("/home/u"),
                &["/foo", "/bar"],
            ),
            (None, os("/bar:/foo:/bar"), None, &["/bar", "/foo"]),
            // no usable KUBECONFIG: $HOME/.kube/config
            (None, None, os("/home/u"), &["/home/u/.kube/config"]),
            (None, os(""), os("/home/u"), &["/home/u/.kube/config"]),
            (None, os(":::"), os("/home/u/"), &["/home/u/.kube/config"]),
            (None, None, None, &[".kube/config"]),
        ];
        for (explicit, kc, home, want) in cases {
            assert_eq!(
                paths_from(explicit.map(Path::new), *kc, *home),
                pb(want),
                "{explicit:?} {kc:?} {home:?}"
            );
        }
    }

    #[test]
    fn merge_target_cases() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("exists"), "").unwrap();
        std::fs::write(d.join("exists2"), "").unwrap();
        std::fs::create_dir(d.join("adir")).unwrap();
        let p = |n: &str| d.join(n);
        // single entry: used even if missing
        assert_eq!(merge_target(&[p("missing")]), Some(p("missing")));
        // first existing file
        assert_eq!(
            merge_target(&[p("missing"), p("exists"), p("exists2")]),
            Some(p("exists"))
        );
        // none exist: the last
        assert_eq!(merge_target(&[p("m1"), p("m2"), p("m3")]), Some(p("m3")));
        // a directory is not a kubeconfig file
        assert_eq!(merge_target(&[p("adir"), p("exists2")]), Some(p("exists2")));
        // stat errors (here ENOTDIR) count as missing
        assert_eq!(
            merge_target(&[p("exists/config"), p("exists2")]),
            Some(p("exists2"))
        );
        assert_eq!(merge_target(&[]), None);
    }

    #[test]
    fn merge_target_skips_entries_in_unreadable_directories() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::write(locked.join("config"), "").unwrap();
        std::fs::write(dir.path().join("other"), "").unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        let stat_fails = std::fs::metadata(locked.join("config")).is_err();
        let got = merge_target(&[locked.join("config"), dir.path().join("other")]);
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
        // As root the permission bits do not stop stat; the ENOTDIR case
        // above covers stat errors there.
        let want = if stat_fails {
            dir.path().join("other")
        } else {
            locked.join("config")
        };
        assert_eq!(got, Some(want));
    }
}
