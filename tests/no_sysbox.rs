//! A Docker daemon with no Sysbox runtime registered: `kind create cluster`
//! refuses before creating anything and says what to do. Runs a private
//! dockerd (own socket, data root, and its own network namespace) so the
//! shared daemon, which has the `sysbox-runc` stand-in, is not touched.
//! (Without the namespace, a second dockerd would manage the host's
//! docker0: `--bridge none` even deletes it.)

mod common;

use common::private_dockerd::PrivateDockerd;
use common::*;

#[test]
fn without_a_sysbox_runtime_create_refuses_before_creating_anything() {
    let d = PrivateDockerd::start();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kc");
    let host = d.host();
    let out = kind_cmd(
        &["create", "cluster", "--name", "nosysbox"],
        &[("DOCKER_HOST", &host)],
        &kubeconfig,
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("ERROR: failed to create cluster: Sysbox is not registered with Docker"),
        "{err}"
    );
    for needle in [
        "Install Sysbox >= 0.7.0",
        "KIND_EXPERIMENTAL_RUNTIME=runc",
        "exactly like upstream kind",
    ] {
        assert!(err.contains(needle), "missing {needle:?}: {err}");
    }
    assert_eq!(d.docker(&["ps", "-aq"]), "", "no container");
    assert!(
        !d.docker(&["network", "ls", "--format", "{{.Name}}"])
            .lines()
            .any(|n| n == "kind"),
        "no network"
    );
    assert!(!kubeconfig.exists(), "no kubeconfig");
}
