//! Unit tests of the Docker endpoint rules (environment, contexts, TLS).

use super::*;
use std::collections::HashMap;

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let m: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| m.get(k).cloned()
}

/// A docker config dir: config.json, contexts, TLS files.
struct Cfg {
    dir: tempfile::TempDir,
}

impl Cfg {
    fn new(config: &str) -> Cfg {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), config).unwrap();
        Cfg { dir }
    }
    fn context(self, name: &str, endpoint: &str) -> Cfg {
        let d = self
            .dir
            .path()
            .join("contexts/meta")
            .join(context_digest(name));
        std::fs::create_dir_all(&d).unwrap();
        let meta =
            format!(r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{endpoint}}}}}"#);
        std::fs::write(d.join("meta.json"), meta).unwrap();
        self
    }
    fn raw_meta(self, name: &str, meta: &str) -> Cfg {
        let d = self
            .dir
            .path()
            .join("contexts/meta")
            .join(context_digest(name));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("meta.json"), meta).unwrap();
        self
    }
    fn tls(self, name: &str, files: &[&str]) -> Cfg {
        let d = self.tls_dir(name);
        std::fs::create_dir_all(&d).unwrap();
        for f in files {
            std::fs::write(d.join(f), "pem").unwrap();
        }
        self
    }
    fn tls_dir(&self, name: &str) -> PathBuf {
        self.dir
            .path()
            .join("contexts/tls")
            .join(context_digest(name))
            .join("docker")
    }
    fn certs(self, files: &[&str]) -> Cfg {
        for f in files {
            std::fs::write(self.dir.path().join(f), "pem").unwrap();
        }
        self
    }
    fn path(&self) -> String {
        self.dir.path().to_string_lossy().into_owned()
    }
    fn file(&self, f: &str) -> PathBuf {
        self.dir.path().join(f)
    }
}

fn host_ep(host: &str) -> String {
    format!(r#"{{"Host":"{host}","SkipTLSVerify":false}}"#)
}

fn ok(host: &str, origin: Origin) -> Result<Endpoint, EndpointError> {
    Ok(Endpoint {
        host: host.into(),
        tls: None,
        origin,
    })
}

fn ctx(name: &str, from: ContextFrom) -> Origin {
    Origin::Context {
        name: name.into(),
        from,
    }
}

#[test]
fn precedence_table() {
    let c = Cfg::new(r#"{"currentContext":"cfg"}"#)
        .context("cfg", &host_ep("unix:///run/cfg.sock"))
        .context("envctx", &host_ep("tcp://10.0.0.1:2375"));
    let p = c.path();
    let config_json = c.file("config.json");
    type Case<'a> = (
        &'a str,
        Vec<(&'a str, &'a str)>,
        Result<Endpoint, EndpointError>,
    );
    let cases: Vec<Case> = vec![
        (
            "nothing set: the default socket",
            vec![],
            ok(DEFAULT_UNIX_HOST, Origin::Default),
        ),
        (
            "DOCKER_HOST beats everything",
            vec![
                ("DOCKER_CONFIG", &p),
                ("DOCKER_HOST", "unix:///run/h.sock"),
                ("DOCKER_CONTEXT", "envctx"),
            ],
            ok("unix:///run/h.sock", Origin::DockerHost),
        ),
        (
            "empty DOCKER_HOST means unset",
            vec![("DOCKER_CONFIG", &p), ("DOCKER_HOST", "")],
            ok(
                "unix:///run/cfg.sock",
                ctx("cfg", ContextFrom::Config(config_json.clone())),
            ),
        ),
        (
            "blank DOCKER_HOST means unset",
            vec![("DOCKER_HOST", "  ")],
            ok(DEFAULT_UNIX_HOST, Origin::Default),
        ),
        (
            "DOCKER_CONTEXT beats the config",
            vec![("DOCKER_CONFIG", &p), ("DOCKER_CONTEXT", "envctx")],
            ok("tcp://10.0.0.1:2375", ctx("envctx", ContextFrom::Env)),
        ),
        (
            "empty DOCKER_CONTEXT means unset",
            vec![("DOCKER_CONFIG", &p), ("DOCKER_CONTEXT", "")],
            ok(
                "unix:///run/cfg.sock",
                ctx("cfg", ContextFrom::Config(config_json.clone())),
            ),
        ),
        (
            "DOCKER_CONTEXT=default is the environment's endpoint",
            vec![("DOCKER_CONFIG", &p), ("DOCKER_CONTEXT", "default")],
            ok(DEFAULT_UNIX_HOST, Origin::Default),
        ),
        (
            "config current context",
            vec![("DOCKER_CONFIG", &p)],
            ok(
                "unix:///run/cfg.sock",
                ctx("cfg", ContextFrom::Config(config_json.clone())),
            ),
        ),
    ];
    for (what, vars, want) in cases {
        assert_eq!(resolve(&env_of(&vars)), want, "{what}");
    }
}

#[test]
fn home_docker_is_the_default_config_dir() {
    let home = tempfile::tempdir().unwrap();
    let d = home.path().join(".docker");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("config.json"), r#"{"currentContext":"h"}"#).unwrap();
    let meta = d.join("contexts/meta").join(context_digest("h"));
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("meta.json"),
        r#"{"Name":"h","Endpoints":{"docker":{"Host":"unix:///run/home.sock"}}}"#,
    )
    .unwrap();
    let h = home.path().to_string_lossy().into_owned();
    let got = resolve(&env_of(&[("HOME", &h)])).unwrap();
    assert_eq!(got.host, "unix:///run/home.sock");
    // DOCKER_CONFIG wins over HOME.
    let other = Cfg::new("{}");
    let got = resolve(&env_of(&[("HOME", &h), ("DOCKER_CONFIG", &other.path())])).unwrap();
    assert_eq!(got, ok(DEFAULT_UNIX_HOST, Origin::Default).unwrap());
}

