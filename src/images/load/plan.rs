//! The pure half of `kind load`: argument handling, image-name normalisation,
//! the per-node decision (skip / re-tag / load) from what crictl answers,
//! node selection, the containerd snapshotter, the import command line, and
//! which nodes get a partial archive (issue 8).

use std::collections::{BTreeSet, HashSet};

use anyhow::{anyhow, bail};

use crate::provider::NodeRef;

/// Upstream's de-duplication: first occurrences, in order.
pub fn dedup(items: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    items
        .iter()
        .filter(|i| seen.insert(i.as_str()))
        .cloned()
        .collect()
}

/// The name containerd's CRI plugin keeps for a requested image:
/// `library/` for single-component names, `docker.io/` unless the first
/// component is a registry (has `.` or `:`, or is `localhost`), `:latest`
/// unless the last component has a tag or the name a digest.
pub fn normalize_image_name(image: &str) -> String {
    let mut name = if image.contains('/') {
        image.to_string()
    } else {
        format!("library/{image}")
    };
    let first = name.split('/').next().unwrap_or_default();
    if !first.contains(['.', ':']) && first != "localhost" {
        name = format!("docker.io/{name}");
    }
    let last = name.rsplit('/').next().unwrap_or_default();
    if !last.contains(':') && !name.contains('@') {
        name.push_str(":latest");
    }
    name
}

/// What the node's `crictl inspecti <imageID>` says about an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// Present by ID and already tagged with the requested name.
    Tagged,
    /// Present by ID, but the requested (normalised) name is not among its tags.
    NeedsRetag(String),
    /// The lookup failed or listed no tags: treat as not present by ID.
    Absent,
}

/// Upstream's re-tag decision from the repoTags of the host image's ID on the
/// node (`None` when the lookup failed).
pub fn presence(image: &str, repo_tags: Option<&[String]>) -> Presence {
    match repo_tags {
        None | Some([]) => Presence::Absent,
        Some(tags) => {
            let name = normalize_image_name(image);
            if tags.contains(&name) {
                Presence::Tagged
            } else {
                Presence::NeedsRetag(name)
            }
        }
    }
}

/// For an image absent by ID: load unless the node's image of that name
/// (`crictl inspecti <name>`, `None` when the lookup failed) has the host's ID.
pub fn absent_needs_load(host_id: &str, id_by_name: Option<&str>) -> bool {
    id_by_name != Some(host_id)
}

/// What happened on one node for one image (observed, including the
/// re-tag's outcome).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeOutcome {
    /// Nothing to do.
    Present,
    /// Re-tagged with the normalised name.
    Retagged { name: String },
    /// The re-tag failed: load instead.
    RetagFailed { name: String, error: String },
    /// Not present: load.
    Missing,
}

/// One image's outcomes over the candidate nodes (in order) -> the log lines
/// upstream prints, adding the nodes to load to `selected` (kept unique, in
/// first-selection order). `selected` carries over from earlier images: the
/// "already present on all nodes" line only appears while it is empty.
pub fn fold_image(
    image: &str,
    id: &str,
    outcomes: &[(String, NodeOutcome)],
    selected: &mut Vec<String>,
) -> Vec<String> {
    let mut lines = Vec::new();
    let mut retagged = false;
    let select = |node: &str, selected: &mut Vec<String>| {
        if !selected.iter().any(|n| n == node) {
            selected.push(node.to_string());
        }
    };
    for (node, outcome) in outcomes {
        match outcome {
            NodeOutcome::Present => {}
            NodeOutcome::Retagged { name } => {
                lines.push(retag_line(id, node, name));
                retagged = true;
            }
            NodeOutcome::RetagFailed { name, error } => {
                lines.push(retag_line(id, node, name));
                lines.push(format!("failed to re-tag image on the node {node} due to an error {error}. Will load it instead..."));
                select(node, selected);
            }
            NodeOutcome::Missing => {
                select(node, selected);
                lines.push(format!("Image: \"{image}\" with ID \"{id}\" not yet present on node \"{node}\", loading..."));
            }
        }
    }
    if selected.is_empty() && !retagged {
        lines.push(format!(
            "Image: \"{image}\" with ID \"{id}\" found to be already present on all nodes."
        ));
    }
    lines
}

fn retag_line(id: &str, node: &str, name: &str) -> String {
    format!("Image with ID: {id} already present on the node {node} but is missing the tag {name}. re-tagging...")
}

/// How an unknown `--nodes` name is reported: `load docker-image` quotes
/// it, `load image-archive` does not (as upstream).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownNodeStyle {
    Quoted,
    Bare,
}

/// The candidate nodes: all internal nodes, or those named by `--nodes` in
/// the order given (duplicates collapse: a node is loaded once).
pub fn select_nodes(
    cluster: &str,
    internal: &[NodeRef],
    wanted: &[String],
    style: UnknownNodeStyle,
) -> anyhow::Result<Vec<NodeRef>> {
    if internal.is_empty() {
        bail!("no nodes found for cluster \"{cluster}\"");
    }
    if wanted.is_empty() {
        return Ok(internal.to_vec());
    }
    let mut out: Vec<NodeRef> = Vec::new();
    for name in wanted {
        let Some(node) = internal.iter().find(|n| n.name == *name) else {
            return Err(match style {
                UnknownNodeStyle::Quoted => anyhow!("unknown node: \"{name}\""),
                UnknownNodeStyle::Bare => anyhow!("unknown node: {name}"),
            });
        };
        if !out.iter().any(|n| n.name == node.name) {
            out.push(node.clone());
        }
    }
    Ok(out)
}

/// The snapshotter from `containerd config dump` (config versions 2, 3, 4).
pub fn parse_snapshotter(config: &str) -> anyhow::Result<String> {
    let doc: toml::Table = config.parse().map_err(|e: toml::de::Error| {
        anyhow!("failed to parse containerd config: {}", e.message())
    })?;
    let version = doc
        .get("version")
        .and_then(toml::Value::as_integer)
        .ok_or_else(|| anyhow!("failed to detect containerd config version"))?;
    let path: &[&str] = match version {
        2 => &[
            "plugins",
            "io.containerd.grpc.v1.cri",
            "containerd",
            "snapshotter",
        ],
        3 | 4 => &["plugins", "io.containerd.cri.v1.images", "snapshotter"],
        v => bail!("unknown containerd config version: {v} (supported versions: 2, 3 and 4)"),
    };
    let mut value = doc.get(path[0]);
    for key in &path[1..] {
        value = value.and_then(|v| v.get(key));
    }
    value
        .and_then(toml::Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            anyhow!("failed to detect containerd snapshotter (config version {version})")
        })
}

