//! The YAML emitter: JSON values written as upstream kind writes YAML, which
//! re-serialises every patched document through go-yaml v2
//! (`sigs.k8s.io/yaml.JSONToYAML`): block style, 2-space indentation,
//! sequences inside mappings not indented, mapping keys in go-yaml's
//! "natural" order, and strings quoted only when a plain scalar would read
//! back as something else (the shared `resolve`, go-yaml v2's table).

use std::cmp::Ordering;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Map, Number, Value};

use super::resolve::{self, GoYaml, STR};

/// Serialise a JSON value as go-yaml v2 would (`yaml.Marshal` of the value
/// decoded from JSON). Always ends with a newline.
pub fn marshal(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0, false),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0, false),
        other => {
            out.push_str(&scalar_or_empty(other, false, Pos { parent: 0, col: 0 }));
            out.push('\n');
        }
    }
    out
}

/// Mapping keys sorted as go-yaml v2 sorts them.
pub fn sorted_keys(m: &Map<String, Value>) -> Vec<&String> {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort_by(|a, b| natural_cmp(a, b));
    keys
}

/// go-yaml v2's key order: rune by rune; letters compare by code point, a
/// non-letter sorts before a letter, and runs of digits compare as numbers.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    if natural_less(a, b) {
        Ordering::Less
    } else if natural_less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn natural_less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return bl;
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if ar[i] == '0' || br[i] == '0' {
            // A zero continuing a non-zero number is part of that number.
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// go-yaml v2 (without `FutureLineWrap`) folds long scalars at a space
/// once the line is past this column.
const BEST_WIDTH: usize = 80;

/// Where a scalar is written: `parent` is the column of its key or dash
/// (continuation and block lines go two further), `col` where it starts.
#[derive(Clone, Copy)]
struct Pos {
    parent: usize,
    col: usize,
}

/// Block mapping whose keys sit at column `indent`; with `inline_first` the
/// first key continues the current line (after `- `).
fn write_map(out: &mut String, m: &Map<String, Value>, indent: usize, inline_first: bool) {
    for (n, k) in sorted_keys(m).into_iter().enumerate() {
        if n > 0 || !inline_first {
            pad(out, indent);
        }
        // libyaml writes long or multi-line keys as `? key` / `: value`.
        if k.len() > 128 || k.contains(is_break) {
            out.push_str("? ");
            out.push_str(&scalar_string(
                k,
                false,
                Pos {
                    parent: indent,
                    col: indent + 2,
                },
            ));
            out.push('\n');
            pad(out, indent);
            out.push(':');
            write_after_indicator(out, &m[k], indent);
            continue;
        }
        let key = scalar_string(
            k,
            true,
            Pos {
                parent: indent,
                col: indent,
            },
        );
        out.push_str(&key);
        out.push(':');
        let col = indent + key.chars().count() + 2;
        write_value(
            out,
            &m[k],
            Pos {
                parent: indent,
                col,
            },
        );
    }
}

/// A value right after a `- ` or `? `/`: ` indicator at column `indent`:
/// collections continue on the same line two columns in.
fn write_after_indicator(out: &mut String, value: &Value, indent: usize) {
    out.push(' ');
    match value {
        Value::Object(m) if !m.is_empty() => write_map(out, m, indent + 2, true),
        Value::Array(a) if !a.is_empty() => write_seq(out, a, indent + 2, true),
        other => {
            out.push_str(&scalar_or_empty(
                other,
                false,
                Pos {
                    parent: indent,
                    col: indent + 2,
                },
            ));
            out.push('\n');
        }
    }
}

/// Block sequence whose dashes sit at column `indent`.
fn write_seq(out: &mut String, a: &[Value], indent: usize, inline_first: bool) {
    for (n, item) in a.iter().enumerate() {
        if n > 0 || !inline_first {
            pad(out, indent);
        }
        out.push('-');
        write_after_indicator(out, item, indent);
    }
}

/// The value part after `key:`.
fn write_value(out: &mut String, v: &Value, pos: Pos) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, pos.parent + 2, false);
        }
        // Sequences in mappings are not indented (`key:\n- item`).
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(out, a, pos.parent, false);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar_or_empty(other, false, pos));
            out.push('\n');
        }
    }
}

fn scalar_or_empty(v: &Value, key: bool, pos: Pos) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_string(n),
        Value::String(s) => scalar_string(s, key, pos),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
    }
}

