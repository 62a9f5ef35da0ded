//! Kubeconfig handling as upstream kind (spec §5): the `kind-NAME`
//! cluster/user/context built from a node's admin.conf, merged into the
//! user's kubeconfig under `<path>.lock`, written atomically (in place,
//! with restore on failure, where a rename cannot replace the file: bind
//! mounts), removed on delete from every listed file. A file that does not
//! parse is never overwritten; a failed write leaves the file as it was.

mod encode;
mod lock;
mod model;
mod paths;
#[cfg(test)]
mod properties;

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::anyhow;

use model::Config;

/// `kind-<cluster>`: the name of the cluster, user and context entries.
pub fn key(cluster: &str) -> String {
    format!("kind-{cluster}")
}

/// Candidate kubeconfig files: `--kubeconfig`, else `KUBECONFIG` (split on
/// `:`, empties and duplicates dropped), else `$HOME/.kube/config`.
pub fn paths(explicit: Option<&Path>) -> Vec<PathBuf> {
    paths::paths_from(
        explicit,
        std::env::var_os("KUBECONFIG").as_deref(),
        std::env::var_os("HOME").as_deref(),
    )
}

/// The file create/export merge into: the only one, else the first that
/// exists (and is not a directory), else the last.
pub fn merge_target(paths: &[PathBuf]) -> PathBuf {
    paths::merge_target(paths).unwrap_or_else(|| self::paths(None).remove(0))
}

/// Build kind's kubeconfig (encoded YAML, spec §5.2) from a node's
/// `/etc/kubernetes/admin.conf`: entries renamed to `kind-<cluster>`,
/// current-context set, and `server` replaced when `server` is given
/// (external address) or kept (`--internal`).
pub fn from_admin_conf(
    admin_conf: &str,
    cluster: &str,
    server: Option<&str>,
) -> anyhow::Result<String> {
    let cfg = Config::parse(admin_conf)
        .map_err(|e| anyhow!("failed to parse kubeadm kubeconfig: {e}"))?;
    Ok(model::kind_from_kubeadm(cfg, &key(cluster), server)?.encode())
}

/// Merge kind's kubeconfig (as returned by `from_admin_conf`) into the merge
/// target of `paths(explicit)`, under the lock, atomically.
pub fn export(kind_config: &str, explicit: Option<&Path>) -> anyhow::Result<()> {
    export_to(kind_config, &paths(explicit), lock::DEFAULT_WAIT)
}

/// Remove the `kind-<cluster>` entries (and current-context if it is ours)
/// from every file of `paths(explicit)`; files without them are untouched.
pub fn remove(cluster: &str, explicit: Option<&Path>) -> anyhow::Result<()> {
    remove_from(cluster, &paths(explicit), lock::DEFAULT_WAIT)
}

/// `export` against an explicit list of candidate files (as `paths` returns).
pub fn export_to(kind_config: &str, paths: &[PathBuf], lock_wait: Duration) -> anyhow::Result<()> {
    let kind = parse_kind(kind_config)?;
    let target = merge_target(paths);
    let _lock = lock::acquire(&target, lock_wait, true)?;
    let mut existing =
        read(&target).map_err(|e| anyhow!("failed to get kubeconfig to merge: {e}"))?;
    model::merge(&mut existing, &kind)?;
    write_atomic(&target, existing.encode().as_bytes())
}

/// The text `export` would write over a merge target holding `existing`
/// (empty = a missing file): the same decode, merge and encode, without
/// files or locks, for property tests and fuzzing. The error for content
/// that is not a kubeconfig says why, without a path.
pub fn merged(existing: &[u8], kind_config: &str) -> anyhow::Result<String> {
    let kind = parse_kind(kind_config)?;
    let mut cfg = decode(existing).map_err(|e| anyhow!(e))?;
    model::merge(&mut cfg, &kind)?;
    Ok(cfg.encode())
}

/// kind's kubeconfig (from `from_admin_conf`), checked before any file is touched.
fn parse_kind(kind_config: &str) -> anyhow::Result<Config> {
    let kind = Config::parse(kind_config).map_err(|e| anyhow!("invalid kind kubeconfig: {e}"))?;
    kind.check_kubeadm_expectations()?;
    Ok(kind)
}

