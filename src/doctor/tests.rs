//! Unit tests of the doctor checks over given host facts.

use super::*;
use crate::provider::endpoint::{Origin, DEFAULT_UNIX_HOST};

fn info(runtimes: &[(&str, &str)]) -> HostInfo {
    HostInfo {
        cgroup2: true,
        runtimes: runtimes
            .iter()
            .map(|(n, p)| (n.to_string(), p.to_string()))
            .collect(),
        default_runtime: "runc".into(),
        server_version: "28.0.1".into(),
        kernel_version: "6.8.0-45-generic".into(),
        docker_root_dir: "/var/lib/docker".into(),
        ..Default::default()
    }
}

fn local() -> LocalFacts {
    LocalFacts {
        kernel_release: Some("6.8.0-45-generic".into()),
        shiftfs: false,
        inotify_instances: Some(8192),
        inotify_watches: Some(1_048_576),
        processes: Some(vec![
            "systemd".into(),
            "dockerd".into(),
            "sysbox-mgr".into(),
            "sysbox-fs".into(),
        ]),
        disk: Some(Disk {
            path: "/var/lib/docker".into(),
            available: 50 << 30,
            total: 100 << 30,
        }),
    }
}

const SYSBOX: &[(&str, &str)] = &[("runc", "runc"), ("sysbox-runc", "/usr/bin/sysbox-runc")];

fn healthy() -> Facts {
    Facts {
        provider_env: None,
        runtime_env: None,
        endpoint: Ok(Endpoint {
            host: DEFAULT_UNIX_HOST.into(),
            tls: None,
            origin: Origin::Default,
        }),
        daemon: Ok(info(SYSBOX)),
        local: Some(local()),
    }
}

fn level_of(checks: &[Check], name: &str) -> Level {
    checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name} in {checks:?}"))
        .level
}

fn text_of(checks: &[Check], name: &str) -> String {
    checks.iter().find(|c| c.name == name).unwrap().text.clone()
}

#[test]
fn a_healthy_sysbox_host_is_all_ok() {
    let report = checks(&healthy());
    assert_eq!(report.len(), 12, "{report:#?}");
    for c in &report {
        assert_eq!(c.level, Level::Ok, "{c}");
    }
    assert!(first_failure(&report).is_none());
    assert_eq!(
        report[2].to_string(),
        "ok    Docker endpoint: unix:///var/run/docker.sock (the default docker context)"
    );
    assert!(text_of(&report, "Docker daemon").contains("28.0.1"));
    assert!(text_of(&report, "Sysbox runtime").contains("/usr/bin/sysbox-runc"));
}

#[test]
fn stand_in_runtime_is_a_warning() {
    let mut f = healthy();
    f.daemon = Ok(info(&[("runc", "runc"), ("sysbox-runc", "/usr/sbin/runc")]));
    f.local.as_mut().unwrap().processes = Some(vec!["dockerd".into()]);
    let report = checks(&f);
    assert_eq!(level_of(&report, "Sysbox runtime"), Level::Warn);
    let t = text_of(&report, "Sysbox runtime");
    assert!(
        t.contains("/usr/sbin/runc") && t.contains("not user-namespaced"),
        "{t}"
    );
    // Services are irrelevant to a stand-in: a warning, not a failure.
    assert_eq!(level_of(&report, "Sysbox services"), Level::Warn);
    assert!(first_failure(&report).is_none());
}

#[test]
fn failures_stop_create_with_the_runtime_messages() {
    let mut f = healthy();
    f.daemon = Ok(info(&[("runc", "runc")]));
    let report = checks(&f);
    assert_eq!(
        first_failure(&report).unwrap().text,
        RuntimeError::SysboxNotRegistered.to_string()
    );

    let mut f = healthy();
    let mut i = info(SYSBOX);
    i.rootless = true;
    f.daemon = Ok(i);
    assert_eq!(
        first_failure(&checks(&f)).unwrap().text,
        RuntimeError::RootlessDaemon.to_string()
    );

    let mut f = healthy();
    f.runtime_env = Some("crun".into());
    assert_eq!(
        first_failure(&checks(&f)).unwrap().text,
        RuntimeError::InvalidEnv("crun".into()).to_string()
    );

    let mut f = healthy();
    f.provider_env = Some("podman".into());
    let first = first_failure(&checks(&f)).unwrap().clone();
    assert_eq!(first.name, "node provider");
    assert!(first.text.contains("KIND_EXPERIMENTAL_PROVIDER=\"podman\""));
}

#[test]
fn runc_mode_needs_no_sysbox() {
    let mut f = healthy();
    f.runtime_env = Some("runc".into());
    let mut i = info(&[("runc", "runc")]);
    i.rootless = true;
    f.daemon = Ok(i);
    f.local.as_mut().unwrap().processes = Some(vec!["dockerd".into()]);
    let report = checks(&f);
    assert_eq!(level_of(&report, "runtime mode"), Level::Warn);
    assert!(first_failure(&report).is_none(), "{report:#?}");
}

