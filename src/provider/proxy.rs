//! Proxy environment for nodes (spec §3.6).

use super::endpoint;
use std::collections::BTreeMap;

const HTTP_PROXY: &str = "HTTP_PROXY";
const HTTPS_PROXY: &str = "HTTPS_PROXY";
const NO_PROXY: &str = "NO_PROXY";

/// Steps 1–2: host env, then the docker CLI config's proxies for
/// `docker_host`, the endpoint nodes are created on (`Endpoint::host`, so the
/// same resolution picks the daemon and its proxies). `env` reads variables
/// (injected for tests). Step 3 (network subnets, node names) is `finalize`.
pub fn proxy_env(
    env: &dyn Fn(&str) -> Option<String>,
    docker_host: &str,
    service_subnet: &str,
    pod_subnet: &str,
) -> BTreeMap<String, String> {
    let get = |k: &str| env(k).filter(|v| !v.is_empty());
    let subnets = format!("{service_subnet},{pod_subnet}");

    // Step 1: the host's own variables, upper case first.
    let mut out = BTreeMap::new();
    for name in [HTTP_PROXY, HTTPS_PROXY, NO_PROXY] {
        if let Some(v) = get(name).or_else(|| get(&name.to_lowercase())) {
            set_both(&mut out, name, v);
        }
    }
    if !out.is_empty() {
        let no_proxy = match out.get(NO_PROXY) {
            Some(existing) => format!("{existing},{subnets}"),
            None => subnets.clone(),
        };
        set_both(&mut out, NO_PROXY, no_proxy);
    }

    // Step 2: the docker CLI config, unless the host already names a proxy.
    let host_overrides = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"]
        .iter()
        .any(|k| get(k).is_some());
    if host_overrides {
        return out;
    }
    let docker = docker_config_proxies(env, docker_host);
    if docker.is_empty() {
        return out;
    }
    if out.is_empty() {
        for (name, v) in &docker {
            if name != NO_PROXY {
                set_both(&mut out, name, v.clone());
            }
        }
        let no_proxy = match docker.get(NO_PROXY) {
            Some(np) => format!("{np},{subnets}"),
            None => subnets,
        };
        set_both(&mut out, NO_PROXY, no_proxy);
    } else {
        for (name, v) in docker {
            if !out.contains_key(&name) {
                set_both(&mut out, &name, v);
            }
        }
    }
    out
}

/// Step 3: NO_PROXY/no_proxy = network subnets, current NO_PROXY, node
/// names, `.svc`, `.svc.cluster`, `.svc.cluster.local`.
pub fn finalize(env: &mut BTreeMap<String, String>, subnets: &[String], node_names: &[String]) {
    if env.is_empty() {
        return;
    }
    let current = env.get(NO_PROXY).cloned().unwrap_or_default();
    let parts: Vec<&str> = subnets
        .iter()
        .map(String::as_str)
        .chain(std::iter::once(current.as_str()))
        .chain(node_names.iter().map(String::as_str))
        .chain([".svc", ".svc.cluster", ".svc.cluster.local"])
        .filter(|p| !p.is_empty())
        .collect();
    set_both(env, NO_PROXY, parts.join(","));
}

fn set_both(out: &mut BTreeMap<String, String>, upper: &str, value: String) {
    out.insert(upper.to_lowercase(), value.clone());
    out.insert(upper.to_string(), value);
}