/// The text `remove` would write over a file holding `existing`, or `None`
/// when it holds nothing of `cluster`'s and is left untouched. Pure, as
/// `merged`.
pub fn removed(existing: &[u8], cluster: &str) -> Result<Option<String>, String> {
    let mut cfg = decode(existing)?;
    Ok(model::remove(&mut cfg, &key(cluster)).then(|| cfg.encode()))
}

/// `remove` against an explicit list of files. Every file is attempted; the
/// errors (one, or `[e1, e2, …]`) are returned afterwards.
pub fn remove_from(cluster: &str, paths: &[PathBuf], lock_wait: Duration) -> anyhow::Result<()> {
    let key = key(cluster);
    let mut errors: Vec<String> = Vec::new();
    for path in paths {
        if let Err(e) = remove_one(&key, path, lock_wait) {
            let msg = format!("{e:#}");
            if !errors.contains(&msg) {
                errors.push(msg);
            }
        }
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(anyhow!(errors.remove(0))),
        _ => Err(anyhow!("[{}]", errors.join(", "))),
    }
}

fn remove_one(key: &str, path: &Path, lock_wait: Duration) -> anyhow::Result<()> {
    // Nothing of ours can be in a directory that does not exist; unlike
    // upstream, do not create it just to take a lock.
    if path
        .parent()
        .is_some_and(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        return Ok(());
    }
    let _lock = lock::acquire(path, lock_wait, false)?;
    let mut cfg =
        read(path).map_err(|e| anyhow!("failed to read kubeconfig to remove KIND entry: {e}"))?;
    if model::remove(&mut cfg, key) {
        write_atomic(path, cfg.encode().as_bytes())?;
    }
    Ok(())
}

/// Read a kubeconfig file: missing = empty config. The error names the
/// file and, for content errors, says it was left alone.
fn read(path: &Path) -> Result<Config, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
        Err(e) => {
            return Err(format!(
                "open {}: {}",
                path.display(),
                crate::gotext::io_error_text(&e)
            ))
        }
    };
    decode(&bytes).map_err(|why| {
        format!(
            "{} is not a valid kubeconfig ({why}); the file was left unchanged: fix or move it, or select another file with --kubeconfig or KUBECONFIG",
            path.display()
        )
    })
}

/// A kubeconfig file's bytes as a `Config`; the error says why they are not one.
fn decode(bytes: &[u8]) -> Result<Config, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    Config::parse(text)
}

/// Read the kubeconfig at `path` (missing = empty) and return the names of
/// its contexts and its current-context; for callers that only inspect.
pub fn contexts(path: &Path) -> anyhow::Result<(Vec<String>, String)> {
    let cfg = read(path).map_err(|e| anyhow!(e))?;
    Ok((
        cfg.contexts.iter().map(model::entry_name).collect(),
        cfg.current_context,
    ))
}

/// Follow a symlinked kubeconfig (e.g. managed dotfiles) so the rename
/// replaces the real file, not the link, as a plain write would.
fn resolve_symlinks(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&p) {
            Ok(target) => p = p.parent().map_or(target.clone(), |d| d.join(&target)),
            Err(_) => break,
        }
    }
    p
}

