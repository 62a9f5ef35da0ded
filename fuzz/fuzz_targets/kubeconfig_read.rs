//! Any bytes as an existing kubeconfig file: the decode, merge and remove
//! paths of `create`/`export kubeconfig` and `delete` (pure, no files).
//! Besides "no panic", what we write must read back: the merged file holds
//! our entries, removing them gives a file we read again, and a second
//! merge or remove changes nothing.
#![no_main]

use kind_sysbox::kubeconfig;
use libfuzzer_sys::fuzz_target;

/// kind's kubeconfig for cluster `fuzz`, as `from_admin_conf` builds it.
const KIND_CONFIG: &str = "apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Y2E=
    server: https://127.0.0.1:6443
  name: kind-fuzz
contexts:
- context:
    cluster: kind-fuzz
    user: kind-fuzz
  name: kind-fuzz
current-context: kind-fuzz
kind: Config
preferences: {}
users:
- name: kind-fuzz
  user:
    client-certificate-data: Y2VydA==
    client-key-data: a2V5
";

fuzz_target!(|data: &[u8]| {
    let _ = kubeconfig::removed(data, "fuzz");
    let Ok(merged) = kubeconfig::merged(data, KIND_CONFIG) else {
        return;
    };
    let again = kubeconfig::merged(merged.as_bytes(), KIND_CONFIG)
        .unwrap_or_else(|e| panic!("re-reading our merged file failed: {e:#}\n{merged}"));
    assert_eq!(again, merged, "merging twice differs from merging once");
    let removed = kubeconfig::removed(merged.as_bytes(), "fuzz")
        .unwrap_or_else(|e| panic!("re-reading our merged file failed: {e}\n{merged}"))
        .unwrap_or_else(|| panic!("our entries are missing from the merged file\n{merged}"));
    assert_eq!(
        kubeconfig::removed(removed.as_bytes(), "fuzz"),
        Ok(None),
        "a second remove changed the file\n{removed}"
    );
});
