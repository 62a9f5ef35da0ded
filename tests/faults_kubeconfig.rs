//! Kubeconfig writes under faults (issue 9 items 1, 4, 5): a bind-mounted
//! file (rename onto a mount point fails with EBUSY), a full and a read-only
//! filesystem, a stale lock, and a file starting with a UTF-8 BOM. Every
//! file we write is read back with the real kubectl; every failure must
//! leave the file byte for byte as it was and say what happened.
//!
//! The mounts are made here (`mount --bind`, small tmpfs): these tests need
//! root, as the whole suite does under .ci/run.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use kind_sysbox::kubeconfig;

const SHORT_WAIT: Duration = Duration::from_millis(300);

/// A mount made by a test, lazily unmounted however the test ends.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn run(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd).args(args).output().expect("run");
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn require_root() {
    let uid = String::from_utf8(Command::new("id").arg("-u").output().unwrap().stdout).unwrap();
    assert_eq!(
        uid.trim(),
        "0",
        "these tests make mounts and must run as root (sudo bash .ci/run)"
    );
}

/// Bind-mount file `src` onto file `dst` (created empty if missing).
fn bind_file(src: &Path, dst: &Path) -> Mount {
    require_root();
    if !dst.exists() {
        std::fs::write(dst, "").unwrap();
    }
    run(
        "mount",
        &["--bind", src.to_str().unwrap(), dst.to_str().unwrap()],
    );
    Mount(dst.to_path_buf())
}

/// A small tmpfs at `dir`.
fn tmpfs(dir: &Path, size: &str) -> Mount {
    require_root();
    std::fs::create_dir_all(dir).unwrap();
    run(
        "mount",
        &[
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size}"),
            "tmpfs",
            dir.to_str().unwrap(),
        ],
    );
    Mount(dir.to_path_buf())
}

/// Fill the filesystem of `dir` until a write fails with ENOSPC.
fn fill(dir: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(dir.join("filler")).unwrap();
    let chunk = [0u8; 512];
    loop {
        match f.write_all(&chunk).and_then(|_| f.sync_all()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => panic!("filling {}: {e}", dir.display()),
        }
    }
}

fn admin_conf() -> String {
    std::fs::read_to_string(repo_root().join("tests/fixtures/kubeconfig/admin.conf")).unwrap()
}

fn kind_config(cluster: &str) -> String {
    kubeconfig::from_admin_conf(&admin_conf(), cluster, Some("https://127.0.0.1:1")).unwrap()
}

/// A user's kubeconfig with one context `mine`; `pad` bytes of token make it
/// as large as a test needs.
fn users_config(pad: usize) -> String {
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    server: https://example.invalid:6443\n  name: mine\ncontexts:\n- context:\n    cluster: mine\n    user: mine\n  name: mine\ncurrent-context: mine\nkind: Config\npreferences: {{}}\nusers:\n- name: mine\n  user:\n    token: t{}\n",
        "x".repeat(pad)
    )
}