/// Docker's host architecture (`uname -m` style or Go style) as the Go
/// architecture containerd matches platforms with; `None` for anything else,
/// which then imports every platform as upstream does.
pub fn node_platform(host_arch: &str) -> Option<String> {
    let arch = match host_arch {
        "x86_64" | "amd64" => "amd64",
        "aarch64" | "arm64" => "arm64",
        _ => return None,
    };
    Some(format!("linux/{arch}"))
}

/// Which platforms an import keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Platforms {
    /// Only the node's (ours: less to unpack, as `docker save` of a
    /// single-platform image is the common case).
    Only(String),
    /// Every platform in the archive (upstream's only mode; our fallback).
    All,
}

/// `ctr` arguments importing an archive from stdin.
pub fn import_argv(platforms: &Platforms, snapshotter: &str) -> Vec<String> {
    let platform_flag = match platforms {
        Platforms::Only(p) => format!("--platform={p}"),
        Platforms::All => "--all-platforms".to_string(),
    };
    ["ctr", "--namespace=k8s.io", "images", "import"]
        .iter()
        .map(|s| s.to_string())
        .chain([
            platform_flag,
            "--digests".into(),
            format!("--snapshotter={snapshotter}"),
            "-".into(),
        ])
        .collect()
}

/// `ctr` arguments listing the digests a node's content store holds.
pub const CONTENT_LIST_ARGV: [&str; 5] = ["ctr", "--namespace=k8s.io", "content", "ls", "-q"];

/// Whether a node gets a partial archive (only the layers it lacks): when it
/// is known to hold at least one of the images' layers (`diff_ids`). A node
/// whose content could not be listed, or that holds none of them (a first
/// load), gets the full archive: nothing to save, and no conversion to pay.
pub fn wants_partial(held: Option<&HashSet<String>>, diff_ids: &HashSet<String>) -> bool {
    held.is_some_and(|held| diff_ids.iter().any(|d| held.contains(d)))
}

/// Why a node's partial import failed, for the `-v 1` line announcing the
/// full retry: the conversion's error, else the missing blob containerd
/// named, else the node's write error, else the import's first output line.
pub fn partial_failure_reason(
    conversion: Option<&str>,
    write: Option<&str>,
    import_output: &str,
) -> String {
    if let Some(c) = conversion {
        return format!("conversion failed: {c}");
    }
    if let crate::images::oci::ImportFailure::MissingContent(d) =
        crate::images::oci::classify_import_failure(import_output)
    {
        return format!("missing content {d}");
    }
    if let Some(w) = write {
        return format!("sending it failed: {w}");
    }
    import_output
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no output")
        .to_string()
}

/// The images inbox directory all `targets` mount (see `provider::inbox`),
/// or None when any lacks it (a cluster made by an older version or by
/// upstream kind): then every node is streamed its own copy.
pub fn shared_inbox(targets: &[NodeRef]) -> Option<String> {
    let first = targets.first()?.images_inbox.clone()?;
    targets
        .iter()
        .all(|t| t.images_inbox.as_deref() == Some(first.as_str()))
        .then_some(first)
}

/// An import command line reading `path` instead of stdin (`-`, last).
pub fn reading_file(argv: &[String], path: &str) -> Vec<String> {
    let mut argv = argv.to_vec();
    if argv.last().is_some_and(|a| a == "-") {
        argv.pop();
        argv.push(path.to_string());
    }
    argv
}

/// The command writing stdin to `path` in the inbox: world-readable (under
/// Sysbox every node has its own user-ID range) and renamed into place only
/// once complete.
pub fn inbox_write_argv(path: &str) -> Vec<String> {
    [
        "sh",
        "-c",
        r#"umask 022 && cat >"$1.part" && mv -f "$1.part" "$1""#,
        "sh",
        path,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The command removing a load's archive (and a partial write of it).
pub fn inbox_remove_argv(path: &str) -> Vec<String> {
    ["rm", "-f", path, &format!("{path}.part")]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// Whether a platform-only import failed because the archive holds no image
/// for the node's platform (ctr: "image might be filtered out", or the
/// unpacker's "no match for platform"), so an all-platforms import may work.
pub fn is_platform_mismatch(output: &str) -> bool {
    output.contains("might be filtered out") || output.contains("no match for platform")
}

/// The retry for a node whose platform-only import failed for want of an
/// image for its platform: the same import of every platform. `None` when
/// the failure is anything else (or the import was already all-platforms).
pub fn fallback_import_argv(
    platforms: &Platforms,
    import_output: &str,
    snapshotter: &str,
) -> Option<Vec<String>> {
    (matches!(platforms, Platforms::Only(_)) && is_platform_mismatch(import_output))
        .then(|| import_argv(&Platforms::All, snapshotter))
}

/// `crictl inspecti` JSON -> `.status.repoTags` (`None` if unparsable).
pub fn repo_tags_of(inspect_json: &str) -> Option<Vec<String>> {
    let v: serde_json::Value = serde_json::from_str(inspect_json).ok()?;
    let tags = v.get("status")?.get("repoTags")?.as_array()?;
    Some(
        tags.iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
    )
}

/// `crictl inspecti` JSON -> `.status.id` (`None` if absent).
pub fn image_id_of(inspect_json: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(inspect_json).ok()?;
    v.get("status")?.get("id")?.as_str().map(str::to_string)
}

/// An OS error as Go prints it for `os.Stat` (`stat <path>: <text>`): Go's
/// lower-case errno texts.
pub fn go_stat_error(path: &str, err: &std::io::Error) -> String {
    let text = match err.raw_os_error() {
        Some(2) => "no such file or directory".to_string(),
        Some(13) => "permission denied".to_string(),
        Some(20) => "not a directory".to_string(),
        Some(36) => "file name too long".to_string(),
        Some(40) => "too many levels of symbolic links".to_string(),
        _ => {
            // Rust appends " (os error N)" and capitalises; Go does neither.
            let s = err.to_string();
            let s = s.split(" (os error").next().unwrap_or(&s).to_string();
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_lowercase().chain(c).collect())
                .unwrap_or_default()
        }
    };
    format!("stat {path}: {text}")
}

/// Upstream's advice when several archives are loaded one by one.
pub const MULTI_ARCHIVE_WARNING: &str = "It is suggested that you save multiple images into a common archive and load that instead of loading multiple archives for better performance";

/// `containerd` arguments printing its effective config (the snapshotter).
pub const CONFIG_DUMP_ARGV: [&str; 3] = ["containerd", "config", "dump"];

/// What one probe asks a node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeQuestions {
    /// Per image, `(host ID, requested name)`: `crictl inspecti` of the ID,
    /// then of the name.
    pub images: Vec<(String, String)>,
    /// Also list the digests its content store holds ([`CONTENT_LIST_ARGV`]).
    pub content: bool,
    /// Let the node leave out what is surely not needed: an image's by-name
    /// inspection when its ID's inspection names the image's normalised
    /// name, and then, when that held for every image, the snapshotter and
    /// content questions (a node with everything already there). A
    /// decision that needs a left-out answer asks again without it.
    pub lazy: bool,
}

/// The probe's script. After each question: a boundary line
/// `\n<token> <exit status>\n` (`-` for a question left out) on stdout and
/// the same on stderr, so both streams split into the same sections. The
/// leading newline lets an output end without one; the parser takes
/// exactly that newline off. Everything variable (token, laziness, images
/// as ID/name/normalised-name triples) is a positional argument: nothing is
/// interpolated into the script. The ID's inspection goes through a
/// command substitution (to look for the name in it) that keeps trailing
/// newlines with a `.` sentinel.
const PROBE_HEAD: &str = r#"t=$1; lazy=$2; shift 2
b() { printf '\n%s %s\n' "$t" "$1"; printf '\n%s %s\n' "$t" "$1" >&2; }
while [ $# -ge 3 ]; do
  o=$(crictl inspecti "$1" </dev/null; r=$?; printf .; exit $r); r=$?
  printf %s "${o%.}"; b $r
  case $lazy:$r:$o in
    1:0:*"\"$3\""*) b - ;;
    *) lazy=0; crictl inspecti "$2" </dev/null; b $? ;;
  esac
  shift 3