/// Write `contents` to `path`: temp file in the same directory, fsync,
/// rename. New files are 0600 (as client-go); an existing file keeps its
/// mode and, when we may, its owner. Any failure leaves the file as it was
/// and says so.
///
/// A file that cannot be replaced by a rename (a bind-mounted kubeconfig,
/// as in CI and Docker-in-Docker: EBUSY) is written in place instead, from
/// the synced temp copy, and restored on failure (`write_in_place`).
fn write_atomic(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let target = resolve_symlinks(path);
    let unchanged = |what: &str, e: &std::io::Error| {
        anyhow!(
            "failed to write KUBECONFIG: {what} {}: {}; {} was left unchanged",
            path.display(),
            crate::gotext::io_error_text(e),
            path.display()
        )
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(&dir)
            .map_err(|e| unchanged("mkdir for", &e))?;
    }
    let existing = std::fs::metadata(&target).ok();
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(&dir)
        .map_err(|e| unchanged("create temp file for", &e))?;
    tmp.write_all(contents)
        .map_err(|e| unchanged("write", &e))?;
    if let Some(meta) = &existing {
        let file = tmp.as_file();
        file.set_permissions(std::fs::Permissions::from_mode(meta.mode() & 0o7777))
            .map_err(|e| unchanged("chmod", &e))?;
        // Only possible as root (e.g. `sudo kind`); keeps the user's file theirs.
        let _ = std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()));
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| unchanged("sync", &e))?;
    match tmp.persist(&target) {
        Ok(_) => {
            // Make the rename itself durable; failure here loses nothing already written.
            if let Ok(d) = std::fs::File::open(&dir) {
                let _ = d.sync_all();
            }
            Ok(())
        }
        Err(e) if existing.is_some() && rename_impossible(&e.error) => {
            write_in_place(path, &target, contents, e.file, &e.error)
        }
        Err(e) => Err(unchanged("rename into", &e.error)),
    }
}

/// A rename that can never succeed onto this target, while writing the file
/// itself may: it is a mount point (EBUSY: a bind-mounted file) or on
/// another filesystem than its directory (EXDEV).
fn rename_impossible(e: &std::io::Error) -> bool {
    const EBUSY: i32 = 16;
    const EXDEV: i32 = 18;
    matches!(e.raw_os_error(), Some(EBUSY | EXDEV))
}

/// Overwrite `target` in place (same inode, so a bind mount sees it) under
/// the caller's lock. The new content is already synced in `tmp`, which is
/// removed only once the copy is synced: a crash halfway leaves the whole
/// new content next to the file. On failure the previous content (read
/// here) is written back; if even that fails, both versions are kept in
/// files the error names.
fn write_in_place(
    path: &Path,
    target: &Path,
    contents: &[u8],
    tmp: tempfile::NamedTempFile,
    rename_err: &std::io::Error,
) -> anyhow::Result<()> {
    use std::io::{Seek, SeekFrom};
    let text = crate::gotext::io_error_text;
    let why = format!(
        "{} cannot be replaced by a rename ({}; a bind mount?), so it is written in place",
        path.display(),
        text(rename_err)
    );
    let unchanged = |what: &str, e: std::io::Error| {
        anyhow!(
            "failed to write KUBECONFIG: {why}, but {what} failed: {}; {} was left unchanged",
            text(&e),
            path.display()
        )
    };
    let original = std::fs::read(target).map_err(|e| unchanged("reading it", e))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(target)
        .map_err(|e| unchanged("opening it for writing", e))?;
    let put = |file: &mut std::fs::File, bytes: &[u8]| -> std::io::Result<()> {
        file.seek(SeekFrom::Start(0))?;
        file.write_all(bytes)?;
        file.set_len(bytes.len() as u64)?;
        file.sync_all()
    };
    let Err(err) = put(&mut file, contents) else {
        drop(tmp);
        return Ok(());
    };
    match put(&mut file, &original) {
        Ok(()) => Err(anyhow!(
            "failed to write KUBECONFIG: {why}, but writing it failed: {}; its previous content was restored",
            text(&err)
        )),
        Err(restore_err) => {
            let new_copy = tmp
                .keep()
                .map(|(_, p)| p.display().to_string())
                .unwrap_or_else(|e| format!("(lost: {})", text(&e.error)));
            let old_copy = save_copy(target, &original);
            Err(anyhow!(
                "failed to write KUBECONFIG: {why}, but writing it failed: {}, and restoring its previous content failed too: {}; {} may be incomplete: its previous content is saved in {old_copy}, the new content in {new_copy}",
                text(&err),
                text(&restore_err),
                path.display()
            ))
        }
    }
}

