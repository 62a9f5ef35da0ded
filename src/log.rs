//! The kind logger: everything but program output goes to stderr, as
//! upstream (spec §1.1). Status lines (` • … ...` / ` ✓ …` / ` ✗ …`) become
//! a spinner on a smart terminal; `-q` discards stderr entirely; `-v N`
//! enables `DEBUG:` lines up to level N.

use std::io::{IsTerminal, Write};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

const SPINNER_FRAMES: [&str; 15] = [
    "⠈⠁", "⠈⠑", "⠈⠱", "⠈⡱", "⢀⡱", "⢄⡱", "⢄⡱", "⢆⡱", "⢎⡱", "⢎⡰", "⢎⡠", "⢎⡀", "⢎⠁", "⠎⠁", "⠊⠁",
];

/// Where log output goes; a buffer in tests.
pub trait Sink: Send {
    fn write_all(&mut self, bytes: &[u8]);
}

struct Stderr;

impl Sink for Stderr {
    fn write_all(&mut self, bytes: &[u8]) {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(bytes);
        let _ = err.flush();
    }
}

/// A shared in-memory sink, for tests.
#[derive(Clone, Default)]
pub struct Buffer(pub Arc<Mutex<Vec<u8>>>);

impl Buffer {
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Sink for Buffer {
    fn write_all(&mut self, bytes: &[u8]) {
        self.0.lock().unwrap().extend_from_slice(bytes);
    }
}

struct Spinner {
    /// Dropping it wakes the spinner thread at once (no sleep to wait out).
    stop: std::sync::mpsc::Sender<()>,
    handle: JoinHandle<()>,
}

struct State {
    sink: Box<dyn Sink>,
    /// The active status text, if any.
    status: Option<String>,
    spinner: Option<Spinner>,
}

/// Cheap to clone; all clones share one output and one status line.
#[derive(Clone)]
pub struct Logger {
    quiet: bool,
    verbosity: i32,
    smart: bool,
    state: Arc<Mutex<State>>,
}

/// Upstream's smart-terminal rule (spec §1.1), given stderr's TTY-ness and
/// an environment lookup.
pub fn is_smart_terminal(is_tty: bool, env: &dyn Fn(&str) -> Option<String>) -> bool {
    if !is_tty || env("NO_COLOR").is_some() {
        return false;
    }
    if matches!(env("TERM").as_deref(), Some("dumb") | Some("st-256color")) {
        return false;
    }
    !(env("HAS_JOSH_K_SEAL_OF_APPROVAL").as_deref() == Some("true")
        && env("TRAVIS").as_deref() == Some("true"))
}

impl Logger {
    /// The process logger on stderr.
    pub fn stderr(quiet: bool, verbosity: i32) -> Logger {
        let smart = is_smart_terminal(std::io::stderr().is_terminal(), &|k| std::env::var(k).ok());
        Logger::new(Box::new(Stderr), quiet, verbosity, smart)
    }

    pub fn new(sink: Box<dyn Sink>, quiet: bool, verbosity: i32, smart: bool) -> Logger {
        Logger {
            quiet,
            verbosity,
            smart,
            state: Arc::new(Mutex::new(State {
                sink,
                status: None,
                spinner: None,
            })),
        }
    }

    pub fn verbosity(&self) -> i32 {
        self.verbosity
    }

    /// Whether V(0) lines show: upstream compares levels, so a negative
    /// `-v` hides them (warnings and errors still show).
    fn v0(&self) -> bool {
        self.verbosity >= 0
    }

    /// A V(0) line.
    pub fn info(&self, msg: &str) {
        if self.v0() {
            self.line(msg);
        }
    }

    pub fn warn(&self, msg: &str) {
        self.line(msg);
    }

    /// A V(level) line with the debug header; shown when `-v >= level`.
    pub fn debug(&self, level: i32, msg: &str) {
        if level <= 0 {
            if self.v0() {
                self.line(msg);
            }
        } else if self.verbosity >= level {
            self.line(&format!("DEBUG: {msg}"));
        }
    }

    /// The final `ERROR: …` report, with the failed command's output if any.
    pub fn error(&self, msg: &str, command_output: Option<&str>) {
        if self.smart {
            self.line(&format!("\x1b[31mERROR\x1b[0m: {msg}"));
            if let Some(out) = command_output {
                self.line(&format!("\x1b[31mCommand Output\x1b[0m: {out}"));
            }
        } else {
            self.line(&format!("ERROR: {msg}"));
            if let Some(out) = command_output {
                self.line(&format!("\nCommand Output: {out}"));
            }
        }
    }

    fn line(&self, msg: &str) {
        if self.quiet {
            return;
        }
        let mut st = self.state.lock().unwrap();
        let mut out = String::new();
        if st.spinner.is_some() {
            out.push('\r');
        }
        out.push_str(msg);
        if !msg.ends_with('\n') {
            out.push('\n');
        }
        st.sink.write_all(out.as_bytes());
    }

