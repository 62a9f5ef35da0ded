//! The fixture build's Debian mirror (tests/fixtures/node-image/apt-mirror.sh)
//! comes from apt's configuration only: its parser, run on fake apt
//! directories, in isolation from the build (no image is touched).

mod common;

use std::path::Path;
use std::process::Command;

/// `apt_debian_mirror <dir>`: (exit code, stdout, stderr).
fn mirror(etc: &Path) -> (i32, String, String) {
    let script = common::repo_root().join("tests/fixtures/node-image/apt-mirror.sh");
    let out = Command::new("bash")
        .arg("-c")
        .arg(r#". "$1" && apt_debian_mirror "$2""#)
        .arg("bash")
        .arg(&script)
        .arg(etc)
        .output()
        .expect("run bash");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A fake /etc/apt with these files (paths relative to it).
fn apt_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sources.list.d")).unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    dir
}

fn found(files: &[(&str, &str)]) -> String {
    let dir = apt_dir(files);
    let (code, out, err) = mirror(dir.path());
    assert_eq!(code, 0, "{files:?}: {err}");
    assert!(err.is_empty(), "{err}");
    out.trim_end().to_string()
}

const DEBIAN_SOURCES: &str = "Types: deb\n# http://snapshot.debian.org/archive/debian/20250520T000000Z\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\n";

#[test]
fn deb822_sources_as_debian_ships_them() {
    assert_eq!(
        found(&[("sources.list.d/debian.sources", DEBIAN_SOURCES)]),
        "http://deb.debian.org/debian"
    );
}

#[test]
fn deb822_skips_security_disabled_source_only_and_odd_uris() {
    let sources = "# a comment\nTypes: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\nComponents: main\n\n\
                   Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\nComponents: main\n\n\
                   Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nComponents: main\nEnabled: no\n\n\
                   types: deb deb-src\nuris: cdrom:[Debian]/\n  http://mirror.example/debian\nsuites:\n  bookworm\ncomponents: main\n";
    assert_eq!(
        found(&[("sources.list.d/debian.sources", sources)]),
        "http://mirror.example/debian",
        "continuation lines, lower-case field names, the first usable URI"
    );
}

#[test]
fn one_line_sources_with_options_and_comments() {
    let list = "# deb http://commented.example/debian bookworm main\n\
                deb-src http://src.example/debian bookworm main\n\
                deb http://security.debian.org/debian-security bookworm-security main\n\
                deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] https://mirror.example/debian bookworm main # trailing\n";
    assert_eq!(
        found(&[("sources.list", list)]),
        "https://mirror.example/debian"
    );
}

#[test]
fn apts_order_sources_list_first_then_the_directory_by_name() {
    let stanza =
        |uri: &str| format!("Types: deb\nURIs: {uri}\nSuites: bookworm\nComponents: main\n");
    let line = |uri: &str| format!("deb {uri} bookworm main\n");
    assert_eq!(
        found(&[
            ("sources.list", &line("http://first.example/debian")),
            (
                "sources.list.d/a.sources",
                &stanza("http://a.example/debian")
            ),
        ]),
        "http://first.example/debian"
    );
    assert_eq!(
        found(&[
            ("sources.list.d/b.list", &line("http://b.example/debian")),
            (
                "sources.list.d/a.sources",
                &stanza("http://a.example/debian")
            ),
        ]),
        "http://a.example/debian"
    );
    // Only *.list and *.sources count, as for apt.
    assert_eq!(
        found(&[
            (
                "sources.list.d/a.sources.disabled-by-farm",
                &stanza("http://disabled.example/debian"),
            ),
            ("sources.list.d/z.list", &line("http://z.example/debian")),
        ]),
        "http://z.example/debian"
    );
}

#[test]
fn no_mirror_fails_saying_what_was_read_and_what_to_add() {
    let empty = apt_dir(&[]);
    let (code, out, err) = mirror(empty.path());
    assert_eq!(code, 1);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.starts_with("no Debian mirror in apt's configuration (none of "),
        "{err}"
    );
    assert!(
        err.contains("Types: deb") && err.contains("URIs: http://<mirror>/debian"),
        "{err}"
    );

    let only_security = apt_dir(&[(
        "sources.list.d/debian.sources",
        "Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\n",
    )]);
    let (code, out, err) = mirror(only_security.path());
    assert_eq!(code, 1);
    assert!(out.is_empty(), "{out}");
    let file = only_security.path().join("sources.list.d/debian.sources");
    assert!(
        err.starts_with(&format!(
            "no Debian mirror in apt's configuration (read {}): no enabled \"deb\" source",
            file.display()
        )),
        "{err}"
    );
}

#[test]
fn the_build_takes_its_mirror_from_apt_only() {
    let build =
        std::fs::read_to_string(common::repo_root().join("tests/fixtures/node-image/build.sh"))
            .unwrap();
    assert!(
        !build.contains("deb.debian.org"),
        "no hard-coded mirror host in build.sh"
    );
    assert!(build.contains("mirror=$(apt_debian_mirror /etc/apt) || die"));
}
