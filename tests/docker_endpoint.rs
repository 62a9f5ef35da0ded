//! Which Docker daemon `kind` talks to, by the docker CLI's rules: a private
//! dockerd serving TLS on 127.0.0.1:2376 inside its own network namespace
//! (certificates made here with openssl) and on a unix socket, reached via
//! DOCKER_HOST + DOCKER_TLS_VERIFY, via DOCKER_CONTEXT, and via the current
//! context in a temp DOCKER_CONFIG; an empty DOCKER_HOST; a socket that
//! accepts and never answers; KIND_EXPERIMENTAL_PROVIDER.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::private_dockerd::PrivateDockerd;
use common::silent_socket::SilentSocket;
use common::*;

const TLS_HOST: &str = "tcp://127.0.0.1:2376";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl {args:?}: {out:?}");
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, as
/// `dockerd --tlsverify` and the docker CLI expect them (ca.pem, cert.pem,
/// key.pem for the client).
struct Certs {
    dir: tempfile::TempDir,
}

impl Certs {
    fn make() -> Certs {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
        let mut ca = vec![
            "req",
            "-x509",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=kind-endpoint-test-ca",
        ];
        ca.extend(ec);
        ca.extend(["-keyout", "ca-key.pem", "-out", "ca.pem"]);
        openssl(d, &ca);
        for (name, cn, ext) in [
            (
                "server",
                "127.0.0.1",
                "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
            ),
            ("client", "kind-client", "extendedKeyUsage=clientAuth\n"),
        ] {
            let mut req = vec!["req", "-nodes", "-subj"];
            let subj = format!("/CN={cn}");
            let key = format!("{name}-key.pem");
            let csr = format!("{name}.csr");
            let cert = format!("{name}-cert.pem");
            let extfile = format!("{name}.ext");
            std::fs::write(d.join(&extfile), ext).unwrap();
            req.push(&subj);
            req.extend(ec);
            req.extend(["-keyout", &key, "-out", &csr]);
            openssl(d, &req);
            openssl(
                d,
                &[
                    "x509",
                    "-req",
                    "-days",
                    "2",
                    "-in",
                    &csr,
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca-key.pem",
                    "-CAcreateserial",
                    "-extfile",
                    &extfile,
                    "-out",
                    &cert,
                ],
            );
        }
        Certs { dir }
    }

    fn path(&self, f: &str) -> PathBuf {
        self.dir.path().join(f)
    }

    /// The client's files under the docker CLI's names in `dest`.
    fn client_into(&self, dest: &Path) {
        std::fs::create_dir_all(dest).unwrap();
        for (from, to) in [
            ("ca.pem", "ca.pem"),
            ("client-cert.pem", "cert.pem"),
            ("client-key.pem", "key.pem"),
        ] {
            std::fs::copy(self.path(from), dest.join(to)).unwrap();
        }
    }
}

fn digest(name: &str) -> String {
    kind_sysbox::provider::endpoint::context_digest(name)
}

/// A docker CLI config dir with contexts, as `docker context create` leaves it.
fn add_context(config: &Path, name: &str, host: &str) {
    let meta = config.join("contexts/meta").join(digest(name));
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("meta.json"),
        format!(
            r#"{{"Name":"{name}","Metadata":{{"Description":""}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#
        ),
    )
    .unwrap();
}

fn listed(out: &Output, cluster: &str) -> bool {
    stdout(out).lines().any(|l| l == cluster)
}

