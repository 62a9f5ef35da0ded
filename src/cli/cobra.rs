//! Finding and validating the command to run with spf13/cobra v1.8's rules
//! (`Command.Find`, `execute`, the `help` command), over the tree in
//! `tree.rs`. Pure: turns argv into an [`Invocation`] or the text to print,
//! so it can be tested and fuzzed without Docker.
//!
//! Why not clap's parser: cobra finds the subcommand by first stripping
//! flags it may not even know (an unknown `--x` swallows the next word),
//! accepts flags between group and subcommand, lets `--help` lose to an
//! unknown flag and reports everything in pflag's words. Reproducing that
//! through clap would mean pre-parsing argv this way anyway and then
//! translating clap's errors back; a direct implementation is smaller and
//! exact. clap still describes the tree for `kind completion`.

use super::help;
use super::pflag::{self, FlagSet, FlagSpec, FlagValues, ParseError};
use super::tree::{global_flags, root, ArgsRule, CommandId, Node, Run};

/// A command ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    pub command: CommandId,
    /// Command names below `kind` (`["get", "nodes"]`).
    pub path: Vec<&'static str>,
    pub flags: FlagValues,
    /// Positional arguments.
    pub args: Vec<String>,
    /// kind's pre-scan found `-q`: the logger is silenced from the start
    /// (and `version` prints only the version number).
    pub quiet_prescan: bool,
    /// `--quiet` as parsed (silences the logger once the command runs).
    pub quiet: bool,
    pub verbosity: i32,
}

impl Invocation {
    /// The `--name` value after kind's `OverrideDefaultName`: an explicit
    /// flag (even `--name=`) wins, then a non-empty `KIND_CLUSTER_NAME`,
    /// then the flag default.
    pub fn cluster_name(&self, env: Option<String>) -> String {
        if !self.flags.changed("name") {
            if let Some(v) = env.filter(|v| !v.is_empty()) {
                return v;
            }
        }
        self.flags.string("name")
    }
}

/// Everything that ends the process without running a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Print to stdout, exit 0 (help, `--version`).
    Print(String),
    /// Print `stdout` (may be empty), then report `error`, exit 1.
    Fail { stdout: String, error: String },
}

impl Outcome {
    fn fail(error: String) -> Outcome {
        Outcome::Fail {
            stdout: String::new(),
            error,
        }
    }
}

/// Parse a full argv (`argv[0]` is the program name and is skipped).
pub fn parse(argv: &[String]) -> Result<Invocation, Outcome> {
    let args = argv.get(1..).unwrap_or(&[]);
    let tree = root();
    let quiet_prescan = pflag::quiet_prescan(args);
    let (path, rest) = find(&tree, args).map_err(Outcome::fail)?;
    execute(&tree, &path, &rest, quiet_prescan)
}

/// The flags a command knows while cobra looks for subcommands: its own
/// and the inherited persistent ones (not yet `-h`).
fn find_flags(node: &Node, is_root: bool) -> Vec<FlagSpec> {
    let mut flags = node.flags.clone();
    if !is_root {
        flags.extend(global_flags());
    }
    flags
}

/// Whether `s` is a flag that consumes the following word, as cobra's
/// `stripFlags` judges it (unknown flags do).
fn takes_next_word(s: &str, set: &FlagSet) -> bool {
    if s.contains('=') {
        return false;
    }
    if let Some(name) = s.strip_prefix("--") {
        return !set
            .long(name.as_bytes())
            .is_some_and(|f| f.takes_no_value());
    }
    let b = s.as_bytes();
    b.len() == 2 && b[0] == b'-' && !set.short(b[1]).is_some_and(|f| f.takes_no_value())
}

/// cobra's `stripFlags`: the words that may name subcommands.
fn strip_flags(args: &[String], flags: &[FlagSpec]) -> Vec<String> {
    let set = FlagSet::new(flags);
    let mut commands = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let s = &args[i];
        i += 1;
        if s == "--" {
            break;
        }
        if takes_next_word(s, &set) {
            if args.len() - i <= 1 {
                break;
            }
            i += 1;
            continue;
        }
        if !s.is_empty() && !s.starts_with('-') {
            commands.push(s.clone());
        }
    }
    commands
}

