//! Malformed config patches through `kind create cluster` on the fixture:
//! the error line reads as upstream kind's (its wrap texts around its
//! libraries' texts), and the failed create leaves nothing behind.

mod common;

use common::*;

fn create_fails_with(patches: &str, want: &str) {
    require_fixture();
    let tc = TestCluster::new("patcherr");
    let config = format!("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n{patches}");
    let out = tc.kind_stdin(
        &[
            "create",
            "cluster",
            "--name",
            &tc.name,
            "--image",
            FIXTURE_IMAGE,
            "--config",
            "-",
        ],
        &config,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.ends_with(&format!("ERROR: failed to create cluster: {want}\n")),
        "{err}"
    );
    assert!(tc.containers().is_empty(), "nothing is left");
}

#[test]
fn unknown_op_in_a_kubeadm_json6902_patch() {
    create_fails_with(
        "kubeadmConfigPatchesJSON6902:\n- kind: ClusterConfiguration\n  patch: |\n    - op: bogus\n      path: /a\n",
        "failed to generate kubeadm config content: failed to apply JSON 6902 patch: Unexpected kind: bogus",
    );
}

#[test]
fn containerd_toml_patch_that_does_not_parse() {
    create_fails_with(
        "containerdConfigPatches:\n- |\n  [plugins.\"io.containerd.grpc.v1.cri\".containerd]\n  snapshotter = overlayfs\n",
        "failed to patch containerd config: (2, 15): no value can start with o",
    );
}

#[test]
fn containerd_json6902_patch_that_is_not_json() {
    create_fails_with(
        "containerdConfigPatchesJSON6902:\n- |\n  - op: remove\n    path: /version\n",
        "failed to patch containerd config: invalid character ' ' in numeric literal",
    );
}
