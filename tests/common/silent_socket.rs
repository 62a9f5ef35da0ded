//! A unix socket that accepts connections and never answers: a hung daemon.

use std::path::PathBuf;

/// A unix socket that accepts connections and never answers.
pub struct SilentSocket {
    _dir: tempfile::TempDir,
    path: PathBuf,
    _listener: std::os::unix::net::UnixListener,
}

impl SilentSocket {
    pub fn new() -> SilentSocket {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("silent.sock");
        // The backlog accepts connections without anyone calling accept().
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        SilentSocket {
            _dir: dir,
            path,
            _listener: listener,
        }
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.path.display())
    }
}