#[test]
fn tls_daemon_and_contexts() {
    let certs = Certs::make();
    let s = |f: &str| certs.path(f).display().to_string();
    let d = PrivateDockerd::start_with(&[
        "--host".into(),
        TLS_HOST.into(),
        "--tlsverify".into(),
        format!("--tlscacert={}", s("ca.pem")),
        format!("--tlscert={}", s("server-cert.pem")),
        format!("--tlskey={}", s("server-key.pem")),
    ]);
    let cluster = unique("endpoint");
    d.fake_cluster(&cluster);
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let client = h.join("client-certs");
    certs.client_into(&client);
    let client_s = client.display().to_string();
    let in_ns = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = d.in_netns(Path::new(kind_bin()));
        cmd.args(args);
        run_isolated(cmd, h, env)
    };

    // DOCKER_HOST + DOCKER_TLS_VERIFY + DOCKER_CERT_PATH.
    let out = in_ns(
        &["get", "clusters"],
        &[
            ("DOCKER_HOST", TLS_HOST),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", &client_s),
        ],
    );
    assert_ok(&out);
    assert!(listed(&out, &cluster), "{}", stdout(&out));

    // Certificates default to $DOCKER_CONFIG.
    let out = in_ns(
        &["get", "clusters"],
        &[
            ("DOCKER_HOST", TLS_HOST),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CONFIG", &client_s),
        ],
    );
    assert_ok(&out);
    assert!(listed(&out, &cluster));

    // Plain HTTP to the TLS port: fails, naming the endpoint, bounded.
    let started = Instant::now();
    let out = in_ns(&["get", "clusters"], &[("DOCKER_HOST", TLS_HOST)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(
        err,
        "ERROR: cannot reach the Docker daemon at tcp://127.0.0.1:2376 (from DOCKER_HOST): Error response from daemon: Client sent an HTTP request to an HTTPS server. The daemon expects TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to a directory with ca.pem, cert.pem and key.pem\n"
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    // A CA that did not sign the daemon's certificate: our words, not hyper's.
    let other = Certs::make();
    let wrong = h.join("wrong-ca");
    certs.client_into(&wrong);
    std::fs::copy(other.path("ca.pem"), wrong.join("ca.pem")).unwrap();
    let out = in_ns(
        &["get", "clusters"],
        &[
            ("DOCKER_HOST", TLS_HOST),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", &wrong.display().to_string()),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("ERROR: cannot reach the Docker daemon at tcp://127.0.0.1:2376 (from DOCKER_HOST, TLS): "),
        "{err}"
    );
    assert!(!err.contains("hyper"), "{err}");
    assert!(
        err.contains("invalid peer certificate") && err.contains("Check that ca.pem is the CA"),
        "{err}"
    );

    // Contexts in a temp DOCKER_CONFIG: one on the private unix socket, one
    // on its TLS port with the client's files in the context's TLS store.
    let config = h.join("docker-config");
    std::fs::create_dir_all(&config).unwrap();
    add_context(&config, "private", &d.host());
    add_context(&config, "private-tls", TLS_HOST);
    certs.client_into(
        &config
            .join("contexts/tls")
            .join(digest("private-tls"))
            .join("docker"),
    );
    let config_s = config.display().to_string();

    // DOCKER_CONTEXT.
    let out = kind_isolated(
        h,
        &["get", "clusters"],
        &[("DOCKER_CONFIG", &config_s), ("DOCKER_CONTEXT", "private")],
    );
    assert_ok(&out);
    assert!(listed(&out, &cluster), "{}", stdout(&out));
    let out = in_ns(
        &["get", "clusters"],
        &[
            ("DOCKER_CONFIG", &config_s),
            ("DOCKER_CONTEXT", "private-tls"),
        ],
    );
    assert_ok(&out);
    assert!(listed(&out, &cluster), "{}", stdout(&out));

    // The config's current context, and an empty DOCKER_HOST does not hide it.
    std::fs::write(
        config.join("config.json"),
        r#"{"currentContext":"private"}"#,
    )
    .unwrap();
    for env in [
        vec![("DOCKER_CONFIG", config_s.as_str())],
        vec![("DOCKER_CONFIG", config_s.as_str()), ("DOCKER_HOST", "")],
        vec![("DOCKER_CONFIG", config_s.as_str()), ("DOCKER_CONTEXT", "")],
    ] {
        let out = kind_isolated(h, &["get", "clusters"], &env);
        assert_ok(&out);
        assert!(listed(&out, &cluster), "{env:?}: {}", stdout(&out));
    }
    // ~/.docker is the default config dir.
    std::fs::create_dir_all(h.join(".docker")).unwrap();
    let out = Command::new("cp")
        .arg("-r")
        .arg(format!("{}/.", config.display()))
        .arg(h.join(".docker"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = kind_isolated(h, &["get", "clusters"], &[]);
    assert_ok(&out);
    assert!(listed(&out, &cluster), "{}", stdout(&out));

    // DOCKER_CONTEXT beats the config; DOCKER_HOST beats both.
    let out = kind_isolated(
        h,
        &["get", "clusters"],
        &[("DOCKER_CONFIG", &config_s), ("DOCKER_CONTEXT", "default")],
    );
    assert_ok(&out);
    assert!(
        !listed(&out, &cluster),
        "the default context is the main daemon"
    );
    let out = kind_isolated(
        h,
        &["get", "clusters"],
        &[
            ("DOCKER_CONFIG", &config_s),
            ("DOCKER_CONTEXT", "private"),
            ("DOCKER_HOST", "unix:///var/run/docker.sock"),
        ],
    );
    assert_ok(&out);
    assert!(!listed(&out, &cluster), "DOCKER_HOST wins");

    // A context that does not exist is an error naming it.
    let out = kind_isolated(
        h,
        &["get", "clusters"],
        &[
            ("DOCKER_CONFIG", &config_s),
            ("DOCKER_CONTEXT", "no-such-context"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "ERROR: docker context \"no-such-context\" (from DOCKER_CONTEXT) does not exist"
        ),
        "{err}"
    );
}

#[test]
fn empty_docker_host_means_unset() {
    let home = tempfile::tempdir().unwrap();
    let out = kind_isolated(home.path(), &["get", "clusters"], &[("DOCKER_HOST", "")]);
    assert_ok(&out);
    let err = stderr(&out);
    assert!(!err.contains("scheme"), "{err}");
}

#[test]
fn unreachable_endpoints_are_named() {
    let home = tempfile::tempdir().unwrap();
    let out = kind_isolated(
        home.path(),
        &["get", "clusters"],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "ERROR: cannot reach the Docker daemon at unix:///nonexistent/docker.sock (from DOCKER_HOST): no socket at /nonexistent/docker.sock. Is dockerd running there? (`kind doctor` checks this host)\n"
    );
    let out = kind_isolated(
        home.path(),
        &["get", "clusters"],
        &[("DOCKER_HOST", "ssh://me@remote")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("uses ssh://, which kind-sysbox does not support"),
        "{}",
        stderr(&out)
    );
    let out = kind_isolated(
        home.path(),
        &["get", "clusters"],
        &[("DOCKER_HOST", "http://x:1")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("ERROR: invalid Docker endpoint \"http://x:1\" (from DOCKER_HOST): unsupported scheme \"http\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_silent_daemon_fails_within_seconds() {
    let silent = SilentSocket::new();
    let host = silent.host();
    let home = tempfile::tempdir().unwrap();
    let name = unique("silent");
    for args in [
        vec!["get", "clusters"],
        vec!["get", "nodes"],
        vec!["create", "cluster", "--name", &name],
        vec!["delete", "cluster", "--name", &name],
    ] {
        let started = Instant::now();
        let out = kind_isolated(home.path(), &args, &[("DOCKER_HOST", &host)]);
        let took = started.elapsed();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(took < Duration::from_secs(8), "{args:?} took {took:?}");
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "the Docker daemon at {host} (from DOCKER_HOST) accepted the connection but did not answer within 5 s"
            )),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn experimental_provider() {
    let home = tempfile::tempdir().unwrap();
    let out = kind_isolated(
        home.path(),
        &["get", "clusters"],
        &[("KIND_EXPERIMENTAL_PROVIDER", "docker")],
    );
    assert_ok(&out);
    assert!(
        stderr(&out).starts_with("using docker due to KIND_EXPERIMENTAL_PROVIDER\n"),
        "{}",
        stderr(&out)
    );
    let out = kind_isolated(
        home.path(),
        &["get", "clusters"],
        &[("KIND_EXPERIMENTAL_PROVIDER", "")],
    );
    assert_ok(&out);
    assert!(!stderr(&out).contains("KIND_EXPERIMENTAL_PROVIDER"));
    let name = unique("provider");
    for provider in ["podman", "nerdctl", "finch", "nerdctl.lima", "bogus"] {
        for runtime in ["", "runc"] {
            for args in [
                vec!["get", "clusters"],
                vec!["create", "cluster", "--name", &name],
            ] {
                let out = kind_isolated(
                    home.path(),
                    &args,
                    &[
                        ("KIND_EXPERIMENTAL_PROVIDER", provider),
                        ("KIND_EXPERIMENTAL_RUNTIME", runtime),
                    ],
                );
                assert_eq!(out.status.code(), Some(1), "{provider} {args:?}");
                let err = stderr(&out);
                assert!(
                    err.contains(&format!(
                        "KIND_EXPERIMENTAL_PROVIDER=\"{provider}\" is not supported by kind-sysbox"
                    )) && err.contains("Sysbox is a runtime of the Docker engine"),
                    "{provider} {args:?}: {err}"
                );
            }
        }
    }
    assert!(cluster_containers(&name).is_empty(), "nothing created");
}