/// cobra's `argsMinusFirstX`: `args` without the first word equal to `x`
/// that is not a flag value.
fn args_minus_first_x(args: &[String], flags: &[FlagSpec], x: &str) -> Vec<String> {
    let set = FlagSet::new(flags);
    let mut pos = 0;
    while pos < args.len() {
        let s = &args[pos];
        if s == "--" {
            break;
        }
        if takes_next_word(s, &set) {
            pos += 2;
            continue;
        }
        if !s.starts_with('-') && s == x {
            let mut out = args[..pos].to_vec();
            out.extend_from_slice(&args[pos + 1..]);
            return out;
        }
        pos += 1;
    }
    args.to_vec()
}

/// cobra's `Find`: the deepest command named by the non-flag words, and
/// the arguments left for it.
fn find(tree: &Node, args: &[String]) -> Result<(Vec<&'static str>, Vec<String>), String> {
    let mut path: Vec<&'static str> = Vec::new();
    let mut node = tree;
    let mut rest = args.to_vec();
    loop {
        let flags = find_flags(node, path.is_empty());
        let words = strip_flags(&rest, &flags);
        let Some(next) = words.first().and_then(|w| node.child(w)) else {
            break;
        };
        rest = args_minus_first_x(&rest, &flags, next.name);
        path.push(next.name);
        node = next;
    }
    // cobra's `legacyArgs`: only the root rejects words that name nothing.
    if path.is_empty() {
        let words = strip_flags(&rest, &find_flags(tree, true));
        if let Some(word) = words.first() {
            return Err(unknown_command(tree, word));
        }
    }
    Ok((path, rest))
}

/// `unknown command "x" for "kind"` plus cobra's suggestions.
fn unknown_command(tree: &Node, word: &str) -> String {
    let mut msg = format!(
        "unknown command {} for \"kind\"",
        crate::gotext::quote(word)
    );
    let s = suggestions(tree, word);
    if !s.is_empty() {
        msg.push_str("\n\nDid you mean this?\n");
        for c in s {
            msg.push_str(&format!("\t{c}\n"));
        }
    }
    msg
}

/// cobra's `SuggestionsFor`: available commands (not `help`) within
/// Levenshtein distance 2, or starting with what was typed, ignoring case.
pub fn suggestions(tree: &Node, typed: &str) -> Vec<&'static str> {
    let typed_lower = typed.to_lowercase();
    tree.children
        .iter()
        .filter(|c| c.run != Run::Help)
        .filter(|c| {
            levenshtein(typed_lower.as_bytes(), c.name.to_lowercase().as_bytes()) <= 2
                || c.name.to_lowercase().starts_with(&typed_lower)
        })
        .map(|c| c.name)
        .collect()
}