#[test]
fn config_without_context_or_invalid_is_default() {
    for config in [
        "{}",
        r#"{"currentContext":""}"#,
        "{not json",
        r#"{"currentContext":7}"#,
    ] {
        let c = Cfg::new(config);
        assert_eq!(
            resolve(&env_of(&[("DOCKER_CONFIG", &c.path())])),
            ok(DEFAULT_UNIX_HOST, Origin::Default),
            "{config}"
        );
    }
    let c = Cfg::new(r#"{"currentContext":"default"}"#);
    assert_eq!(
        resolve(&env_of(&[("DOCKER_CONFIG", &c.path())])),
        ok(DEFAULT_UNIX_HOST, Origin::Default)
    );
    assert_eq!(
        resolve(&env_of(&[("DOCKER_CONFIG", "/nonexistent/kind-sysbox")])),
        ok(DEFAULT_UNIX_HOST, Origin::Default)
    );
}

#[test]
fn missing_context_is_an_error_naming_it() {
    let c = Cfg::new(r#"{"currentContext":"gone"}"#);
    let p = c.path();
    let e = resolve(&env_of(&[
        ("DOCKER_CONFIG", &p),
        ("DOCKER_CONTEXT", "nope"),
    ]))
    .unwrap_err();
    assert!(
        matches!(&e, EndpointError::ContextNotFound { name, .. } if name == "nope"),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("\"nope\"")
            && msg.contains("DOCKER_CONTEXT")
            && msg.contains("docker context ls"),
        "{msg}"
    );

    let e = resolve(&env_of(&[("DOCKER_CONFIG", &p)])).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("\"gone\"") && msg.contains("config.json"),
        "{msg}"
    );
}

#[test]
fn broken_contexts_are_errors() {
    let c = Cfg::new("{}")
        .raw_meta("badjson", "{")
        .raw_meta("nodocker", r#"{"Name":"nodocker","Endpoints":{}}"#)
        .context("badhost", &host_ep("http://x:1"));
    let p = c.path();
    for (name, needle) in [
        ("badjson", "invalid JSON"),
        ("nodocker", "no docker endpoint"),
        ("badhost", "unsupported scheme \"http\""),
    ] {
        let e = resolve(&env_of(&[("DOCKER_CONFIG", &p), ("DOCKER_CONTEXT", name)])).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains(needle) && msg.contains(name), "{name}: {msg}");
    }
}

#[test]
fn host_parsing_table() {
    let o = Origin::DockerHost;
    let cases: Vec<(&str, bool, Option<&str>)> = vec![
        ("", false, Some("unix:///var/run/docker.sock")),
        ("", true, Some("tcp://localhost:2376")),
        ("unix:///run/d.sock", false, Some("unix:///run/d.sock")),
        ("unix://", false, Some("unix:///var/run/docker.sock")),
        ("  unix:///run/d.sock ", false, Some("unix:///run/d.sock")),
        ("tcp://1.2.3.4:2376", false, Some("tcp://1.2.3.4:2376")),
        ("tcp://1.2.3.4", false, Some("tcp://1.2.3.4:2375")),
        ("tcp://1.2.3.4", true, Some("tcp://1.2.3.4:2375")),
        ("tcp://1.2.3.4:", false, Some("tcp://1.2.3.4:2375")),
        ("tcp://:2376", false, Some("tcp://localhost:2376")),
        ("tcp://", false, Some("tcp://localhost:2375")),
        ("1.2.3.4:5", false, Some("tcp://1.2.3.4:5")),
        ("docker-host", false, Some("tcp://docker-host:2375")),
        ("tcp://[::1]:2376", false, Some("tcp://[::1]:2376")),
        ("tcp://[::1]", false, Some("tcp://[::1]:2375")),
        ("tcp://h:1/path/", false, Some("tcp://h:1/path")),
        ("tcp://h:notaport", false, None),
        ("tcp://h:0", false, None),
        ("tcp://h:70000", false, None),
        ("tcp://::1:2376", false, None),
        ("tcp://tcp://h:1", false, None),
        ("unix://unix:///x", false, None),
        ("http://h:1", false, None),
        ("https://h:1", false, None),
        ("npipe:////./pipe/docker_engine", false, None),
        ("fd://", false, None),
    ];
    for (raw, tls, want) in cases {
        let got = parse_host(raw, tls, &o);
        match want {
            Some(w) => assert_eq!(got.as_deref(), Ok(w), "{raw:?}"),
            None => {
                let e = got.unwrap_err();
                assert!(e.to_string().contains("from DOCKER_HOST"), "{raw:?}: {e}");
            }
        }
    }
}

#[test]
fn ssh_is_refused_with_a_way_out() {
    let e = resolve(&env_of(&[("DOCKER_HOST", "ssh://me@remote:22")])).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, EndpointError::Ssh { .. }), "{msg}");
    for needle in [
        "ssh://me@remote:22",
        "from DOCKER_HOST",
        "ssh -nNT -L",
        "me@remote:22",
        "DOCKER_HOST=unix://",
    ] {
        assert!(msg.contains(needle), "{needle} missing: {msg}");
    }
    let c = Cfg::new("{}").context("viassh", &host_ep("ssh://r"));
    let e = resolve(&env_of(&[
        ("DOCKER_CONFIG", &c.path()),
        ("DOCKER_CONTEXT", "viassh"),
    ]))
    .unwrap_err();
    assert!(e.to_string().contains("docker context \"viassh\""), "{e}");
}