/// Keep `bytes` in a new file next to `target` (else in the temp dir) and
/// return its path, or why that failed.
fn save_copy(target: &Path, bytes: &[u8]) -> String {
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut last = String::new();
    for dir in [dir.to_path_buf(), std::env::temp_dir()] {
        let saved = tempfile::Builder::new()
            .prefix("kubeconfig.previous.")
            .permissions(std::fs::Permissions::from_mode(0o600))
            .tempfile_in(&dir)
            .and_then(|mut f| {
                f.write_all(bytes)?;
                f.as_file().sync_all()?;
                f.keep().map_err(|e| e.error)
            });
        match saved {
            Ok((_, p)) => return p.display().to_string(),
            Err(e) => last = crate::gotext::io_error_text(&e),
        }
    }
    format!("(nowhere: {last})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_yaml::Value;

    /// kubeadm admin.conf as in upstream's read test (fake data).
    const KUBEADM_CONF: &str = "apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: definitelyacert
    server: https://kind-control-plane:6443
  name: kind
contexts:
- context:
    cluster: kind
    user: kubernetes-admin
  name: kubernetes-admin@kind
current-context: kubernetes-admin@kind
kind: Config
preferences: {}
users:
- name: kubernetes-admin
  user:
    client-certificate-data: seemslegit
    client-key-data: yup
";

    const KIND_CONF: &str = "apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: definitelyacert
    server: https://127.0.0.1:6443
  name: kind-kind
contexts:
- context:
    cluster: kind-kind
    user: kind-kind
  name: kind-kind
current-context: kind-kind
kind: Config
preferences: {}
users:
- name: kind-kind
  user:
    client-certificate-data: seemslegit
    client-key-data: yup
";

    const NO_WAIT: Duration = Duration::from_millis(0);

    #[test]
    fn from_admin_conf_renames_and_replaces_server() {
        assert_eq!(
            from_admin_conf(KUBEADM_CONF, "kind", Some("https://127.0.0.1:6443")).unwrap(),
            KIND_CONF
        );
    }

    #[test]
    fn from_admin_conf_internal_keeps_server() {
        let got = from_admin_conf(KUBEADM_CONF, "kind", None).unwrap();
        assert_eq!(
            got,
            KIND_CONF.replace("https://127.0.0.1:6443", "https://kind-control-plane:6443")
        );
    }

    #[test]
    fn from_admin_conf_errors() {
        let err = from_admin_conf("   \n ", "kind", None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "kubeadm KUBECONFIG should have one cluster, but read 0"
        );
        let two_users = KUBEADM_CONF.replace("users:\n", "users:\n- name: other\n  user: {}\n");
        assert_eq!(
            from_admin_conf(&two_users, "kind", None)
                .unwrap_err()
                .to_string(),
            "kubeadm KUBECONFIG should have one user, but read 2"
        );
        assert!(from_admin_conf("[not, a, mapping]", "kind", None)
            .unwrap_err()
            .to_string()
            .contains("must be a mapping"));
    }

    #[test]
    fn from_admin_conf_preserves_unknown_fields() {
        let src = KUBEADM_CONF
            .replace("    server:", "    tls-server-name: x\n    server:")
            .replace(
                "    user: kubernetes-admin\n",
                "    user: kubernetes-admin\n    namespace: ns\n",
            )
            .replace(
                "preferences: {}",
                "preferences:\n  colors: true\nextensions: []",
            );
        let got: Value =
            serde_yaml::from_str(&from_admin_conf(&src, "k", Some("https://[::1]:1")).unwrap())
                .unwrap();
        assert_eq!(
            got["clusters"][0]["cluster"]["tls-server-name"],
            Value::from("x")
        );
        assert_eq!(
            got["clusters"][0]["cluster"]["server"],
            Value::from("https://[::1]:1")
        );
        assert_eq!(
            got["contexts"][0]["context"]["namespace"],
            Value::from("ns")
        );
        assert_eq!(got["contexts"][0]["name"], Value::from("kind-k"));
        assert_eq!(got["preferences"]["colors"], Value::from(true));
        assert_eq!(got["extensions"], Value::Sequence(vec![]));
    }

    #[test]
    fn export_into_missing_nested_path_creates_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a/b/c/config");
        export_to(KIND_CONF, std::slice::from_ref(&target), NO_WAIT).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), KIND_CONF);
        assert_eq!(std::fs::metadata(&target).unwrap().mode() & 0o777, 0o600);
        assert!(!lock::lock_path(&target).exists());
        let leftovers: Vec<_> = std::fs::read_dir(target.parent().unwrap())
            .unwrap()
            .collect();
        assert_eq!(leftovers.len(), 1, "no temp or lock files remain");
    }

    #[test]
    fn export_merges_into_unsorted_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config");
        std::fs::write(
            &target,
            "kind: Config\napiVersion: v1\nusers:\n- user:\n    token: abc\n  name: kops-blah\nclusters:\n- name: kops-blah\n  cluster:\n    server: https://kops:443\ncontexts:\n- name: kops-blah\n  context:\n    user: kops-blah\n    cluster: kops-blah\ncurrent-context: kops-blah\n",
        )
        .unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
        export_to(KIND_CONF, std::slice::from_ref(&target), NO_WAIT).unwrap();
        let want = "apiVersion: v1