/// Byte-wise edit distance, as cobra's `ld`.
fn levenshtein(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// cobra's `execute` for the found command.
fn execute(
    tree: &Node,
    path: &[&'static str],
    args: &[String],
    quiet_prescan: bool,
) -> Result<Invocation, Outcome> {
    let node = tree.at(path).unwrap_or(tree);
    let is_root = path.is_empty();
    let (mut flags, inherited) = help::flag_sets(node, is_root, true);
    flags.extend(inherited);
    let (parsed, err) = FlagSet::new(&flags).parse(args);
    match err {
        // `-h` is defined here, so pflag's ErrHelp cannot happen; treat it as help anyway.
        Some(ParseError::Help) => return Err(Outcome::Print(help::help(tree, path))),
        Some(ParseError::Failed(e)) => return Err(Outcome::fail(e)),
        None => {}
    }
    let values = parsed.values;
    if values.bool("help") {
        return Err(Outcome::Print(help::help(tree, path)));
    }
    if is_root && values.bool("version") {
        return Err(Outcome::Print(format!(
            "kind version {}\n",
            super::KIND_COMPAT_VERSION
        )));
    }
    let positional = parsed.args;
    // The root is not runnable: cobra prints its help before checking arguments.
    if node.run == Run::Root {
        return Err(Outcome::Print(help::help(tree, path)));
    }
    validate_args(&node.args, path, &positional).map_err(Outcome::fail)?;
    match node.run {
        Run::Root | Run::Group => Err(Outcome::Fail {
            stdout: help::help(tree, path),
            error: "Subcommand is required".to_string(),
        }),
        Run::Help => Err(help_command(tree, &positional)),
        Run::Leaf(command) => Ok(Invocation {
            command,
            path: path.to_vec(),
            quiet: values.bool("quiet"),
            verbosity: values.int32("verbosity"),
            flags: values,
            args: positional,
            quiet_prescan,
        }),
    }
}

fn validate_args(rule: &ArgsRule, path: &[&str], args: &[String]) -> Result<(), String> {
    match rule {
        ArgsRule::Unchecked => Ok(()),
        ArgsRule::None => match args.first() {
            Some(a) => Err(format!(
                "unknown command {} for {}",
                crate::gotext::quote(a),
                crate::gotext::quote(&format!("kind {}", path.join(" ")))
            )),
            None => Ok(()),
        },
        ArgsRule::AtMost(n) if args.len() > *n => Err(format!(
            "accepts at most {n} arg(s), received {}",
            args.len()
        )),
        ArgsRule::AtMost(_) => Ok(()),
        ArgsRule::AtLeastOne(msg) if args.is_empty() => Err(msg.to_string()),
        ArgsRule::AtLeastOne(_) => Ok(()),
    }
}

/// cobra's `help [command]`: that command's help, or
/// ``Unknown help topic [`x`]`` and the root's usage (exit 0 either way).
fn help_command(tree: &Node, args: &[String]) -> Outcome {
    match find(tree, args) {
        Ok((path, _)) => Outcome::Print(help::help(tree, &path)),
        Err(_) => Outcome::Print(format!(
            "Unknown help topic {}\n{}",
            go_sharp_q_list(args),
            help::usage(tree, &[], false)
        )),
    }
}

/// Go's `%#q` of a string slice: backquoted where Go can, else `%q`.
fn go_sharp_q_list(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| {
            let can_backquote = !s
                .chars()
                .any(|c| c == '`' || c == '\u{feff}' || (c.is_control() && c != '\t'));
            if can_backquote {
                format!("`{s}`")
            } else {
                crate::gotext::quote(s)
            }
        })
        .collect();
    format!("[{}]", quoted.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        std::iter::once("kind")
            .chain(s.split_whitespace())
            .map(String::from)
            .collect()
    }

    fn inv(s: &str) -> Invocation {
        parse(&argv(s)).unwrap_or_else(|o| panic!("{s}: {o:?}"))
    }

    fn err(s: &str) -> String {
        match parse(&argv(s)) {
            Err(Outcome::Fail { error, .. }) => error,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn flags_anywhere_and_last_wins() {
        for s in [
            "get --name x nodes",
            "get nodes --name a --name x",
            "--name x get nodes",
            "get nodes -n=x",
        ] {
            let i = inv(s);
            assert_eq!(i.command, CommandId::GetNodes, "{s}");
            assert_eq!(i.flags.string("name"), "x", "{s}");
        }
        assert_eq!(inv("get nodes --name -x").flags.string("name"), "-x");
        assert_eq!(inv("-v 3 -v 4 version").verbosity, 4);
    }

    #[test]
    fn explicit_empty_name_beats_the_environment() {
        let i = inv("get nodes --name=");
        assert_eq!(i.cluster_name(Some("foo".into())), "");
        let i = inv("get nodes");
        assert_eq!(i.cluster_name(Some("foo".into())), "foo");
        assert_eq!(i.cluster_name(Some(String::new())), "kind");
        assert_eq!(inv("create cluster").cluster_name(None), "");
    }

    #[test]
    fn booleans_with_values() {
        assert!(!inv("create cluster --retain=false").flags.bool("retain"));
        assert!(inv("get kubeconfig --internal=true").flags.bool("internal"));
        assert!(inv("delete clusters -A=true").flags.bool("all"));
        assert_eq!(
            err("get kubeconfig --internal false"),
            "unknown command \"false\" for \"kind get kubeconfig\""
        );
    }

    #[test]
    fn cobra_errors() {
        assert_eq!(
            err("create cluster -é"),
            "unknown shorthand flag: 'Ã' in -é"
        );
        assert_eq!(
            err("crate"),
            "unknown command \"crate\" for \"kind\"\n\nDid you mean this?\n\tcreate\n"
        );
        assert_eq!(err("--help --bogus"), "unknown flag: --bogus");
        assert_eq!(
            err("load dokker-image"),
            "unknown command \"dokker-image\" for \"kind load\""
        );
        assert_eq!(
            err("export kubeconfig a"),
            "unknown command \"a\" for \"kind export kubeconfig\""
        );
        assert_eq!(
            err("build node-image a b"),
            "accepts at most 1 arg(s), received 2"
        );
        assert_eq!(
            err("load docker-image"),
            "a list of image names is required"
        );
    }

    #[test]
    fn groups_print_help_then_fail() {
        match parse(&argv("get help")) {
            Err(Outcome::Fail { stdout, error }) => {
                assert!(stdout.starts_with("Gets one of"));
                assert_eq!(error, "Subcommand is required");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn help_forms() {
        let Err(Outcome::Print(p)) = parse(&argv("help bogus")) else {
            panic!()
        };
        assert!(p.starts_with("Unknown help topic [`bogus`]\nUsage:\n  kind [command]\n"));
        assert!(!p.contains("-h, --help"));
        assert_eq!(
            parse(&argv("help get nodes")),
            parse(&argv("get nodes --help"))
        );
        // cobra does not know -h while finding the command: it swallows `get`.
        assert_eq!(parse(&argv("-h get")), parse(&argv("--help")));
    }

    #[test]
    fn suggestions_like_cobra() {
        let t = root();
        assert_eq!(suggestions(&t, "crate"), ["create"]);
        assert_eq!(suggestions(&t, "ver"), ["get", "version"]);
        // `help` itself is never suggested.
        assert_eq!(suggestions(&t, "hel"), ["get"]);
        assert!(suggestions(&t, "zzzzzz").is_empty());
    }

    /// Any argv gives an answer, never a panic: words from the command
    /// tree, flags in every spelling, and junk (multi-byte letters, lone
    /// dashes, `=`, control characters), combined at random.
    #[test]
    fn no_argv_panics() {
        let pool = [
            "",
            "-",
            "--",
            "---",
            "--=",
            "-=",
            "=",
            "-é",
            "--é",
            "-éa",
            "-Aé",
            "-n",
            "-né",
            "--name",
            "--name=",
            "-n=",
            "-A",
            "-A=",
            "-A=x",
            "-Ab",
            "-h",
            "--help",
            "-h=false",
            "-q",
            "-q=",
            "-qv",
            "-v",
            "-v=",
            "-v9",
            "--verbosity=1_0",
            "--wait",
            "--wait=",
            "--wait=1.5µs",
            "--wait=.",
            "--nodes",
            "--nodes=\"",
            "--nodes=a,\"b",
            "--version",
            "kind",
            "help",
            "get",
            "nodes",
            "clusters",
            "kubeconfig",
            "create",
            "cluster",
            "delete",
            "export",
            "load",
            "docker-image",
            "image-archive",
            "build",
            "node-image",
            "completion",
            "bash",
            "fish",
            "version",
            "bogus",
            "🚀",
            "\u{0}",
            "\u{85}",
            "\t",
            "a`b",
            "\u{feff}",
            "ß",
            "-ß",
            "-\u{300}",
            "--\u{300}=1",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 7) as usize;
            let mut argv = vec!["kind".to_string()];
            for _ in 0..len {
                let r = next();
                if r % 11 == 0 {
                    // A random scalar value glued to a dash or two.
                    let c = char::from_u32((r >> 8) as u32 % 0x11_0000).unwrap_or('\u{fffd}');
                    argv.push(format!("{}{c}", &"--"[..(r >> 40) as usize % 3]));
                } else {
                    argv.push(pool[(r >> 8) as usize % pool.len()].to_string());
                }
            }
            let _ = parse(&argv);
        }
    }
}