fn context_names(file: &Path) -> BTreeSet<String> {
    let out = kubectl(file, &["config", "get-contexts", "-o", "name"]);
    assert!(
        out.status.success(),
        "kubectl cannot read {}: {}\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&std::fs::read(file).unwrap_or_default())
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn names(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Nothing but `keep` in `dir`: no temp copies, no lock files.
fn assert_only(dir: &Path, keep: &[&str]) {
    let got: BTreeSet<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(got, names(keep), "in {}", dir.display());
}

#[test]
fn bind_mounted_kubeconfig_merge_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let (host, inside) = (dir.path().join("host"), dir.path().join("inside"));
    std::fs::create_dir_all(&host).unwrap();
    std::fs::create_dir_all(&inside).unwrap();
    let source = host.join("config");
    std::fs::write(&source, users_config(0)).unwrap();
    let target = inside.join("config");
    let _m = bind_file(&source, &target);

    kubeconfig::export_to(
        &kind_config("bound"),
        std::slice::from_ref(&target),
        SHORT_WAIT,
    )
    .unwrap();
    // Written through the mount: the host's file has the context too.
    assert_eq!(context_names(&target), names(&["kind-bound", "mine"]));
    assert_eq!(context_names(&source), names(&["kind-bound", "mine"]));
    assert_only(&inside, &["config"]);

    kubeconfig::remove_from("bound", std::slice::from_ref(&target), SHORT_WAIT).unwrap();
    assert_eq!(context_names(&source), names(&["mine"]));
    assert_only(&inside, &["config"]);
    assert_only(&host, &["config"]);
}

#[test]
fn full_filesystem_leaves_the_kubeconfig_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let fs = dir.path().join("fs");
    let _m = tmpfs(&fs, "64k");
    let target = fs.join("config");
    let original = users_config(0) + "# the user's comment\n";
    std::fs::write(&target, &original).unwrap();
    fill(&fs);

    let err = format!(
        "{:#}",
        kubeconfig::export_to(
            &kind_config("full"),
            std::slice::from_ref(&target),
            SHORT_WAIT
        )
        .unwrap_err()
    );
    assert!(err.contains("no space left on device"), "{err}");
    assert!(
        err.contains(&target.display().to_string()) && err.contains("left unchanged"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), original);
    assert_only(&fs, &["config", "filler"]);
}

#[test]
fn bind_mounted_kubeconfig_on_a_full_filesystem_is_restored() {
    let dir = tempfile::tempdir().unwrap();
    let fs = dir.path().join("fs");
    let _fs = tmpfs(&fs, "64k");
    let source = fs.join("config");
    // Just under one page: the merged file needs a second one, which a full
    // tmpfs refuses halfway through the in-place copy.
    let mut original = users_config(0);
    original = users_config(4000 - original.len());
    std::fs::write(&source, &original).unwrap();
    fill(&fs);
    let inside = dir.path().join("inside");
    std::fs::create_dir_all(&inside).unwrap();
    let target = inside.join("config");
    let _bind = bind_file(&source, &target);

    let err = format!(
        "{:#}",
        kubeconfig::export_to(
            &kind_config("full"),
            std::slice::from_ref(&target),
            SHORT_WAIT
        )
        .unwrap_err()
    );
    assert!(err.contains("no space left on device"), "{err}");
    assert!(err.contains("previous content was restored"), "{err}");
    assert_eq!(std::fs::read_to_string(&source).unwrap(), original);
    assert_eq!(context_names(&target), names(&["mine"]));
    assert_only(&inside, &["config"]);
}

#[test]
fn read_only_kubeconfig_is_left_byte_identical() {
    // A read-only filesystem: even the lock cannot be taken.
    let dir = tempfile::tempdir().unwrap();
    let fs = dir.path().join("fs");
    let _m = tmpfs(&fs, "64k");
    let target = fs.join("config");
    let original = kind_config("ro");
    std::fs::write(&target, &original).unwrap();
    run("mount", &["-o", "remount,ro", fs.to_str().unwrap()]);
    for err in [
        kubeconfig::export_to(
            &kind_config("other"),
            std::slice::from_ref(&target),
            SHORT_WAIT,
        )
        .unwrap_err(),
        kubeconfig::remove_from("ro", std::slice::from_ref(&target), SHORT_WAIT).unwrap_err(),
    ] {
        let err = format!("{err:#}");
        assert!(err.contains("read-only file system"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), original);
    }

    // A read-only bind mount in a writable directory: lock and temp file
    // work, the file itself cannot be written.
    let source_dir = dir.path().join("host");
    std::fs::create_dir_all(&source_dir).unwrap();
    let source = source_dir.join("config");
    std::fs::write(&source, &original).unwrap();
    let inside = dir.path().join("inside");
    std::fs::create_dir_all(&inside).unwrap();
    let bound = inside.join("config");
    let _bind = bind_file(&source, &bound);
    run("mount", &["-o", "remount,bind,ro", bound.to_str().unwrap()]);
    for err in [
        kubeconfig::export_to(
            &kind_config("other"),
            std::slice::from_ref(&bound),
            SHORT_WAIT,
        )
        .unwrap_err(),
        kubeconfig::remove_from("ro", std::slice::from_ref(&bound), SHORT_WAIT).unwrap_err(),
    ] {
        let err = format!("{err:#}");
        assert!(err.contains("read-only file system"), "{err}");
        assert!(err.contains("left unchanged"), "{err}");
        assert_eq!(std::fs::read_to_string(&source).unwrap(), original);
    }
    assert_only(&inside, &["config"]);
}

fn assert_stale_lock_error(err: &str, lock: &Path) {
    let lock = lock.display().to_string();
    assert!(
        err.contains(&format!(
            "failed to lock config file: open {lock}: file exists"
        )),
        "{err}"
    );
    assert!(err.contains("exists since "), "{err}");
    assert!(err.contains("1h0m") && err.contains(" ago"), "{err}");
    assert!(err.contains("crashed"), "{err}");
    assert!(err.contains(&format!("remove {lock}")), "{err}");
}

/// A lock file an hour old, as a crashed kind leaves it.
fn stale_lock(target: &Path) -> PathBuf {
    let mut lock = target.as_os_str().to_owned();
    lock.push(".lock");
    let lock = PathBuf::from(lock);
    std::fs::write(&lock, "").unwrap();
    run("touch", &["-d", "1 hour ago", lock.to_str().unwrap()]);
    lock
}

#[test]
fn stale_lock_error_names_the_file_its_age_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("config");
    std::fs::write(&target, users_config(0)).unwrap();
    let lock = stale_lock(&target);
    let started = Instant::now();
    let err = kubeconfig::export_to(
        &kind_config("locked"),
        std::slice::from_ref(&target),
        SHORT_WAIT,
    )
    .unwrap_err();
    assert!(started.elapsed() >= SHORT_WAIT);
    assert_stale_lock_error(&format!("{err:#}"), &lock);
    assert!(lock.exists(), "someone else's lock is never removed");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), users_config(0));
}