clusters:
- cluster:
    server: https://kops:443
  name: kops-blah
- cluster:
    certificate-authority-data: definitelyacert
    server: https://127.0.0.1:6443
  name: kind-kind
contexts:
- context:
    cluster: kops-blah
    user: kops-blah
  name: kops-blah
- context:
    cluster: kind-kind
    user: kind-kind
  name: kind-kind
current-context: kind-kind
kind: Config
users:
- name: kops-blah
  user:
    token: abc
- name: kind-kind
  user:
    client-certificate-data: seemslegit
    client-key-data: yup
";
        assert_eq!(std::fs::read_to_string(&target).unwrap(), want);
        // The user's mode is kept.
        assert_eq!(std::fs::metadata(&target).unwrap().mode() & 0o777, 0o640);
    }

    #[test]
    fn export_picks_first_existing_of_several() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("c"),
        );
        std::fs::write(&b, "").unwrap();
        std::fs::write(&c, "").unwrap();
        export_to(KIND_CONF, &[a.clone(), b.clone(), c.clone()], NO_WAIT).unwrap();
        assert!(!a.exists());
        assert_eq!(std::fs::read_to_string(&b).unwrap(), KIND_CONF);
        assert_eq!(std::fs::read_to_string(&c).unwrap(), "");
    }

    #[test]
    fn export_through_symlink_keeps_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real-config");
        let link = dir.path().join("config");
        std::fs::write(&real, "").unwrap();
        std::os::unix::fs::symlink("real-config", &link).unwrap();
        export_to(KIND_CONF, std::slice::from_ref(&link), NO_WAIT).unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), KIND_CONF);
    }

    #[test]
    fn unparsable_files_are_left_byte_for_byte_unchanged() {
        let cases: &[&[u8]] = &[
            b"this is not yaml: [\n",
            b"- a list\n- not a mapping\n",
            b"just a string\n",
            b"clusters: 42\n",
            b"\xff\xfe binary",
        ];
        for original in cases {
            let dir = tempfile::tempdir().unwrap();
            let target = dir.path().join("config");
            std::fs::write(&target, original).unwrap();
            let err = format!(
                "{:#}",
                export_to(KIND_CONF, std::slice::from_ref(&target), NO_WAIT).unwrap_err()
            );
            assert!(
                err.starts_with("failed to get kubeconfig to merge: "),
                "{err}"
            );
            assert!(
                err.contains(&target.display().to_string()) && err.contains("left unchanged"),
                "{err}"
            );
            assert_eq!(std::fs::read(&target).unwrap(), *original);
            let err = format!(
                "{:#}",
                remove_from("kind", std::slice::from_ref(&target), NO_WAIT).unwrap_err()
            );
            assert!(
                err.starts_with("failed to read kubeconfig to remove KIND entry: "),
                "{err}"
            );
            assert!(err.contains("left unchanged"), "{err}");
            assert_eq!(std::fs::read(&target).unwrap(), *original);
            assert!(!lock::lock_path(&target).exists());
        }
    }

    #[test]
    fn export_fails_on_foreign_lock_and_leaves_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config");
        std::fs::write(lock::lock_path(&target), "").unwrap();
        let err = export_to(
            KIND_CONF,
            std::slice::from_ref(&target),
            Duration::from_millis(100),
        )
        .unwrap_err();
        let err = err.to_string();
        let lock = lock::lock_path(&target).display().to_string();
        assert!(
            err.starts_with(&format!(
                "failed to lock config file: open {lock}: file exists; "
            )),
            "{err}"
        );
        assert!(err.ends_with(&format!("remove {lock}")), "{err}");
        assert!(!target.exists());
        assert!(lock::lock_path(&target).exists());
    }

    #[test]
    fn remove_only_cluster_leaves_header() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config");
        std::fs::write(&target, KIND_CONF.replace("kind-kind", "kind-foo")).unwrap();
        remove_from("foo", std::slice::from_ref(&target), NO_WAIT).unwrap();
        assert_eq!(
            std::fs::read_to_string(&target).unwrap(),
            "apiVersion: v1\nkind: Config\npreferences: {}\n"
        );
        assert!(!lock::lock_path(&target).exists());
    }

    #[test]
    fn remove_keeps_other_cluster_and_its_current_context() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config");
        export_to(
            &KIND_CONF.replace("kind-kind", "kind-foo"),
            std::slice::from_ref(&target),
            NO_WAIT,
        )
        .unwrap();
        export_to(
            &KIND_CONF.replace("kind-kind", "kind-bar"),
            std::slice::from_ref(&target),
            NO_WAIT,
        )
        .unwrap();
        remove_from("foo", std::slice::from_ref(&target), NO_WAIT).unwrap();
        assert_eq!(
            std::fs::read_to_string(&target).unwrap(),
            KIND_CONF.replace("kind-kind", "kind-bar")
        );
    }

    #[test]
    fn remove_touches_every_listed_file_but_only_if_needed() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("missing/c"),
        );
        std::fs::write(&a, KIND_CONF).unwrap();
        let untouched = "# hand-written\ncurrent-context: elsewhere\n";
        std::fs::write(&b, untouched).unwrap();
        let d = dir.path().join("d");
        let mut with_kind =
            KIND_CONF.replace("current-context: kind-kind", "current-context: other");
        with_kind.push_str("foo: bar\n");
        std::fs::write(&d, &with_kind).unwrap();
        remove_from(
            "kind",
            &[a.clone(), b.clone(), c.clone(), d.clone()],
            NO_WAIT,
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(&a).unwrap(),
            "apiVersion: v1\nkind: Config\npreferences: {}\n"
        );
        // No change needed: not rewritten (the comment survives).
        assert_eq!(std::fs::read_to_string(&b).unwrap(), untouched);
        // Missing files and directories are not created.
        assert!(!c.parent().unwrap().exists());
        assert_eq!(
            std::fs::read_to_string(&d).unwrap(),
            "apiVersion: v1\ncurrent-context: other\nfoo: bar\nkind: Config\npreferences: {}\n"
        );
    }

    #[test]
    fn remove_continues_past_a_bad_file_and_reports_it() {
        let dir = tempfile::tempdir().unwrap();
        let (bad, good) = (dir.path().join("bad"), dir.path().join("good"));
        std::fs::write(&bad, "{{{{").unwrap();
        std::fs::write(&good, KIND_CONF).unwrap();
        let err = remove_from("kind", &[bad.clone(), good.clone()], NO_WAIT)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&bad.display().to_string()), "{err}");
        assert_eq!(std::fs::read_to_string(&bad).unwrap(), "{{{{");
        assert_eq!(
            std::fs::read_to_string(&good).unwrap(),
            "apiVersion: v1\nkind: Config\npreferences: {}\n"
        );
    }

    #[test]
    fn contexts_lists_names() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config");
        assert_eq!(contexts(&target).unwrap(), (vec![], String::new()));
        std::fs::write(&target, KIND_CONF).unwrap();
        assert_eq!(
            contexts(&target).unwrap(),
            (vec!["kind-kind".to_string()], "kind-kind".to_string())
        );
    }
}
