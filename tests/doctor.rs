//! `kind doctor` against the shared daemon (whose `sysbox-runc` is a
//! plain-runc stand-in: a warning), against nothing (fails fast), against a
//! hung socket, and against a private daemon without Sysbox, where
//! `create cluster` stops with the same message.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::private_dockerd::PrivateDockerd;
use common::silent_socket::SilentSocket;
use common::*;

fn docker_format(format: &str) -> String {
    let out = Command::new("docker")
        .env_remove("DOCKER_CONTEXT")
        .args(["info", "--format", format])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn line<'a>(report: &'a str, name: &str) -> &'a str {
    report
        .lines()
        .find(|l| {
            l.get(6..)
                .is_some_and(|rest| rest.starts_with(&format!("{name}: ")))
        })
        .unwrap_or_else(|| panic!("no {name} line in:\n{report}"))
}

fn read_number(path: &str) -> String {
    std::fs::read_to_string(path).unwrap().trim().to_string()
}

#[test]
fn reports_the_stand_in_runtime_as_a_warning_and_the_rest_truthfully() {
    let home = tempfile::tempdir().unwrap();
    let out = kind_isolated(home.path(), &["doctor"], &[]);
    let report = stdout(&out);
    // Exit 1 exactly when some check failed.
    let failed = report.lines().any(|l| l.starts_with("fail "));
    assert_eq!(
        out.status.code(),
        Some(if failed { 1 } else { 0 }),
        "{report}"
    );
    if failed {
        assert!(stderr(&out).starts_with("ERROR: "), "{}", stderr(&out));
    }

    assert_eq!(
        line(&report, "node provider"),
        "ok    node provider: docker"
    );
    assert_eq!(
        line(&report, "Docker endpoint"),
        "ok    Docker endpoint: unix:///var/run/docker.sock (the default docker context)"
    );
    assert_eq!(
        line(&report, "Docker daemon"),
        format!(
            "ok    Docker daemon: reachable, Docker Engine {}",
            docker_format("{{.ServerVersion}}")
        )
    );
    let runtimes: serde_json::Value =
        serde_json::from_str(&docker_format("{{json .Runtimes}}")).unwrap();
    let path = runtimes["sysbox-runc"]["path"].as_str().unwrap();
    assert!(
        !path.ends_with("/sysbox-runc"),
        "this test expects the CI stand-in, not Sysbox: {path}"
    );
    let sysbox = line(&report, "Sysbox runtime");
    assert!(
        sysbox.starts_with(&format!(
            "warn  Sysbox runtime: \"sysbox-runc\" is registered but its binary is {path}, not Sysbox's sysbox-runc: nodes will run under plain runc, not user-namespaced"
        )),
        "{sysbox}"
    );
    assert!(line(&report, "default runtime").starts_with(&format!(
        "ok    default runtime: {}",
        docker_format("{{.DefaultRuntime}}")
    )));
    // No Sysbox daemons here; with a stand-in runtime that is a warning.
    assert!(
        line(&report, "Sysbox services")
            .starts_with("warn  Sysbox services: sysbox-mgr and sysbox-fs not running"),
        "{report}"
    );
    assert_eq!(
        line(&report, "Docker installation"),
        "ok    Docker installation: rootful, not a snap"
    );
    let kernel = docker_format("{{.KernelVersion}}");
    assert!(
        line(&report, "kernel").starts_with(&format!("ok    kernel: {kernel}: ID-mapped mounts")),
        "{report}"
    );
    let cgroups = if docker_format("{{.CgroupVersion}}") == "2" {
        "ok    cgroups: v2"
    } else {
        "warn  cgroups: v1:"
    };
    assert!(line(&report, "cgroups").starts_with(cgroups), "{report}");
    let instances = read_number("/proc/sys/fs/inotify/max_user_instances");
    let watches = read_number("/proc/sys/fs/inotify/max_user_watches");
    assert!(
        line(&report, "inotify limits").contains(&format!(
            "max_user_instances={instances}, max_user_watches={watches}"
        )),
        "{report}"
    );
    assert!(
        line(&report, "disk space")
            .contains(&format!("under {}", docker_format("{{.DockerRootDir}}"))),
        "{report}"
    );
}

#[test]
fn an_unreachable_daemon_fails_in_under_two_seconds() {
    let home = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = kind_isolated(
        home.path(),
        &["doctor"],
        &[("DOCKER_HOST", "unix:///nonexistent")],
    );
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1));
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let report = stdout(&out);
    assert!(
        line(&report, "Docker daemon").starts_with(
            "fail  Docker daemon: cannot reach the Docker daemon at unix:///nonexistent (from DOCKER_HOST): no socket at /nonexistent"
        ),
        "{report}"
    );
    assert_eq!(
        report.lines().count(),
        4,
        "nothing checked after the daemon:\n{report}"
    );
    assert_eq!(
        stderr(&out),
        "ERROR: 1 of 4 checks failed: this host cannot create kind-sysbox clusters as it is\n"
    );

    // A daemon that accepts and never answers: also under 2 s.
    let silent = SilentSocket::new();
    let host = silent.host();
    let started = Instant::now();
    let out = kind_isolated(home.path(), &["doctor"], &[("DOCKER_HOST", &host)]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1));
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert!(
        line(&stdout(&out), "Docker daemon").contains(&format!(
            "the Docker daemon at {host} (from DOCKER_HOST) accepted the connection but did not answer within 1.5 s"
        )),
        "{}",
        stdout(&out)
    );
}

#[test]
fn refused_provider_fails() {
    let home = tempfile::tempdir().unwrap();
    let out = kind_isolated(
        home.path(),
        &["doctor"],
        &[("KIND_EXPERIMENTAL_PROVIDER", "podman")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        line(&stdout(&out), "node provider").starts_with(
            "fail  node provider: KIND_EXPERIMENTAL_PROVIDER=\"podman\" is not supported"
        ),
        "{}",
        stdout(&out)
    );
}

#[test]
fn without_sysbox_doctor_fails_and_create_stops_with_the_same_message() {
    let d = PrivateDockerd::start();
    let host = d.host();
    let home = tempfile::tempdir().unwrap();
    let out = kind_isolated(home.path(), &["doctor"], &[("DOCKER_HOST", &host)]);
    assert_eq!(out.status.code(), Some(1));
    let report = stdout(&out);
    let fail = line(&report, "Sysbox runtime");
    let message = fail
        .strip_prefix("fail  Sysbox runtime: ")
        .unwrap_or_else(|| panic!("{report}"));
    assert!(
        message.starts_with("Sysbox is not registered with Docker"),
        "{message}"
    );

    let out = kind_isolated(
        home.path(),
        &["create", "cluster", "--name", &unique("doctor")],
        &[("DOCKER_HOST", &host)],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("ERROR: failed to create cluster: {message}\n")
    );
    assert_eq!(d.docker(&["ps", "-aq"]), "", "nothing created");
}