fn number_string(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        // Upstream passes values through JSON text, where an integral float
        // below 1e21 prints without a fraction and reads back as an integer.
        let f = n.as_f64().unwrap_or(0.0);
        if f.fract() == 0.0 && f.abs() < 1e21 {
            if f >= i64::MIN as f64 && f < i64::MAX as f64 {
                return (f as i64).to_string();
            }
            if f >= 0.0 && f < u64::MAX as f64 {
                return (f as u64).to_string();
            }
        }
        go_format_float(f)
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)` with YAML's names for the
/// non-finite values.
pub fn go_format_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-tripping digits, as Go's -1 precision.
    let e = format!("{:e}", f.abs());
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let sign = if f < 0.0 { "-" } else { "" };
    // Shortest formatting switches to %e outside [1e-4, 1e6).
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs());
    }
    // %f form with just enough digits.
    let dp = exp + 1; // position of the decimal point within digits
    let s = if dp <= 0 {
        format!("0.{}{}", "0".repeat((-dp) as usize), digits)
    } else if dp as usize >= digits.len() {
        format!("{}{}", digits, "0".repeat(dp as usize - digits.len()))
    } else {
        format!("{}.{}", &digits[..dp as usize], &digits[dp as usize..])
    };
    format!("{sign}{s}")
}

/// A string scalar for a value (`key == false`) or a mapping key, at the
/// left margin with nothing before it on the line.
pub fn scalar(s: &str, key: bool) -> String {
    scalar_string(s, key, Pos { parent: 0, col: 0 })
}

/// How a string scalar is written: plain when go-yaml's resolver would
/// read it back as a string and libyaml allows it plain; otherwise single-
/// or double-quoted, or a literal block for multi-line values. Values (not
/// keys) are folded at spaces past column 80.
fn scalar_string(s: &str, key: bool, pos: Pos) -> String {
    let a = analyze(s);
    let wants_literal = s.contains('\n');
    let plain_ok = !wants_literal && resolve::plain(s, GoYaml::V2).0 == STR && !is_base60_float(s);
    if wants_literal {
        if a.block_allowed && !key {
            return literal(s, pos.parent);
        }
        return double_quoted(s, !key, pos);
    }
    if plain_ok {
        if key && a.multiline {
            return double_quoted(s, false, pos);
        }
        if a.block_plain_allowed && !(s.is_empty() && key) {
            return if key { s.to_string() } else { plain(s, pos) };
        }
        if a.single_quoted_allowed {
            return single_quoted(s, !key, pos);
        }
    }
    double_quoted(s, !key, pos)
}

/// Emits text while tracking the column, for line folding.
struct Folder {
    out: String,
    col: usize,
    cont_indent: usize,
}

impl Folder {
    fn new(pos: Pos) -> Folder {
        Folder {
            out: String::new(),
            col: pos.col,
            cont_indent: pos.parent + 2,
        }
    }
    fn push(&mut self, s: &str) {
        self.out.push_str(s);
        self.col += s.chars().count();
    }
    fn fold(&mut self) {
        self.out.push('\n');
        pad(&mut self.out, self.cont_indent);
        self.col = self.cont_indent;
    }
}

fn plain(s: &str, pos: Pos) -> String {
    let mut f = Folder::new(pos);
    let chars: Vec<char> = s.chars().collect();
    let mut spaces = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            if !spaces && f.col > BEST_WIDTH && chars.get(i + 1) != Some(&' ') {
                f.fold();
            } else {
                f.push(" ");
            }
            spaces = true;
        } else {
            f.push(c.encode_utf8(&mut [0; 4]));
            spaces = false;
        }
    }
    f.out
}

fn single_quoted(s: &str, allow_breaks: bool, pos: Pos) -> String {
    let mut f = Folder::new(pos);
    f.push("'");
    let chars: Vec<char> = s.chars().collect();
    let mut spaces = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let inner = i > 0 && i + 1 < chars.len() && chars[i + 1] != ' ';
            if allow_breaks && !spaces && f.col > BEST_WIDTH && inner {
                f.fold();
            } else {
                f.push(" ");
            }
            spaces = true;
        } else {
            let mut buf = [0; 4];
            f.push(if c == '\'' {
                "''"
            } else {
                c.encode_utf8(&mut buf)
            });
            spaces = false;
        }
    }
    f.push("'");
    f.out
}

struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

// libyaml's yaml_emitter_analyze_scalar, block context only.
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let (mut special, mut line_breaks) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    let mut preceded_by_ws = true;
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let followed_by_ws = next.is_none_or(|n| n == ' ' || n == '\t' || is_break(n));
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if !printable(c) {
            special = true;
        }
        let last = i + 1 == chars.len();
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= last;
            break_space |= prev_break;
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= last;
            space_break |= prev_space;
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = c == ' ' || c == '\t' || is_break(c);
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

fn double_quoted(s: &str, allow_breaks: bool, pos: Pos) -> String {
    let mut f = Folder::new(pos);
    f.push("\"");
    let chars: Vec<char> = s.chars().collect();
    let mut spaces = false;
    for (i, &c) in chars.iter().enumerate() {
        let u = c as u32;
        if !printable(c) || u == 0xFEFF || is_break(c) || c == '"' || c == '\\' {
            let esc = match c {
                '\0' => "0".to_string(),
                '\u{7}' => "a".into(),
                '\u{8}' => "b".into(),
                '\t' => "t".into(),
                '\n' => "n".into(),
                '\u{b}' => "v".into(),
                '\u{c}' => "f".into(),
                '\r' => "r".into(),
                '\u{1b}' => "e".into(),
                '"' => "\"".into(),
                '\\' => "\\".into(),
                '\u{85}' => "N".into(),
                '\u{a0}' => "_".into(),
                '\u{2028}' => "L".into(),
                '\u{2029}' => "P".into(),
                _ if u <= 0xFF => format!("x{u:02X}"),
                _ if u <= 0xFFFF => format!("u{u:04X}"),
                _ => format!("U{u:08X}"),
            };
            f.push("\\");
            f.push(&esc);
            spaces = false;
        } else if c == ' ' {
            if allow_breaks && !spaces && f.col > BEST_WIDTH && i != 0 && i + 1 != chars.len() {
                f.fold();
                if chars.get(i + 1) == Some(&' ') {
                    f.push("\\");
                }
            } else {
                f.push(" ");
            }
            spaces = true;
        } else {
            f.push(c.encode_utf8(&mut [0; 4]));
            spaces = false;
        }
    }
    f.push("\"");
    f.out
}

/// `|` block scalar with libyaml's indentation and chomping indicators.
fn literal(s: &str, indent: usize) -> String {
    let mut out = String::from("|");
    if s.starts_with(' ') || s.starts_with(is_break) {
        out.push('2');
    }
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if !is_break(chars[n - 1]) {
        out.push('-');
    } else if n == 1 || is_break(chars[n - 2]) {
        out.push('+');
    }
    out.push('\n');
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(&mut out, indent + 2);
            out.push_str(line);
        }
        out.push('\n');
    }
    // The caller appends the newline that ends the node.
    out.pop();
    out
}

fn base60_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$").unwrap())
}

fn is_base60_float(s: &str) -> bool {
    !s.is_empty() && base60_re().is_match(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_are_quoted_only_when_they_would_read_as_another_type() {
        let cases = [
            ("plain", "plain"),
            ("y", "\"y\""),
            ("N", "\"N\""),
            ("true", "\"true\""),
            ("yes", "\"yes\""),
            ("Off", "\"Off\""),
            ("4", "\"4\""),
            ("0x1F", "\"0x1F\""),
            ("1_000", "\"1_000\""),
            ("1.5", "\"1.5\""),
            ("1e3", "\"1e3\""),
            (".5", "\".5\""),
            (".foo", ".foo"),
            ("", "\"\""),
            ("~", "\"~\""),
            ("null", "\"null\""),
            ("1:20", "\"1:20\""),
            ("2001-12-14", "\"2001-12-14\""),
            ("0%", "0%"),
            ("10.244.0.0/16", "10.244.0.0/16"),
            ("127.0.0.1", "127.0.0.1"),
            ("v1.37.0-rc.1", "v1.37.0-rc.1"),
            ("kind-control-plane:6443", "kind-control-plane:6443"),
            (
                "unix:///run/containerd/containerd.sock",
                "unix:///run/containerd/containerd.sock",
            ),
            ("::1", "::1"),
            ("::", "'::'"),
            ("a: b", "'a: b'"),
            ("@type", "'@type'"),
            ("- x", "'- x'"),
            ("-x", "-x"),
            ("#x", "'#x'"),
            ("a #b", "'a #b'"),
            ("a#b", "a#b"),
            (" lead", "' lead'"),
            ("trail ", "'trail '"),
            ("it's: x", "'it''s: x'"),
            ("---", "'---'"),
            ("tab\there", "\"tab\\there\""),
            ("say \"hi\"", "say \"hi\""),
            ("\"q\"", "'\"q\"'"),
            ("héllo", "héllo"),
            ("a:", "'a:'"),
            ("x:", "'x:'"),
            (":x", ":x"),
            ("?x", "?x"),
            ("? x", "'? x'"),
            ("%x", "'%x'"),
            ("a,b", "a,b"),
            ("[x", "'[x'"),
            ("🗿", "\"\\U0001F5FF\""),
            // What go-yaml v2's resolver reads as strings is written plain:
            // out-of-range floats, impossible dates, a lone merge key.
            ("1e400", "1e400"),
            ("2001-02-30", "2001-02-30"),
            ("<<", "<<"),
        ];
        for (s, want) in cases {
            assert_eq!(scalar(s, false), want, "{s:?}");
        }
    }

    #[test]
    fn multi_line_strings_use_literal_blocks() {
        let v = json!({"a": "x\ny", "b": "x\ny\n", "c": "x\n\n", "k\nk": [1]});
        assert_eq!(
            marshal(&v),
            "a: |-\n  x\n  y\nb: |\n  x\n  y\nc: |+\n  x\n\n? |-\n  k\n  k\n: - 1\n"
        );
    }

    #[test]
    fn literal_blocks_indent_under_their_parent() {
        // Cross-checked against libyaml's emitter (via PyYAML) with literal style forced.
        let v = json!({"a": ["x\ny", {"b": "p\nq\n", "c": {"d": "m\n\n"}}], "z": " lead\nx"});
        assert_eq!(marshal(&v), "a:\n- |-\n  x\n  y\n- b: |\n    p\n    q\n  c:\n    d: |+\n      m\n\nz: |2-\n   lead\n  x\n");
    }

    #[test]
    fn long_values_fold_at_spaces_past_column_80() {
        let words: Vec<String> = (0..40).map(|i| format!("word{i}")).collect();
        let words = words.join(" ");
        let v = json!({
            "key": words,
            "nested": {"k": format!("{words}: x")},
            "list": [words, {"inner": format!("say \"{words}\"\t")}],
            "dq": format!("tab\t{words}"),
        });
        // Plain and single-quoted folding cross-checked against libyaml's
        // emitter (PyYAML, width 80); double-quoted folding follows go-yaml,
        // which breaks at the space itself without escaping the line end.
        let want = "\
dq: \"tab\\tword0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11
  word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23
  word24 word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35
  word36 word37 word38 word39\"
key: word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12
  word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24
  word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35 word36
  word37 word38 word39
list:
- word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12
  word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24
  word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35 word36
  word37 word38 word39
- inner: \"say \\\"word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10
    word11 word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22
    word23 word24 word25 word26 word27 word28 word29 word30 word31 word32 word33 word34
    word35 word36 word37 word38 word39\\\"\\t\"
nested:
  k: 'word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12
    word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24
    word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35 word36
    word37 word38 word39: x'
";
        assert_eq!(marshal(&v), want);
        // Keys up to 128 bytes never fold; longer ones become complex keys.
        let key = words[..120].to_string();
        assert_eq!(marshal(&json!({ key.clone(): 1 })), format!("{key}: 1\n"));
        let want = "\
? word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12
  word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24
  word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35 word36
  word37 word38 word39
: a: 1
  b:
  - x
";
        assert_eq!(
            marshal(&json!({ words.clone(): {"a": 1, "b": ["x"]} })),
            want
        );
    }

    #[test]
    fn keys_sort_in_go_yaml_natural_order() {
        let mut keys = vec![
            "b", "a10", "a2", "A", "_x", "a", "1", "10", "2", "a-b", "a.b", "ab", "a01", "a1",
        ];
        keys.sort_by(|a, b| natural_cmp(a, b));
        // Digit runs compare as numbers (a non-digit counts as 0), so `_x`
        // sorts before `1`, and `a1` before `a01` (shorter run first).
        assert_eq!(
            keys,
            vec!["_x", "1", "2", "10", "A", "a", "a-b", "a.b", "a1", "a01", "a2", "a10", "ab", "b"]
        );
        // Letter vs non-letter: the non-letter first, unlike byte order.
        assert_eq!(natural_cmp("a_", "aa"), Ordering::Less);
        assert_eq!(
            natural_cmp("imagefs.available", "nodefs.available"),
            Ordering::Less
        );
    }

    #[test]
    fn nested_structures_use_block_style() {
        let v = json!({
            "list": ["a", {"k": 1, "j": [1, 2]}, [3, 4], {}, []],
            "map": {"inner": {"x": null}, "empty": {}, "emptyList": []},
            "n": 6443, "f": 0.25, "big": 1e21, "neg": -1.5, "b": false, "whole": 1e6
        });
        let want = "\
b: false
big: 1e+21
f: 0.25
list:
- a
- j:
  - 1
  - 2
  k: 1
- - 3
  - 4
- {}
- []
map:
  empty: {}
  emptyList: []
  inner:
    x: null
\"n\": 6443
neg: -1.5
whole: 1000000
";
        assert_eq!(marshal(&v), want);
    }

    #[test]
    fn top_level_scalars_and_empty_documents() {
        assert_eq!(marshal(&Value::Null), "null\n");
        assert_eq!(marshal(&json!({})), "{}\n");
        assert_eq!(marshal(&json!(["a"])), "- a\n");
    }

    #[test]
    fn floats_format_like_go() {
        let cases = [
            (1.0, "1"),
            (0.5, "0.5"),
            (123456.0, "123456"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (0.0, "0"),
        ];
        for (f, want) in cases {
            assert_eq!(go_format_float(f), want, "{f}");
        }
    }
}
