//! Layer digests remembered between loads (issue 8: a reload should cost
//! little more than the `docker save` it cannot avoid).
//!
//! Docker ≤ 24 names a saved layer `<v1-id>/layer.tar`, so its digest is only
//! known once its bytes are hashed, and a layer a node may lack has to be
//! kept (spooled) until then. v1 IDs are content-addressed (a layer and
//! everything under it), so the same path always holds the same layer: a
//! digest learned once is a hint for every later load of any image built on
//! it. A hint is never trusted alone: the converter checks each against the
//! image config's diff IDs before anything it wrote is complete
//! (`images::oci`), and a load whose conversion fails forgets them all.
//!
//! The file is a cache: one `<path> <digest>` line each, newest first, at
//! most [`LIMIT`] lines, in `$XDG_CACHE_HOME/kind-sysbox/` (else
//! `~/.cache/kind-sysbox/`). Unreadable means empty; a failed write loses
//! only speed; concurrent loads may drop each other's lines, never corrupt
//! the file (written to a temporary file, then renamed).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::images::oci::{is_digest, is_hex64};

/// Lines kept: ~150 bytes each, a few hundred images' layers.
pub const LIMIT: usize = 2048;

const FILE: &str = "layer-digests";

/// Where the file lives, from the environment (`XDG_CACHE_HOME`, `HOME`);
/// None when neither is set (then nothing is remembered).
pub fn cache_file(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let dir = match env("XDG_CACHE_HOME").filter(|d| Path::new(d).is_absolute()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env("HOME").filter(|h| !h.is_empty())?).join(".cache"),
    };
    Some(dir.join("kind-sysbox").join(FILE))
}

/// The hints in a file's text; a malformed line is skipped.
pub fn parse(text: &str) -> HashMap<String, String> {
    let mut hints = HashMap::new();
    for line in text.lines() {
        let mut fields = line.split(' ');
        let (Some(path), Some(digest), None) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        if is_layer_path(path) && is_digest(digest) {
            // Newest first: an earlier line wins.
            hints
                .entry(path.to_string())
                .or_insert_with(|| digest.to_string());
        }
    }
    hints
}

/// The file's new text: `learned` first, then the old lines it does not
/// replace, at most `limit` lines in all.
pub fn render(learned: &HashMap<String, String>, old: &str, limit: usize) -> String {
    let mut fresh: Vec<(&String, &String)> = learned
        .iter()
        .filter(|(p, d)| is_layer_path(p) && is_digest(d))
        .collect();
    fresh.sort();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut out = String::new();
    let old_lines = old.lines().filter_map(|l| {
        let (p, d) = l.split_once(' ')?;
        (is_layer_path(p) && is_digest(d)).then_some((p, d))
    });
    for (path, digest) in fresh
        .into_iter()
        .map(|(p, d)| (p.as_str(), d.as_str()))
        .chain(old_lines)
    {
        if seen.len() == limit {
            break;
        }
        if seen.insert(path) {
            out.push_str(path);
            out.push(' ');
            out.push_str(digest);
            out.push('\n');
        }
    }
    out
}

/// `<64 hex>/layer.tar`: the only paths a hint is for.
fn is_layer_path(path: &str) -> bool {
    path.strip_suffix("/layer.tar").is_some_and(is_hex64)
}

/// The hints file of this user, read once per load.
pub struct LayerHints {
    file: Option<PathBuf>,
    /// What the file said when read.
    pub known: HashMap<String, String>,
}

impl LayerHints {
    pub async fn read() -> Self {
        let file = cache_file(|k| std::env::var(k).ok());
        let known = match &file {
            Some(f) => tokio::fs::read_to_string(f)
                .await
                .map(|t| parse(&t))
                .unwrap_or_default(),
            None => HashMap::new(),
        };
        LayerHints { file, known }
    }

    /// Adds what a conversion learned (nothing new: nothing written).
    pub async fn remember(&self, learned: HashMap<String, String>) -> std::io::Result<()> {
        if learned.iter().all(|(p, d)| self.known.get(p) == Some(d)) {
            return Ok(());
        }
        self.write(Some(learned)).await
    }

    /// Drops every hint (one was wrong: the file cannot be trusted).
    pub async fn forget(&self) -> std::io::Result<()> {
        self.write(None).await
    }

    async fn write(&self, learned: Option<HashMap<String, String>>) -> std::io::Result<()> {
        let Some(file) = self.file.clone() else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || {
            let dir = file.parent().expect("the file is in a directory");
            let text = match learned {
                Some(learned) => {
                    // Re-read: another load may have written meanwhile.
                    let old = std::fs::read_to_string(&file).unwrap_or_default();
                    render(&learned, &old, LIMIT)
                }
                None => String::new(),
            };
            std::fs::create_dir_all(dir)?;
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            std::io::Write::write_all(&mut tmp, text.as_bytes())?;
            tmp.persist(&file).map_err(|e| e.error)?;
            Ok(())
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(c: char) -> String {
        format!("{}/layer.tar", c.to_string().repeat(64))
    }

    fn digest(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    #[test]
    fn the_file_is_found_by_xdg_then_home() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            cache_file(env(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/kind-sysbox/layer-digests"))
        );
        // A relative XDG directory is ignored, as the XDG spec says.
        assert_eq!(
            cache_file(env(&[("XDG_CACHE_HOME", "rel"), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.cache/kind-sysbox/layer-digests"))
        );
        assert_eq!(cache_file(env(&[("HOME", "")])), None);
        assert_eq!(cache_file(env(&[])), None);
    }

    #[test]
    fn malformed_lines_are_skipped_and_the_newest_line_wins() {
        let text = format!(
            "{} {}\n{} {}\ngarbage\n{} sha256:short\n../etc/layer.tar {}\n{} {} extra\n",
            path('a'),
            digest('1'),
            path('a'),
            digest('2'),
            path('b'),
            digest('3'),
            path('c'),
            digest('4'),
        );
        let hints = parse(&text);
        assert_eq!(hints.len(), 1);
        assert_eq!(hints[&path('a')], digest('1'));
    }

    #[test]
    fn learned_lines_come_first_and_the_file_is_bounded() {
        let old = format!(
            "{} {}\n{} {}\n{} {}\n",
            path('a'),
            digest('1'),
            path('b'),
            digest('2'),
            path('c'),
            digest('3')
        );
        let learned = HashMap::from([(path('b'), digest('9')), (path('d'), digest('4'))]);
        let text = render(&learned, &old, 3);
        assert_eq!(
            text,
            format!(
                "{} {}\n{} {}\n{} {}\n",
                path('b'),
                digest('9'),
                path('d'),
                digest('4'),
                path('a'),
                digest('1')
            )
        );
        let back = parse(&text);
        assert_eq!(back.len(), 3);
        assert_eq!(back[&path('b')], digest('9'));
    }
}