/// The proxies the docker CLI would hand to containers for the daemon at
/// `docker_host`: upper-case variable name -> non-empty value; the entry
/// keyed by that host, else `default`. Unreadable or invalid config => none.
fn docker_config_proxies(
    env: &dyn Fn(&str) -> Option<String>,
    docker_host: &str,
) -> BTreeMap<String, String> {
    let Some(dir) = endpoint::docker_config_dir(env) else {
        return BTreeMap::new();
    };
    let Ok(text) = std::fs::read_to_string(dir.join("config.json")) else {
        return BTreeMap::new();
    };
    let Ok(config) = serde_json::from_str::<serde_json::Value>(&text) else {
        return BTreeMap::new();
    };
    let Some(proxies) = config.get("proxies").and_then(|p| p.as_object()) else {
        return BTreeMap::new();
    };
    let entry = proxies
        .get(docker_host)
        .or_else(|| proxies.get("default"))
        .and_then(|e| e.as_object());
    let mut out = BTreeMap::new();
    if let Some(entry) = entry {
        for (key, name) in [
            ("httpProxy", HTTP_PROXY),
            ("httpsProxy", HTTPS_PROXY),
            ("noProxy", NO_PROXY),
        ] {
            if let Some(v) = entry
                .get(key)
                .and_then(|v| v.as_str())
                .filter(|v| !v.is_empty())
            {
                out.insert(name.to_string(), v.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};
    use std::collections::HashMap;

    fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| m.get(k).cloned()
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn both(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        for (k, v) in pairs {
            set_both(&mut m, k, v.to_string());
        }
        m
    }

    const SVC: &str = "10.0.0.0/24";
    const POD: &str = "12.0.0.0/24";

    #[test]
    fn host_env_table() {
        type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, BTreeMap<String, String>);
        let cases: Vec<Case> = vec![
            ("no env", vec![], map(&[])),
            (
                "HTTP_PROXY",
                vec![("HTTP_PROXY", "5.5.5.5")],
                both(&[
                    ("HTTP_PROXY", "5.5.5.5"),
                    ("NO_PROXY", "10.0.0.0/24,12.0.0.0/24"),
                ]),
            ),
            (
                "HTTPS_PROXY",
                vec![("HTTPS_PROXY", "5.5.5.5")],
                both(&[
                    ("HTTPS_PROXY", "5.5.5.5"),
                    ("NO_PROXY", "10.0.0.0/24,12.0.0.0/24"),
                ]),
            ),
            (
                "HTTPS_PROXY and NO_PROXY",
                vec![("HTTPS_PROXY", "5.5.5.5"), ("NO_PROXY", "8.8.8.8")],
                both(&[
                    ("HTTPS_PROXY", "5.5.5.5"),
                    ("NO_PROXY", "8.8.8.8,10.0.0.0/24,12.0.0.0/24"),
                ]),
            ),
            (
                "lower case is used when upper is empty",
                vec![("HTTP_PROXY", ""), ("http_proxy", "1.1.1.1")],
                both(&[
                    ("HTTP_PROXY", "1.1.1.1"),
                    ("NO_PROXY", "10.0.0.0/24,12.0.0.0/24"),
                ]),
            ),
            (
                "upper case wins",
                vec![("HTTP_PROXY", "u"), ("http_proxy", "l")],
                both(&[("HTTP_PROXY", "u"), ("NO_PROXY", "10.0.0.0/24,12.0.0.0/24")]),
            ),
            (
                "only NO_PROXY still counts",
                vec![("no_proxy", "x")],
                both(&[("NO_PROXY", "x,10.0.0.0/24,12.0.0.0/24")]),
            ),
        ];
        for (what, vars, want) in cases {
            assert_eq!(proxy_env_resolved(&env_of(&vars), SVC, POD), want, "{what}");
        }
    }

    /// A docker config dir with config.json and optional contexts.
    struct Cfg {
        dir: tempfile::TempDir,
    }

    impl Cfg {
        fn new(config: &str) -> Cfg {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("config.json"), config).unwrap();
            Cfg { dir }
        }
        fn context(self, name: &str, host: &str) -> Cfg {
            let hex: String = Sha256::digest(name.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let d = self.dir.path().join("contexts/meta").join(hex);
            std::fs::create_dir_all(&d).unwrap();
            let meta = format!(
                r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#
            );
            std::fs::write(d.join("meta.json"), meta).unwrap();
            self
        }
        fn path(&self) -> String {
            self.dir.path().to_string_lossy().into_owned()
        }
    }

    const PROXIES: &str = r#"{"proxies":{
        "default":{"httpProxy":"http://default","httpsProxy":"https://default","noProxy":"default.internal"},
        "tcp://docker-host:2376":{"httpProxy":"http://host","noProxy":"host.internal"},
        "unix:///var/run/docker.sock":{"httpProxy":"http://local"}
    }}"#;

    /// The endpoint's host as `Docker::connect` resolves it; unresolvable
    /// (a missing context) matches no host entry.
    fn host_of(env: &dyn Fn(&str) -> Option<String>) -> String {
        endpoint::resolve(env).map(|e| e.host).unwrap_or_default()
    }

    fn proxy_env_resolved(
        env: &dyn Fn(&str) -> Option<String>,
        svc: &str,
        pod: &str,
    ) -> BTreeMap<String, String> {
        proxy_env(env, &host_of(env), svc, pod)
    }

    fn lookup(vars: &[(&str, &str)]) -> BTreeMap<String, String> {
        let env = env_of(vars);
        docker_config_proxies(&env, &host_of(&env))
    }

    #[test]
    fn docker_config_default_entry_via_docker_config() {
        let plain = Cfg::new(
            r#"{"proxies":{"default":{"httpProxy":"http://default","noProxy":"default.internal"}}}"#,
        );
        assert_eq!(
            lookup(&[("DOCKER_CONFIG", &plain.path())]),
            map(&[
                ("HTTP_PROXY", "http://default"),
                ("NO_PROXY", "default.internal")
            ])
        );
    }

    #[test]
    fn docker_config_host_entry_via_docker_host() {
        let c = Cfg::new(PROXIES);
        assert_eq!(
            lookup(&[
                ("DOCKER_CONFIG", &c.path()),
                ("DOCKER_HOST", "tcp://docker-host:2376")
            ]),
            map(&[("HTTP_PROXY", "http://host"), ("NO_PROXY", "host.internal")])
        );
        // An unknown host falls back to `default`.
        assert_eq!(
            lookup(&[
                ("DOCKER_CONFIG", &c.path()),
                ("DOCKER_HOST", "tcp://other:1")
            ])["HTTP_PROXY"],
            "http://default"
        );
    }

    #[test]
    fn docker_config_host_entry_via_docker_context() {
        let c = Cfg::new(PROXIES).context("remote", "tcp://docker-host:2376");
        assert_eq!(
            lookup(&[("DOCKER_CONFIG", &c.path()), ("DOCKER_CONTEXT", "remote")])["HTTP_PROXY"],
            "http://host"
        );
        // DOCKER_HOST beats DOCKER_CONTEXT.
        assert_eq!(
            lookup(&[
                ("DOCKER_CONFIG", &c.path()),
                ("DOCKER_CONTEXT", "remote"),
                ("DOCKER_HOST", "tcp://other:1")
            ])["HTTP_PROXY"],
            "http://default"
        );
        // A context that is not in the store: default entry.
        assert_eq!(
            lookup(&[("DOCKER_CONFIG", &c.path()), ("DOCKER_CONTEXT", "missing")])["HTTP_PROXY"],
            "http://default"
        );
    }

    #[test]
    fn docker_config_host_entry_via_current_context() {
        let cfg = PROXIES.replacen('{', r#"{"currentContext":"remote","#, 1);
        let c = Cfg::new(&cfg).context("remote", "tcp://docker-host:2376");
        assert_eq!(
            lookup(&[("DOCKER_CONFIG", &c.path())])["HTTP_PROXY"],
            "http://host"
        );
        // DOCKER_CONTEXT beats currentContext; `default` is the local socket.
        assert_eq!(
            lookup(&[("DOCKER_CONFIG", &c.path()), ("DOCKER_CONTEXT", "default")])["HTTP_PROXY"],
            "http://local"
        );
    }

    #[test]
    fn docker_config_fallback_home_path() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".docker")).unwrap();
        std::fs::write(
            home.path().join(".docker/config.json"),
            r#"{"proxies":{"default":{"httpsProxy":"https://h"}}}"#,
        )
        .unwrap();
        let h = home.path().to_string_lossy().into_owned();
        assert_eq!(
            lookup(&[("HOME", &h)]),
            map(&[("HTTPS_PROXY", "https://h")])
        );
    }

    #[test]
    fn docker_config_invalid_or_missing_is_empty() {
        let bad = Cfg::new("{not json").context("remote", "tcp://docker-host:2376");
        assert_eq!(
            lookup(&[("DOCKER_CONFIG", &bad.path()), ("DOCKER_CONTEXT", "remote")]),
            map(&[])
        );
        assert_eq!(
            lookup(&[("DOCKER_CONFIG", "/nonexistent/kind-sysbox-test")]),
            map(&[])
        );
        assert_eq!(lookup(&[]), map(&[]));
        let no_proxies = Cfg::new(r#"{"auths":{}}"#);
        assert_eq!(lookup(&[("DOCKER_CONFIG", &no_proxies.path())]), map(&[]));
    }

    #[test]
    fn host_env_overrides_docker_config() {
        let c = Cfg::new(
            r#"{"proxies":{"default":{"httpProxy":"http://default","httpsProxy":"https://default","noProxy":"default.internal"}}}"#,
        );
        let p = c.path();
        let svc = "10.96.0.0/16";
        let pod = "10.244.0.0/16";
        // HTTP_PROXY / https_proxy in the shell: the docker config is not consulted.
        for var in ["HTTP_PROXY", "https_proxy"] {
            let got = proxy_env_resolved(
                &env_of(&[("DOCKER_CONFIG", &p), (var, "http://shell")]),
                svc,
                pod,
            );
            assert!(
                !got.values().any(|v| v.contains("default")),
                "{var}: {got:?}"
            );
        }
        // Docker config only.
        assert_eq!(
            proxy_env_resolved(&env_of(&[("DOCKER_CONFIG", &p)]), svc, pod),
            both(&[
                ("HTTP_PROXY", "http://default"),
                ("HTTPS_PROXY", "https://default"),
                ("NO_PROXY", "default.internal,10.96.0.0/16,10.244.0.0/16")
            ])
        );
        // Shell NO_PROXY only: docker fills the proxies, the shell's NO_PROXY stays.
        assert_eq!(
            proxy_env_resolved(
                &env_of(&[("DOCKER_CONFIG", &p), ("NO_PROXY", "shell.internal")]),
                svc,
                pod
            ),
            both(&[
                ("HTTP_PROXY", "http://default"),
                ("HTTPS_PROXY", "https://default"),
                ("NO_PROXY", "shell.internal,10.96.0.0/16,10.244.0.0/16")
            ])
        );
        // Docker entry without noProxy: just the subnets.
        let c2 = Cfg::new(r#"{"proxies":{"default":{"httpProxy":"http://d"}}}"#);
        assert_eq!(
            proxy_env_resolved(&env_of(&[("DOCKER_CONFIG", &c2.path())]), svc, pod),
            both(&[
                ("HTTP_PROXY", "http://d"),
                ("NO_PROXY", "10.96.0.0/16,10.244.0.0/16")
            ])
        );
    }

    #[test]
    fn finalize_rewrites_no_proxy() {
        let mut none = BTreeMap::new();
        finalize(
            &mut none,
            &["172.18.0.0/16".into()],
            &["kind-control-plane".into()],
        );
        assert!(none.is_empty(), "nothing set => nothing added");

        let mut env = both(&[
            ("HTTP_PROXY", "p"),
            ("NO_PROXY", "10.96.0.0/16,10.244.0.0/16"),
        ]);
        finalize(
            &mut env,
            &["172.18.0.0/16".into(), "fc00:f853:ccd:e793::/64".into()],
            &["kind-control-plane".into(), "kind-worker".into()],
        );
        let want = "172.18.0.0/16,fc00:f853:ccd:e793::/64,10.96.0.0/16,10.244.0.0/16,kind-control-plane,kind-worker,.svc,.svc.cluster,.svc.cluster.local";
        assert_eq!(env, both(&[("HTTP_PROXY", "p"), ("NO_PROXY", want)]));
    }
}