    /// Begin a status step; a previous active step ends as success.
    pub fn status_start(&self, text: &str) {
        self.status_end(true);
        if self.quiet {
            return;
        }
        let mut st = self.state.lock().unwrap();
        st.status = Some(text.to_string());
        if self.smart {
            let (stop, stopped) = std::sync::mpsc::channel::<()>();
            let (state, suffix) = (self.state.clone(), format!(" {text} "));
            let handle = std::thread::spawn(move || {
                for frame in SPINNER_FRAMES.iter().cycle() {
                    let line = format!("\x1b[?7l\r {frame}{suffix}\x1b[?7h");
                    state.lock().unwrap().sink.write_all(line.as_bytes());
                    if stopped.recv_timeout(Duration::from_millis(100))
                        != Err(RecvTimeoutError::Timeout)
                    {
                        return;
                    }
                }
            });
            st.spinner = Some(Spinner { stop, handle });
        } else if self.v0() {
            let line = format!(" • {text}  ...\n");
            st.sink.write_all(line.as_bytes());
        }
    }

    /// End the active step with ✓ or ✗; a no-op when none is active.
    pub fn status_end(&self, ok: bool) {
        let mut st = self.state.lock().unwrap();
        let Some(text) = st.status.take() else { return };
        if let Some(sp) = st.spinner.take() {
            drop(sp.stop);
            drop(st);
            let _ = sp.handle.join();
            st = self.state.lock().unwrap();
            st.sink.write_all(b"\r");
        }
        let mark = match (ok, self.smart) {
            (true, false) => "✓".to_string(),
            (false, false) => "✗".to_string(),
            (true, true) => "\x1b[32m✓\x1b[0m".to_string(),
            (false, true) => "\x1b[31m✗\x1b[0m".to_string(),
        };
        if self.v0() {
            let line = format!(" {mark} {text}\n");
            st.sink.write_all(line.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(quiet: bool, v: i32) -> (Logger, Buffer) {
        let buf = Buffer::default();
        (Logger::new(Box::new(buf.clone()), quiet, v, false), buf)
    }

    #[test]
    fn negative_verbosity_hides_v0_lines_only() {
        let (log, buf) = plain(false, -1);
        log.info("info");
        log.status_start("step");
        log.status_end(true);
        log.warn("warning");
        log.error("failed", None);
        assert_eq!(buf.contents(), "warning\nERROR: failed\n");
    }

    #[test]
    fn plain_status_lines_match_upstream() {
        let (log, buf) = plain(false, 0);
        log.status_start("Preparing nodes 📦 ");
        log.status_start("Writing configuration 📜");
        log.status_end(false);
        log.status_end(true); // nothing active: no-op
        assert_eq!(
            buf.contents(),
            " • Preparing nodes 📦   ...\n ✓ Preparing nodes 📦 \n • Writing configuration 📜  ...\n ✗ Writing configuration 📜\n"
        );
    }

    #[test]
    fn quiet_discards_everything() {
        let (log, buf) = plain(true, 9);
        log.info("x");
        log.status_start("y");
        log.status_end(true);
        log.error("z", Some("out"));
        assert_eq!(buf.contents(), "");
    }

    #[test]
    fn debug_lines_need_verbosity() {
        let (log, buf) = plain(false, 1);
        log.debug(1, "one");
        log.debug(2, "two");
        assert_eq!(buf.contents(), "DEBUG: one\n");
    }

    #[test]
    fn error_with_command_output_has_blank_line_when_plain() {
        let (log, buf) = plain(false, 0);
        log.error("failed to create cluster: boom", Some("the output"));
        assert_eq!(
            buf.contents(),
            "ERROR: failed to create cluster: boom\n\nCommand Output: the output\n"
        );
    }

    #[test]
    fn lines_already_ending_in_newline_are_not_doubled() {
        let (log, buf) = plain(false, 0);
        log.info("a\n");
        assert_eq!(buf.contents(), "a\n");
    }

    #[test]
    fn smart_terminal_rules() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(is_smart_terminal(true, &env(&[("TERM", "xterm")])));
        assert!(!is_smart_terminal(false, &env(&[])));
        assert!(!is_smart_terminal(true, &env(&[("NO_COLOR", "")])));
        assert!(!is_smart_terminal(true, &env(&[("TERM", "dumb")])));
        assert!(!is_smart_terminal(true, &env(&[("TERM", "st-256color")])));
        assert!(!is_smart_terminal(
            true,
            &env(&[("HAS_JOSH_K_SEAL_OF_APPROVAL", "true"), ("TRAVIS", "true")])
        ));
        assert!(is_smart_terminal(true, &env(&[("TRAVIS", "true")])));
    }

    #[test]
    fn smart_status_spins_then_marks_in_colour() {
        let buf = Buffer::default();
        let log = Logger::new(Box::new(buf.clone()), false, 0, true);
        log.status_start("Writing configuration 📜");
        std::thread::sleep(Duration::from_millis(250));
        log.status_end(true);
        let out = buf.contents();
        assert!(
            out.starts_with("\x1b[?7l\r ⠈⠁ Writing configuration 📜 \x1b[?7h"),
            "{out:?}"
        );
        assert!(
            out.ends_with("\r \x1b[32m✓\x1b[0m Writing configuration 📜\n"),
            "{out:?}"
        );
    }
}