#[test]
fn stale_lock_through_the_cli() {
    // The CLI waits its full 10 s before giving up.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("config");
    std::fs::write(&target, users_config(0)).unwrap();
    let lock = stale_lock(&target);
    let name = unique("stalelock");
    let out = kind_cmd(&["delete", "cluster", "--name", &name], &[], &target, None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_stale_lock_error(&stderr(&out), &lock);
    assert!(lock.exists());
}

#[test]
fn kubeconfig_with_a_bom_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("config");
    let with_bom = format!("\u{feff}{}", users_config(0));
    std::fs::write(&target, &with_bom).unwrap();
    // kubectl itself reads it.
    assert_eq!(context_names(&target), names(&["mine"]));

    kubeconfig::export_to(
        &kind_config("bom"),
        std::slice::from_ref(&target),
        SHORT_WAIT,
    )
    .unwrap();
    assert_eq!(context_names(&target), names(&["kind-bom", "mine"]));
    std::fs::write(&target, format!("\u{feff}{}", kind_config("bom"))).unwrap();
    kubeconfig::remove_from("bom", std::slice::from_ref(&target), SHORT_WAIT).unwrap();
    assert_eq!(context_names(&target), names(&[]));
    assert!(kubeconfig::contexts(&target).is_ok());
}

#[test]
fn create_and_delete_with_a_bind_mounted_kubeconfig() {
    require_fixture();
    let tc = TestCluster::new("bindkc");
    let source = tc.dir.path().join("host-config");
    std::fs::write(&source, users_config(0)).unwrap();
    let _bind = bind_file(&source, &tc.kubeconfig());

    let out = tc.create(&[]);
    assert_ok(&out);
    let key = format!("kind-{}", tc.name);
    assert_eq!(context_names(&source), names(&[&key, "mine"]));
    assert_eq!(tc.containers().len(), 1, "the cluster stays");

    let out = tc.kind(&["delete", "cluster", "--name", &tc.name]);
    assert_ok(&out);
    assert!(
        !stderr(&out).contains("failed to update kubeconfig"),
        "{}",
        stderr(&out)
    );
    assert_eq!(context_names(&source), names(&["mine"]));
    assert!(tc.containers().is_empty());
    assert_only(tc.dir.path(), &["host-config", "kubeconfig"]);
}