#[test]
fn tls_from_the_environment() {
    let certs = Cfg::new("{}").certs(&["ca.pem", "cert.pem", "key.pem"]);
    let cp = certs.path();
    let want_files = TlsFiles {
        ca: certs.file("ca.pem"),
        cert: certs.file("cert.pem"),
        key: certs.file("key.pem"),
    };
    // DOCKER_TLS_VERIFY + DOCKER_CERT_PATH.
    let got = resolve(&env_of(&[
        ("DOCKER_HOST", "tcp://127.0.0.1:2376"),
        ("DOCKER_TLS_VERIFY", "1"),
        ("DOCKER_CERT_PATH", &cp),
    ]))
    .unwrap();
    assert_eq!(
        got,
        Endpoint {
            host: "tcp://127.0.0.1:2376".into(),
            tls: Some(want_files.clone()),
            origin: Origin::DockerHost
        }
    );
    assert_eq!(
        got.to_string(),
        "tcp://127.0.0.1:2376 (from DOCKER_HOST, TLS)"
    );
    // Certificates default to the config dir.
    let got = resolve(&env_of(&[
        ("DOCKER_HOST", "tcp://127.0.0.1:2376"),
        ("DOCKER_TLS_VERIFY", "1"),
        ("DOCKER_CONFIG", &cp),
    ]))
    .unwrap();
    assert_eq!(got.tls, Some(want_files.clone()));
    // TLS without a host: the docker CLI's TLS default.
    let got = resolve(&env_of(&[
        ("DOCKER_TLS_VERIFY", "1"),
        ("DOCKER_CERT_PATH", &cp),
    ]))
    .unwrap();
    assert_eq!(got.host, "tcp://localhost:2376");
    assert_eq!(got.origin, Origin::Default);
    // Empty DOCKER_TLS_VERIFY is unset: plain tcp.
    let got = resolve(&env_of(&[
        ("DOCKER_HOST", "tcp://127.0.0.1:2375"),
        ("DOCKER_TLS_VERIFY", ""),
    ]))
    .unwrap();
    assert_eq!(got.tls, None);
    // TLS settings do not apply to a unix socket.
    let got = resolve(&env_of(&[
        ("DOCKER_HOST", "unix:///run/x.sock"),
        ("DOCKER_TLS_VERIFY", "1"),
    ]))
    .unwrap();
    assert_eq!(got.tls, None);
    // DOCKER_TLS alone would skip verification: refused.
    let e = resolve(&env_of(&[
        ("DOCKER_HOST", "tcp://h:2376"),
        ("DOCKER_TLS", "1"),
    ]))
    .unwrap_err();
    assert!(matches!(e, EndpointError::TlsWithoutVerify { .. }), "{e}");
    assert!(e.to_string().contains("DOCKER_TLS_VERIFY=1"), "{e}");
    // No CA: refused, naming the file.
    let empty = Cfg::new("{}");
    let e = resolve(&env_of(&[
        ("DOCKER_HOST", "tcp://h:2376"),
        ("DOCKER_TLS_VERIFY", "1"),
        ("DOCKER_CERT_PATH", &empty.path()),
    ]))
    .unwrap_err();
    assert!(
        e.to_string()
            .contains(&empty.file("ca.pem").display().to_string()),
        "{e}"
    );
}