done
if [ "$lazy" = 1 ]; then b -; else containerd config dump </dev/null; b $?; fi
"#;
const PROBE_CONTENT: &str = r#"if [ "$lazy" = 1 ]; then b -; else ctr --namespace=k8s.io content ls -q </dev/null; b $?; fi
"#;

/// The one command asking a node everything a load decides from, as
/// sections separated by `token` (see [`probe_sections`]), in this order:
/// per image its ID's then its name's `crictl inspecti`, then its
/// containerd config, then (when asked) its content store's digests.
/// `token` must not occur in any answer: a random one per probe.
pub fn probe_argv(token: &str, questions: &ProbeQuestions) -> Vec<String> {
    let mut script = PROBE_HEAD.to_string();
    if questions.content {
        script.push_str(PROBE_CONTENT);
    }
    let lazy = questions.lazy && !questions.images.is_empty();
    [
        "sh",
        "-c",
        &script,
        "sh",
        token,
        if lazy { "1" } else { "0" },
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(
        questions
            .images
            .iter()
            .flat_map(|(id, name)| [id.clone(), name.clone(), normalize_image_name(name)]),
    )
    .collect()
}

/// One question's answer: its exit status (None: left out, see
/// [`ProbeQuestions::lazy`]) and output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSection {
    pub status: Option<i32>,
    pub output: String,
}

/// A probe stream (its stdout or its stderr) -> its complete sections, in
/// order: every section whose boundary line arrived whole. A cut-short or
/// malformed rest is no section (its question counts as unanswered).
pub fn probe_sections(token: &str, stream: &[u8]) -> Vec<ProbeSection> {
    let boundary = format!("\n{token} ");
    let boundary = boundary.as_bytes();
    let mut sections = Vec::new();
    let mut rest = stream;
    while let Some(at) = rest.windows(boundary.len()).position(|w| w == boundary) {
        let after = &rest[at + boundary.len()..];
        let Some(end) = after.iter().position(|&c| c == b'\n') else {
            break;
        };
        let status = match &after[..end] {
            b"-" => None,
            digits if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {
                match std::str::from_utf8(digits)
                    .ok()
                    .and_then(|s| s.parse().ok())
                {
                    Some(n) => Some(n),
                    None => break,
                }
            }
            _ => break,
        };
        sections.push(ProbeSection {
            status,
            output: String::from_utf8_lossy(&rest[..at]).into_owned(),
        });
        rest = &after[end + 1..];
    }
    sections
}

/// A probe's answers by question (None: not answered).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeAnswers {
    /// Per image: its ID's and its name's `crictl inspecti`.
    pub images: Vec<(Option<ProbeSection>, Option<ProbeSection>)>,
    /// `containerd config dump`; its stderr alongside, for its error.
    pub config: Option<(ProbeSection, String)>,
    /// `ctr content ls -q`; None too when not asked.
    pub content: Option<ProbeSection>,
}

/// The probe's stdout and stderr -> each question's answer.
pub fn probe_answers(
    token: &str,
    questions: &ProbeQuestions,
    stdout: &[u8],
    stderr: &[u8],
) -> ProbeAnswers {
    let mut out = probe_sections(token, stdout).into_iter();
    let errs = probe_sections(token, stderr);
    let images = questions
        .images
        .iter()
        .map(|_| (out.next(), out.next()))
        .collect();
    let at = 2 * questions.images.len();
    let config = out.next().map(|s| {
        (
            s,
            errs.get(at).map(|e| e.output.clone()).unwrap_or_default(),
        )
    });
    let content = if questions.content { out.next() } else { None };
    ProbeAnswers {
        images,
        config,
        content,
    }
}

impl ProbeSection {
    /// The output of a question that succeeded (as an exec's `.ok()`).
    pub fn succeeded(&self) -> Option<&str> {
        (self.status == Some(0)).then_some(self.output.as_str())
    }

    /// Whether the node left the question out.
    pub fn skipped(&self) -> bool {
        self.status.is_none()
    }
}

