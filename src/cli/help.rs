//! Help and usage text in cobra v1.8's default templates, so that `kind …
//! --help` reads exactly like upstream's: description, `Usage:`,
//! `Available Commands:`, `Flags:`, `Global Flags:` and the closing hint.

use super::pflag::{help_flag, version_flag, FlagKind, FlagSpec};
use super::tree::{global_flags, Node, Run};

/// cobra's `minNamePadding`.
const MIN_NAME_PADDING: usize = 11;

/// The flags a command shows as its own and as inherited.
/// `with_defaults`: cobra has added `-h/--help` (and the root's
/// `--version`), which it does only for the command that runs.
pub fn flag_sets(
    node: &Node,
    is_root: bool,
    with_defaults: bool,
) -> (Vec<FlagSpec>, Vec<FlagSpec>) {
    let mut local = node.flags.clone();
    if with_defaults {
        local.push(help_flag(node.name));
        if is_root {
            local.push(version_flag());
        }
    }
    let inherited = if is_root { Vec::new() } else { global_flags() };
    (local, inherited)
}

/// `(Long or Short)` + usage: what `--help` prints.
pub fn help(root: &Node, path: &[&str]) -> String {
    let node = root.at(path).unwrap_or(root);
    let text = if node.long.is_empty() {
        node.short
    } else {
        node.long
    };
    let text = text.trim_end();
    let mut out = String::new();
    if !text.is_empty() {
        out.push_str(text);
        out.push_str("\n\n");
    }
    out.push_str(&usage(root, path, true));
    out
}

/// cobra's usage template.
pub fn usage(root: &Node, path: &[&str], with_defaults: bool) -> String {
    let node = root.at(path).unwrap_or(root);
    let is_root = path.is_empty();
    let command_path = std::iter::once("kind")
        .chain(path.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let (local, inherited) = flag_sets(node, is_root, with_defaults);
    let has_subcommands = !node.children.is_empty();

    let mut out = String::from("Usage:");
    if node.run != Run::Root {
        out.push_str("\n  ");
        out.push_str(&command_path);
        if !node.use_args.is_empty() {
            out.push(' ');
            out.push_str(node.use_args);
        }
        if !local.is_empty() || !inherited.is_empty() {
            out.push_str(" [flags]");
        }
    }
    if has_subcommands {
        out.push_str(&format!("\n  {command_path} [command]"));
        out.push_str("\n\nAvailable Commands:");
        let pad = node
            .children
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(0)
            .max(MIN_NAME_PADDING);
        for c in &node.children {
            out.push_str(&format!("\n  {:<pad$} {}", c.name, c.short));
        }
    }
    if !local.is_empty() {
        out.push_str("\n\nFlags:\n");
        out.push_str(flag_usages(&local).trim_end());
    }
    if !inherited.is_empty() {
        out.push_str("\n\nGlobal Flags:\n");
        out.push_str(flag_usages(&inherited).trim_end());
    }
    if has_subcommands {
        out.push_str(&format!(
            "\n\nUse \"{command_path} [command] --help\" for more information about a command."
        ));
    }
    out.push('\n');
    out
}

/// pflag's `FlagUsages`: sorted by name, usage text aligned three spaces
/// after the longest flag column, non-zero defaults appended.
pub fn flag_usages(specs: &[FlagSpec]) -> String {
    let mut specs: Vec<&FlagSpec> = specs.iter().collect();
    specs.sort_by_key(|s| s.name);
    let lines: Vec<(String, String)> = specs
        .iter()
        .map(|s| {
            let mut left = match s.short {
                Some(c) => format!("  -{c}, --{}", s.name),
                None => format!("      --{}", s.name),
            };
            let ty = s.kind.type_name();
            if !ty.is_empty() {
                left.push(' ');
                left.push_str(ty);
            }
            let mut usage = s.usage.to_string();
            let zero = match s.kind {
                FlagKind::Bool => s.default == "false",
                FlagKind::Duration => s.default == "0" || s.default == "0s",
                FlagKind::Int32 => s.default == "0",
                FlagKind::String => s.default.is_empty(),
                FlagKind::StringSlice => s.default == "[]",
            };
            if !zero {
                if s.kind == FlagKind::String {
                    usage.push_str(&format!(" (default {})", crate::gotext::quote(s.default)));
                } else {
                    usage.push_str(&format!(" (default {})", s.default));
                }
            }
            (left, usage)
        })
        .collect();
    let width = lines.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (left, usage) in lines {
        out.push_str(&format!("{left:<width$}   {usage}\n"));
    }
    out
}