#[test]
fn tls_from_a_context() {
    let c = Cfg::new("{}")
        .context("secure", &host_ep("tcp://127.0.0.1:2376"))
        .tls("secure", &["ca.pem", "cert.pem", "key.pem"])
        .context("plain", &host_ep("tcp://127.0.0.1:2375"))
        .context("noca", &host_ep("tcp://127.0.0.1:2376"))
        .tls("noca", &["cert.pem", "key.pem"])
        .context(
            "skip",
            r#"{"Host":"tcp://127.0.0.1:2376","SkipTLSVerify":true}"#,
        );
    let p = c.path();
    let with = |name: &str| resolve(&env_of(&[("DOCKER_CONFIG", &p), ("DOCKER_CONTEXT", name)]));
    let dir = c.tls_dir("secure");
    assert_eq!(
        with("secure").unwrap().tls,
        Some(TlsFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        })
    );
    assert_eq!(with("plain").unwrap().tls, None);
    assert!(matches!(
        with("noca"),
        Err(EndpointError::TlsCaMissing { .. })
    ));
    assert!(matches!(
        with("skip"),
        Err(EndpointError::TlsWithoutVerify { .. })
    ));
    // Environment TLS does not apply to a named context.
    let got = resolve(&env_of(&[
        ("DOCKER_CONFIG", &p),
        ("DOCKER_CONTEXT", "plain"),
        ("DOCKER_TLS_VERIFY", "1"),
    ]))
    .unwrap();
    assert_eq!(got.tls, None);
}

#[test]
fn endpoints_display_their_origin() {
    let e = ok("unix:///var/run/docker.sock", Origin::Default).unwrap();
    assert_eq!(
        e.to_string(),
        "unix:///var/run/docker.sock (the default docker context)"
    );
    let e = ok("tcp://h:1", ctx("remote", ContextFrom::Env)).unwrap();
    assert_eq!(
        e.to_string(),
        "tcp://h:1 (docker context \"remote\" from DOCKER_CONTEXT)"
    );
    let e = ok(
        "tcp://h:1",
        ctx("r", ContextFrom::Config("/c/config.json".into())),
    )
    .unwrap();
    assert_eq!(
        e.to_string(),
        "tcp://h:1 (docker context \"r\", the current context in /c/config.json)"
    );
}

#[test]
fn provider_selection() {
    assert_eq!(select_provider(None), Ok(None));
    assert_eq!(select_provider(Some("")), Ok(None));
    assert_eq!(
        select_provider(Some("docker")),
        Ok(Some(DOCKER_PROVIDER_WARNING))
    );
    assert_eq!(
        DOCKER_PROVIDER_WARNING,
        "using docker due to KIND_EXPERIMENTAL_PROVIDER"
    );
    for p in [
        "podman",
        "nerdctl",
        "finch",
        "nerdctl.lima",
        "Docker",
        "foo",
    ] {
        let e = select_provider(Some(p)).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("KIND_EXPERIMENTAL_PROVIDER={p:?}")),
            "{msg}"
        );
        assert!(msg.contains("Sysbox") && msg.contains("Docker"), "{msg}");
    }
}

#[test]
fn context_digest_is_the_docker_cli_store_name() {
    // `docker context create foo` stores it under sha256("foo").
    assert_eq!(
        context_digest("foo"),
        "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
    );
}