#[test]
fn unreachable_daemon_fails_and_stops() {
    let mut f = healthy();
    f.daemon = Err("cannot reach the Docker daemon at unix:///x".into());
    let report = checks(&f);
    assert_eq!(report.len(), 4);
    assert_eq!(report[3].level, Level::Fail);
    assert!(report[3]
        .to_string()
        .starts_with("fail  Docker daemon: cannot reach"));

    let mut f = healthy();
    f.endpoint = Err("docker context \"x\" does not exist".into());
    let report = checks(&f);
    assert_eq!(report.len(), 3);
    assert_eq!(level_of(&report, "Docker endpoint"), Level::Fail);
}

#[test]
fn sysbox_services_table() {
    let procs = |p: &[&str]| {
        let mut f = healthy();
        f.local.as_mut().unwrap().processes = Some(p.iter().map(|s| s.to_string()).collect());
        let report = checks(&f);
        (
            level_of(&report, "Sysbox services"),
            text_of(&report, "Sysbox services"),
        )
    };
    assert_eq!(procs(&["dockerd", "sysbox-mgr", "sysbox-fs"]).0, Level::Ok);
    let (level, text) = procs(&["dockerd", "sysbox-mgr"]);
    assert_eq!(level, Level::Fail);
    assert!(
        text.starts_with("sysbox-fs not running") && text.contains("systemctl"),
        "{text}"
    );
    let (level, text) = procs(&["dockerd"]);
    assert_eq!(level, Level::Fail);
    assert!(
        text.starts_with("sysbox-mgr and sysbox-fs not running"),
        "{text}"
    );
    // dockerd invisible (another PID namespace): not detectable, not a failure.
    assert_eq!(procs(&["bash"]).0, Level::Warn);
    let mut f = healthy();
    f.local = None;
    assert_eq!(level_of(&checks(&f), "Sysbox services"), Level::Warn);
}

#[test]
fn snap_docker() {
    let mut f = healthy();
    let mut i = info(SYSBOX);
    i.docker_root_dir = "/var/snap/docker/common/var-lib-docker".into();
    f.daemon = Ok(i.clone());
    let c = first_failure(&checks(&f)).unwrap().clone();
    assert_eq!(c.name, "Docker installation");
    assert!(c.text.contains("snap"), "{}", c.text);
    f.runtime_env = Some("runc".into());
    assert_eq!(level_of(&checks(&f), "Docker installation"), Level::Warn);
}

#[test]
fn kernel_table() {
    assert_eq!(kernel_version("6.8.0-45-generic"), Some((6, 8)));
    assert_eq!(kernel_version("5.12.0"), Some((5, 12)));
    assert_eq!(kernel_version("4.19.0-21-amd64"), Some((4, 19)));
    assert_eq!(kernel_version("6.18.44-fc-v657"), Some((6, 18)));
    assert_eq!(kernel_version("weird"), None);
    let case = |release: &str, shiftfs: bool, runtime_env: Option<&str>| {
        let mut f = healthy();
        let mut i = info(SYSBOX);
        i.kernel_version = release.into();
        f.daemon = Ok(i);
        f.local.as_mut().unwrap().shiftfs = shiftfs;
        f.runtime_env = runtime_env.map(String::from);
        level_of(&checks(&f), "kernel")
    };
    assert_eq!(case("5.12.0", false, None), Level::Ok);
    assert_eq!(case("5.11.9", false, None), Level::Warn);
    assert_eq!(case("5.4.0-100-generic", true, None), Level::Ok);
    assert_eq!(case("5.4.0", false, Some("runc")), Level::Ok);
    assert_eq!(
        case("", false, None),
        Level::Ok,
        "falls back to the local release"
    );
    let mut f = healthy();
    let mut i = info(SYSBOX);
    i.kernel_version = String::new();
    f.daemon = Ok(i);
    f.local = None;
    assert_eq!(level_of(&checks(&f), "kernel"), Level::Warn);
}

#[test]
fn cgroup_inotify_and_disk() {
    let mut f = healthy();
    let mut i = info(SYSBOX);
    i.cgroup2 = false;
    f.daemon = Ok(i);
    let l = f.local.as_mut().unwrap();
    l.inotify_instances = Some(128);
    let report = checks(&f);
    assert_eq!(level_of(&report, "cgroups"), Level::Warn);
    assert_eq!(level_of(&report, "inotify limits"), Level::Warn);
    assert!(text_of(&report, "inotify limits").contains("fs.inotify.max_user_instances=512"));

    let disk = |available_gib: u64| {
        let mut f = healthy();
        f.local.as_mut().unwrap().disk = Some(Disk {
            path: "/var/lib/docker".into(),
            available: available_gib << 30,
            total: 100 << 30,
        });
        let report = checks(&f);
        (
            level_of(&report, "disk space"),
            text_of(&report, "disk space"),
        )
    };
    // Percentages do not matter (kind turns disk eviction off): 5% of a
    // large disk is plenty.
    assert_eq!(disk(10).0, Level::Ok);
    assert_eq!(disk(9).0, Level::Warn);
    assert_eq!(disk(2).0, Level::Warn);
    let (level, text) = disk(1);
    assert_eq!(level, Level::Fail);
    assert!(
        text.contains("1.0 GiB free of 100.0 GiB") && text.contains("writable layers"),
        "{text}"
    );
    let mut f = healthy();
    f.local = None;
    let report = checks(&f);
    assert_eq!(level_of(&report, "disk space"), Level::Warn);
    assert_eq!(level_of(&report, "inotify limits"), Level::Warn);
}