/// The error `argv`, run in `node` on its own, would have given for a
/// probe section that failed: as the provider reports a failed exec.
pub fn section_error(
    node: &NodeRef,
    argv: &[&str],
    section: &ProbeSection,
    stderr: &str,
) -> crate::provider::RunError {
    let mut cli = vec!["docker".to_string(), "exec".to_string()];
    if node.privileged_exec() {
        cli.push("--privileged".into());
    }
    cli.push(node.name.clone());
    cli.extend(argv.iter().map(|a| a.to_string()));
    crate::provider::RunError {
        argv: cli,
        reason: format!(
            "exit status {}",
            section.status.map_or("-".to_string(), |n| n.to_string())
        ),
        output: format!("{}{stderr}", section.output),
    }
}

/// The repo tags a node's image `id` has once this load's earlier re-tags
/// of the same ID there (`retagged`: (ID, name) pairs) are counted: the
/// probe asked before any re-tag, as upstream asks per image afterwards.
pub fn with_retags(
    tags: Option<Vec<String>>,
    id: &str,
    retagged: &[(String, String)],
) -> Option<Vec<String>> {
    let mut tags = tags?;
    for (tagged_id, name) in retagged {
        if tagged_id == id && !tags.contains(name) {
            tags.push(name.clone());
        }
    }
    Some(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    use crate::provider::test_node as node;

    #[test]
    fn dedup_keeps_first_occurrences_in_order() {
        let cases: &[(&[&str], &[&str])] = &[
            (&[], &[]),
            (&["a"], &["a"]),
            (&["a", "b", "a", "c", "b"], &["a", "b", "c"]),
            (&["b", "a", "b", "a"], &["b", "a"]),
            // Different spellings of one image are different arguments.
            (
                &["ubuntu", "docker.io/library/ubuntu:latest", "ubuntu"],
                &["ubuntu", "docker.io/library/ubuntu:latest"],
            ),
        ];
        for (input, want) in cases {
            assert_eq!(dedup(&s(input)), s(want), "{input:?}");
        }
    }

    #[test]
    fn names_normalise_as_containerd_keeps_them() {
        let cases = [
            ("ubuntu:18.04", "docker.io/library/ubuntu:18.04"),
            ("custom/ubuntu:18.04", "docker.io/custom/ubuntu:18.04"),
            ("registry.k8s.io/pause:3.6", "registry.k8s.io/pause:3.6"),
            ("baz", "docker.io/library/baz:latest"),
            ("other-registry/baz", "docker.io/other-registry/baz:latest"),
            ("localhost:5000/baz", "localhost:5000/baz:latest"),
            ("localhost/baz", "localhost/baz:latest"),
            ("localhost:5000/baz:v1", "localhost:5000/baz:v1"),
            ("docker.io/library/baz:1", "docker.io/library/baz:1"),
            ("a/b/c", "docker.io/a/b/c:latest"),
            (
                "kind-fixture/node:v1.36.1",
                "docker.io/kind-fixture/node:v1.36.1",
            ),
            ("baz@sha256:abc", "docker.io/library/baz@sha256:abc"),
            ("quay.io/x/y@sha256:abc", "quay.io/x/y@sha256:abc"),
        ];
        for (image, want) in cases {
            assert_eq!(normalize_image_name(image), want, "{image}");
        }
    }

    #[test]
    fn presence_from_repo_tags() {
        let tags = s(&[
            "docker.io/library/ubuntu:18.04",
            "docker.io/library/ubuntu:bionic",
        ]);
        let cases: &[(&str, Option<&[String]>, Presence)] = &[
            // Tag present -> exists, no re-tag (requested spelling does not matter).
            ("ubuntu:18.04", Some(&tags), Presence::Tagged),
            (
                "docker.io/library/ubuntu:bionic",
                Some(&tags),
                Presence::Tagged,
            ),
            // Different tag -> exists, re-tag with the normalised name.
            (
                "ubuntu:latest",
                Some(&tags),
                Presence::NeedsRetag("docker.io/library/ubuntu:latest".into()),
            ),
            (
                "ubuntu",
                Some(&tags),
                Presence::NeedsRetag("docker.io/library/ubuntu:latest".into()),
            ),
            (
                "localhost:5000/u",
                Some(&tags),
                Presence::NeedsRetag("localhost:5000/u:latest".into()),
            ),
            // Lookup error or no tags -> not present by ID.
            ("ubuntu:18.04", None, Presence::Absent),
            ("ubuntu:18.04", Some(&[]), Presence::Absent),
        ];
        for (image, tags, want) in cases {
            assert_eq!(presence(image, *tags), *want, "{image} {tags:?}");
        }
    }

    #[test]
    fn absent_images_load_unless_the_name_has_the_host_id() {
        assert!(absent_needs_load("sha256:a", None));
        assert!(absent_needs_load("sha256:a", Some("sha256:b")));
        assert!(!absent_needs_load("sha256:a", Some("sha256:a")));
    }

    #[test]
    fn fold_image_logs_and_selects_like_upstream() {
        use NodeOutcome::*;
        let o = |v: &[(&str, NodeOutcome)]| {
            v.iter()
                .map(|(n, o)| (n.to_string(), o.clone()))
                .collect::<Vec<_>>()
        };
        let present_all =
            "Image: \"img\" with ID \"sha256:1\" found to be already present on all nodes.";
        let missing = |n: &str| {
            format!(
                "Image: \"img\" with ID \"sha256:1\" not yet present on node \"{n}\", loading..."
            )
        };
        let retag = |n: &str| {
            format!("Image with ID: sha256:1 already present on the node {n} but is missing the tag docker.io/library/img:latest. re-tagging...")
        };
        let name = "docker.io/library/img:latest".to_string();

        // (outcomes, selected before, lines, selected after)
        type Case = (
            Vec<(String, NodeOutcome)>,
            Vec<String>,
            Vec<String>,
            Vec<String>,
        );
        let cases: Vec<Case> = vec![
            (o(&[("a", Present), ("b", Present)]), vec![], vec![present_all.into()], vec![]),
            (o(&[("a", Present), ("b", Missing)]), vec![], vec![missing("b")], s(&["b"])),
            (o(&[("a", Missing), ("b", Missing)]), vec![], vec![missing("a"), missing("b")], s(&["a", "b"])),
            // A successful re-tag suppresses the summary line, selects nothing.
            (o(&[("a", Retagged { name: name.clone() }), ("b", Present)]), vec![], vec![retag("a")], vec![]),
            // A failed re-tag loads instead.
            (
                o(&[("a", RetagFailed { name: name.clone(), error: "boom".into() })]),
                vec![],
                vec![retag("a"), "failed to re-tag image on the node a due to an error boom. Will load it instead...".into()],
                s(&["a"]),
            ),
            // Nodes selected for an earlier image suppress the summary line.
            (o(&[("a", Present)]), s(&["b"]), vec![], s(&["b"])),
            // A node is selected once across images.
            (o(&[("a", Missing), ("b", Missing)]), s(&["b"]), vec![missing("a"), missing("b")], s(&["b", "a"])),
        ];
        for (outcomes, before, lines, after) in cases {
            let mut selected = before.clone();
            assert_eq!(
                fold_image("img", "sha256:1", &outcomes, &mut selected),
                lines,
                "{outcomes:?} {before:?}"
            );
            assert_eq!(selected, after, "{outcomes:?} {before:?}");
        }
    }

    #[test]
    fn node_selection() {
        let internal = vec![
            node("c-worker", "worker"),
            node("c-control-plane", "control-plane"),
            node("c-worker2", "worker"),
        ];
        let names = |v: Vec<NodeRef>| v.into_iter().map(|n| n.name).collect::<Vec<_>>();
        use UnknownNodeStyle::*;
        assert_eq!(
            names(select_nodes("c", &internal, &[], Quoted).unwrap()),
            s(&["c-worker", "c-control-plane", "c-worker2"])
        );
        assert_eq!(
            names(select_nodes("c", &internal, &s(&["c-worker2", "c-worker"]), Quoted).unwrap()),
            s(&["c-worker2", "c-worker"])
        );
        assert_eq!(
            names(select_nodes("c", &internal, &s(&["c-worker", "c-worker"]), Bare).unwrap()),
            s(&["c-worker"])
        );
        let err = |wanted: &[&str], style| {
            select_nodes("c", &internal, &s(wanted), style)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(err(&["c-worker", "nope"], Quoted), "unknown node: \"nope\"");
        assert_eq!(err(&["nope"], Bare), "unknown node: nope");
        // No nodes at all wins over the selection.
        assert_eq!(
            select_nodes("c", &[], &s(&["x"]), Quoted)
                .unwrap_err()
                .to_string(),
            "no nodes found for cluster \"c\""
        );
        assert_eq!(
            select_nodes("kind", &[], &[], Bare)
                .unwrap_err()
                .to_string(),
            "no nodes found for cluster \"kind\""
        );
    }

    const FULL_V2_DUMP: &str = r#"disabled_plugins = []
imports = ["/etc/containerd/config.toml"]
oom_score = 0
plugin_dir = ""
required_plugins = []
root = "/var/lib/containerd"
state = "/run/containerd"
temp = ""
version = 2

[cgroup]
  path = ""

[grpc]
  address = "/run/containerd/containerd.sock"
  max_recv_message_size = 16777216

[plugins]

  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.7"

    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"
      discard_unpacked_layers = true
      snapshotter = "overlayfs"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]

        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
          runtime_type = "io.containerd.runc.v2"

          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
            SystemdCgroup = true

  [plugins."io.containerd.snapshotter.v1.overlayfs"]
    root_path = ""
"#;

    #[test]
    fn snapshotter_from_config_dump() {
        let ok = [
            (FULL_V2_DUMP, "overlayfs"),
            ("version = 3\n[plugins.\"io.containerd.cri.v1.images\"]\nsnapshotter = \"overlayfs\"\n", "overlayfs"),
            ("version = 4\n[plugins.\"io.containerd.cri.v1.images\"]\nsnapshotter = \"btrfs\"\n", "btrfs"),
            ("version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\nsnapshotter = \"native\"\n", "native"),
            // The fixture node image's config.
            (include_str!("../../../tests/fixtures/node-image/rootfs/etc/containerd/config.toml"), "overlayfs"),
        ];
        for (config, want) in ok {
            assert_eq!(parse_snapshotter(config).unwrap(), want);
        }
        let err = |config: &str| parse_snapshotter(config).unwrap_err().to_string();
        assert_eq!(err(""), "failed to detect containerd config version");
        assert!(
            err("version = ").starts_with("failed to parse containerd config: "),
            "{}",
            err("version = ")
        );
        assert!(err("[[[").starts_with("failed to parse containerd config: "));
        assert_eq!(
            err("version = \"2\""),
            "failed to detect containerd config version"
        );
        assert_eq!(
            err("version = 1"),
            "unknown containerd config version: 1 (supported versions: 2, 3 and 4)"
        );
        assert_eq!(
            err("version = 5"),
            "unknown containerd config version: 5 (supported versions: 2, 3 and 4)"
        );
        assert_eq!(
            err("version = 2"),
            "failed to detect containerd snapshotter (config version 2)"
        );
        // A version-3 key in a version-2 config is not looked at, and vice versa.
        assert_eq!(
            err("version = 2\n[plugins.\"io.containerd.cri.v1.images\"]\nsnapshotter = \"overlayfs\"\n"),
            "failed to detect containerd snapshotter (config version 2)"
        );
        assert_eq!(
            err("version = 3\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\nsnapshotter = \"overlayfs\"\n"),
            "failed to detect containerd snapshotter (config version 3)"
        );
        assert_eq!(
            err("version = 4\n[plugins.\"io.containerd.cri.v1.images\"]\nsnapshotter = 1\n"),
            "failed to detect containerd snapshotter (config version 4)"
        );
    }

    #[test]
    fn platforms_of_the_host() {
        let cases = [
            ("x86_64", Some("linux/amd64")),
            ("amd64", Some("linux/amd64")),
            ("aarch64", Some("linux/arm64")),
            ("arm64", Some("linux/arm64")),
            ("armv7l", None),
            ("s390x", None),
            ("", None),
        ];
        for (arch, want) in cases {
            assert_eq!(node_platform(arch).as_deref(), want, "{arch}");
        }
    }

    #[test]
    fn import_command_lines() {
        assert_eq!(
            import_argv(&Platforms::Only("linux/amd64".into()), "overlayfs"),
            s(&[
                "ctr",
                "--namespace=k8s.io",
                "images",
                "import",
                "--platform=linux/amd64",
                "--digests",
                "--snapshotter=overlayfs",
                "-"
            ])
        );
        // Upstream's command line exactly.
        assert_eq!(
            import_argv(&Platforms::All, "native"),
            s(&[
                "ctr",
                "--namespace=k8s.io",
                "images",
                "import",
                "--all-platforms",
                "--digests",
                "--snapshotter=native",
                "-"
            ])
        );
    }

    #[test]
    fn only_a_platform_mismatch_of_a_platform_only_import_falls_back() {
        let only = Platforms::Only("linux/amd64".into());
        assert_eq!(
            fallback_import_argv(&only, "ctr: image might be filtered out\n", "overlayfs"),
            Some(import_argv(&Platforms::All, "overlayfs"))
        );
        assert_eq!(
            fallback_import_argv(&only, "ctr: unexpected EOF\n", "overlayfs"),
            None
        );
        assert_eq!(
            fallback_import_argv(
                &Platforms::All,
                "ctr: image might be filtered out\n",
                "overlayfs"
            ),
            None
        );
    }

    #[test]
    fn platform_mismatch_detection() {
        assert!(is_platform_mismatch("ctr: image might be filtered out\n"));
        assert!(is_platform_mismatch("unpacking docker.io/library/x:latest (sha256:1)...ctr: no match for platform in manifest: not found"));
        assert!(!is_platform_mismatch(
            "ctr: failed to import image: injected failure (kind-fixture)"
        ));
        assert!(!is_platform_mismatch(
            "ctr: snapshotter not loaded: zfs: invalid argument"
        ));
        assert!(!is_platform_mismatch(""));
    }

    #[test]
    fn crictl_inspecti_answers() {
        let json = r#"{"status":{"id":"sha256:abc","repoTags":["docker.io/library/a:1","docker.io/library/a:2"],"repoDigests":[],"size":"1"},"info":{}}"#;
        assert_eq!(
            repo_tags_of(json),
            Some(s(&["docker.io/library/a:1", "docker.io/library/a:2"]))
        );
        assert_eq!(image_id_of(json).as_deref(), Some("sha256:abc"));
        let untagged = r#"{"status":{"id":"sha256:abc","repoTags":[]}}"#;
        assert_eq!(repo_tags_of(untagged), Some(vec![]));
        assert_eq!(
            repo_tags_of(r#"{"status":{"id":"sha256:abc","repoTags":null}}"#),
            None
        );
        assert_eq!(repo_tags_of("not json"), None);
        assert_eq!(image_id_of("{}"), None);
    }

    #[test]
    fn stat_errors_read_like_go() {
        let err = |code| std::io::Error::from_raw_os_error(code);
        assert_eq!(
            go_stat_error("x.tar", &err(2)),
            "stat x.tar: no such file or directory"
        );
        assert_eq!(
            go_stat_error("/root/x.tar", &err(13)),
            "stat /root/x.tar: permission denied"
        );
        assert_eq!(
            go_stat_error("f/x.tar", &err(20)),
            "stat f/x.tar: not a directory"
        );
        assert_eq!(
            go_stat_error("l", &err(40)),
            "stat l: too many levels of symbolic links"
        );
        // Others: Rust's text without its suffix, lower-cased first letter.
        assert_eq!(go_stat_error("x", &err(5)), "stat x: input/output error");
        let real = std::fs::metadata("/nonexistent/kind-load-test.tar").unwrap_err();
        assert_eq!(
            go_stat_error("/nonexistent/kind-load-test.tar", &real),
            "stat /nonexistent/kind-load-test.tar: no such file or directory"
        );
    }

    fn digests(v: &[&str]) -> HashSet<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn partial_only_for_a_node_known_to_hold_some_layer() {
        let ids = digests(&["sha256:a", "sha256:b"]);
        // Content unknown (ctr failed): full.
        assert!(!wants_partial(None, &ids));
        // A first load: the node holds none of the layers.
        assert!(!wants_partial(Some(&digests(&["sha256:z"])), &ids));
        assert!(!wants_partial(Some(&digests(&[])), &ids));
        assert!(wants_partial(
            Some(&digests(&["sha256:b", "sha256:z"])),
            &ids
        ));
        // No diff IDs (an image archive file): never partial.
        assert!(!wants_partial(Some(&digests(&["sha256:a"])), &digests(&[])));
    }

    #[test]
    fn partial_failure_reasons() {
        let d = format!("sha256:{}", "ab".repeat(32));
        let out = format!(
            "ctr: failed to extract layer {d}: failed to get reader from content store: content digest {d}: not found\n"
        );
        assert_eq!(
            partial_failure_reason(None, None, &out),
            format!("missing content {d}")
        );
        assert_eq!(
            partial_failure_reason(Some("bad tar"), None, &out),
            "conversion failed: bad tar"
        );
        assert_eq!(
            partial_failure_reason(None, Some("broken pipe"), "\nctr: boom\nmore"),
            "sending it failed: broken pipe"
        );
        assert_eq!(
            partial_failure_reason(None, None, "\n  ctr: boom\nmore"),
            "ctr: boom"
        );
        assert_eq!(partial_failure_reason(None, None, ""), "no output");
    }

    #[test]
    fn the_inbox_is_used_only_when_every_target_mounts_it() {
        let with = |name: &str, inbox: Option<&str>| NodeRef {
            images_inbox: inbox.map(str::to_string),
            ..node(name, "worker")
        };
        let dir = "/kind/images-inbox";
        assert_eq!(
            shared_inbox(&[with("a", Some(dir)), with("b", Some(dir))]).as_deref(),
            Some(dir)
        );
        assert_eq!(shared_inbox(&[with("a", Some(dir)), with("b", None)]), None);
        assert_eq!(shared_inbox(&[with("a", None)]), None);
        assert_eq!(shared_inbox(&[]), None);
        let argv = import_argv(&Platforms::All, "overlayfs");
        let from_file = reading_file(&argv, "/kind/images-inbox/x.tar");
        assert_eq!(from_file.last().unwrap(), "/kind/images-inbox/x.tar");
        assert_eq!(from_file.len(), argv.len());
        assert_eq!(inbox_write_argv("/i/x.tar")[4], "/i/x.tar");
        assert_eq!(
            inbox_remove_argv("/i/x.tar"),
            s(&["rm", "-f", "/i/x.tar", "/i/x.tar.part"])
        );
    }

    const TOKEN: &str = "kind-sysbox-probe-0123456789abcdef";

    fn q(content: bool, lazy: bool, images: &[(&str, &str)]) -> ProbeQuestions {
        ProbeQuestions {
            images: images
                .iter()
                .map(|(id, name)| (id.to_string(), name.to_string()))
                .collect(),
            content,
            lazy,
        }
    }

    fn sec(status: i32, output: &str) -> ProbeSection {
        ProbeSection {
            status: Some(status),
            output: output.into(),
        }
    }

    fn skipped() -> ProbeSection {
        ProbeSection {
            status: None,
            output: String::new(),
        }
    }

    #[test]
    fn the_probe_passes_token_and_images_as_arguments_never_in_the_script() {
        let nasty = "x'; rm -rf / #$(touch /pwned)\"`id`";
        let argv = probe_argv(TOKEN, &q(true, true, &[("sha256:abc", nasty)]));
        assert_eq!(&argv[..2], &s(&["sh", "-c"])[..]);
        assert_eq!(
            &argv[3..],
            &s(&[
                "sh",
                TOKEN,
                "1",
                "sha256:abc",
                nasty,
                &normalize_image_name(nasty)
            ])[..]
        );
        let script = &argv[2];
        assert!(!script.contains(TOKEN) && !script.contains("abc") && !script.contains("pwned"));
        // The questions, in the order the answers are read.
        let inspect = script.find(r#"crictl inspecti "$1""#).unwrap();
        let by_name = script.find(r#"crictl inspecti "$2""#).unwrap();
        let config = script.find(&CONFIG_DUMP_ARGV.join(" ")).unwrap();
        let content = script.find(&CONTENT_LIST_ARGV.join(" ")).unwrap();
        assert!(
            inspect < by_name && by_name < config && config < content,
            "{script}"
        );
        // The content list only when asked; never lazy without images.
        let without = probe_argv(TOKEN, &q(false, true, &[]));
        assert!(!without[2].contains("content ls"), "{}", without[2]);
        assert_eq!(&without[3..], &s(&["sh", TOKEN, "0"])[..]);
        let eager = probe_argv(TOKEN, &q(false, false, &[("a", "b")]));
        assert_eq!(
            &eager[3..],
            &s(&["sh", TOKEN, "0", "a", "b", "docker.io/library/b:latest"])[..]
        );
    }

    /// Runs the probe script with the real `sh` and stand-in tools.
    fn run_probe(questions: &ProbeQuestions, crictl: &str) -> (ProbeAnswers, Vec<ProbeSection>) {
        let dir = tempfile::tempdir().unwrap();
        let tool = |name: &str, body: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        // No trailing newline; a failure; whatever the test says.
        tool("containerd", "printf 'version = 2'");
        tool("ctr", "echo 'ctr: no content' >&2; exit 3");
        tool("crictl", crictl);
        let argv = probe_argv(TOKEN, questions);
        let path = format!("{}:/usr/bin:/bin", dir.path().display());
        let out = std::process::Command::new(&argv[0])
            .args(&argv[1..])
            .env("PATH", path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        (
            probe_answers(TOKEN, questions, &out.stdout, &out.stderr),
            probe_sections(TOKEN, &out.stderr),
        )
    }

    /// A crictl stand-in: `sha256:abc` is tagged `docker.io/library/x:1`
    /// (its JSON ending in two newlines), anything else is absent.
    const CRICTL: &str = r#"[ "$2" = "sha256:abc" ] && { printf '{"repoTags": [\n"docker.io/library/x:1"]}\n\n'; exit 0; }; echo "no such image $2" >&2; exit 1"#;
    const TAGGED: &str = "{\"repoTags\": [\n\"docker.io/library/x:1\"]}\n\n";

    #[test]
    fn the_probe_script_runs_as_the_parser_reads_it() {
        let nasty = "it's \"$(x)\"";
        let questions = q(true, false, &[("sha256:abc", "x:1"), (nasty, "")]);
        let (answers, errs) = run_probe(&questions, CRICTL);
        assert_eq!(
            answers.images,
            vec![
                (Some(sec(0, TAGGED)), Some(sec(1, ""))),
                (Some(sec(1, "")), Some(sec(1, ""))),
            ]
        );
        assert_eq!(answers.config, Some((sec(0, "version = 2"), String::new())));
        assert_eq!(answers.content, Some(sec(3, "")));
        assert_eq!(errs[1], sec(1, "no such image x:1\n"));
        assert_eq!(errs[2], sec(1, &format!("no such image {nasty}\n")));
        assert_eq!(errs[3], sec(1, "no such image \n"));
        assert_eq!(errs[5], sec(3, "ctr: no content\n"));
    }

    #[test]
    fn a_lazy_probe_leaves_out_only_what_is_surely_not_needed() {
        // Tagged with its name: no by-name inspection, no facts.
        let (answers, _) = run_probe(&q(true, true, &[("sha256:abc", "x:1")]), CRICTL);
        assert_eq!(
            answers.images,
            vec![(Some(sec(0, TAGGED)), Some(skipped()))]
        );
        assert_eq!(answers.config, Some((skipped(), String::new())));
        assert_eq!(answers.content, Some(skipped()));
        // Present by ID under another name: by name, and the facts, asked.
        let (answers, _) = run_probe(&q(true, true, &[("sha256:abc", "y:1")]), CRICTL);
        assert_eq!(
            answers.images,
            vec![(Some(sec(0, TAGGED)), Some(sec(1, "")))]
        );
        assert_eq!(answers.config, Some((sec(0, "version = 2"), String::new())));
        assert_eq!(answers.content, Some(sec(3, "")));
        // One image missing: everything after it asked, the one before left out.
        let (answers, _) = run_probe(
            &q(false, true, &[("sha256:abc", "x:1"), ("sha256:def", "z:1")]),
            CRICTL,
        );
        assert_eq!(
            answers.images,
            vec![
                (Some(sec(0, TAGGED)), Some(skipped())),
                (Some(sec(1, "")), Some(sec(1, "")))
            ]
        );
        assert_eq!(answers.config, Some((sec(0, "version = 2"), String::new())));
        assert_eq!(answers.content, None);
        // A failed ID inspection is never taken for presence.
        let (answers, _) = run_probe(
            &q(false, true, &[("sha256:abc", "x:1")]),
            r#"echo '"docker.io/library/x:1"'; exit 1"#,
        );
        assert_eq!(
            answers.images[0].1,
            Some(sec(1, "\"docker.io/library/x:1\"\n"))
        );
    }

    #[test]
    fn probe_sections_split_exactly_at_the_boundaries() {
        let b = |status: &str| format!("\n{TOKEN} {status}\n");
        let cases: Vec<(String, Vec<ProbeSection>)> = vec![
            (String::new(), vec![]),
            // Empty output.
            (b("0"), vec![sec(0, "")]),
            // Left out.
            (format!("{}{}", b("-"), b("0")), vec![skipped(), sec(0, "")]),
            // With and without a trailing newline.
            (format!("a\nb\n{}", b("0")), vec![sec(0, "a\nb\n")]),
            (format!("a\nb{}", b("0")), vec![sec(0, "a\nb")]),
            // A failing tool, then more sections.
            (
                format!("x{}{}y\n{}", b("1"), b("0"), b("127")),
                vec![sec(1, "x"), sec(0, ""), sec(127, "y\n")],
            ),
            // Cut short: a missing or partial boundary line is no section.
            (format!("a{}b", b("0")), vec![sec(0, "a")]),
            (format!("a\n{TOKEN} 0"), vec![]),
            (format!("a\n{TOKEN} "), vec![]),
            // A malformed status ends the parse.
            (format!("a\n{TOKEN} x\n{}", b("0")), vec![]),
            (format!("a\n{TOKEN} -1\n"), vec![]),
            (format!("a\n{TOKEN} 99999999999\n"), vec![]),
            // The token without its line start is output.
            (
                format!("{TOKEN} 1\n{}", b("0")),
                vec![sec(0, &format!("{TOKEN} 1\n"))],
            ),
            // Another token's lines are output.
            (
                format!("\nkind-sysbox-probe-other 0\n{}", b("0")),
                vec![sec(0, "\nkind-sysbox-probe-other 0\n")],
            ),
        ];
        for (stream, want) in cases {
            assert_eq!(probe_sections(TOKEN, stream.as_bytes()), want, "{stream:?}");
        }
    }

    #[test]
    fn probe_answers_map_sections_to_questions_and_leave_missing_ones_unanswered() {
        let b = |status: i32| format!("\n{TOKEN} {status}\n");
        let full = format!(
            "{{}}{}{}version = 2\n{}sha256:a\n{}",
            b(0),
            b(1),
            b(0),
            b(0)
        );
        let err = format!("{}no such image{}boom{}{}", b(0), b(1), b(0), b(0));
        let questions = q(true, false, &[("id", "name")]);
        let got = probe_answers(TOKEN, &questions, full.as_bytes(), err.as_bytes());
        assert_eq!(got.images, vec![(Some(sec(0, "{}")), Some(sec(1, "")))]);
        assert_eq!(
            got.config,
            Some((sec(0, "version = 2\n"), "boom".to_string()))
        );
        assert_eq!(got.content, Some(sec(0, "sha256:a\n")));
        assert_eq!(
            got.content.as_ref().unwrap().succeeded(),
            Some("sha256:a\n")
        );
        assert_eq!(got.images[0].1.as_ref().unwrap().succeeded(), None);
        assert_eq!(skipped().succeeded(), None);
        assert!(skipped().skipped() && !sec(0, "").skipped());

        // Without images nor the content question: the config only.
        let got = probe_answers(TOKEN, &q(false, false, &[]), full.as_bytes(), b"");
        assert_eq!(got.images, vec![]);
        assert_eq!(got.config, Some((sec(0, "{}"), String::new())));
        assert_eq!(got.content, None);
        // Cut short: the rest unanswered.
        let cut = format!("{{}}{}", b(0));
        let got = probe_answers(TOKEN, &questions, cut.as_bytes(), b"");
        assert_eq!(got.images, vec![(Some(sec(0, "{}")), None)]);
        assert_eq!((got.config, got.content), (None, None));
        // Nothing at all.
        let got = probe_answers(TOKEN, &questions, b"", b"");
        assert_eq!(got.images, vec![(None, None)]);
        assert_eq!(got.config, None);
    }

    #[test]
    fn a_failed_section_reads_as_the_failed_exec_would() {
        let e = section_error(
            &node("n1", "worker"),
            &CONFIG_DUMP_ARGV,
            &sec(2, "out\n"),
            "err\n",
        );
        assert_eq!(
            e.to_string(),
            r#"command "docker exec n1 containerd config dump" failed with error: exit status 2"#
        );
        assert_eq!(e.output, "out\nerr\n");
        let runc = NodeRef {
            runtime_mode: "runc".into(),
            ..node("n2", "worker")
        };
        let e = section_error(&runc, &CONFIG_DUMP_ARGV, &sec(1, ""), "");
        assert_eq!(e.reason, "exit status 1");
        assert_eq!(e.argv[..3], s(&["docker", "exec", "--privileged"])[..]);
    }

    #[test]
    fn earlier_retags_of_the_same_id_count_as_tags() {
        let done = vec![
            ("sha256:a".to_string(), "docker.io/library/x:1".to_string()),
            ("sha256:b".to_string(), "docker.io/library/y:1".to_string()),
        ];
        assert_eq!(with_retags(None, "sha256:a", &done), None);
        assert_eq!(
            with_retags(Some(s(&["old"])), "sha256:a", &done),
            Some(s(&["old", "docker.io/library/x:1"]))
        );
        assert_eq!(
            with_retags(Some(s(&["docker.io/library/x:1"])), "sha256:a", &done),
            Some(s(&["docker.io/library/x:1"]))
        );
        assert_eq!(
            with_retags(Some(s(&["old"])), "sha256:c", &done),
            Some(s(&["old"]))
        );
        assert_eq!(with_retags(Some(vec![]), "sha256:c", &[]), Some(vec![]));
        // A second image with the ID the first re-tagged is then tagged.
        let tags = with_retags(Some(s(&["old"])), "sha256:a", &done);
        assert_eq!(presence("x:1", tags.as_deref()), Presence::Tagged);
    }
}
