//! The YAML parser: the first document of a stream as a tree of positioned
//! nodes, as go-yaml v3 (which upstream kind decodes its config with) builds
//! it; plain scalars are typed by the shared `resolve`.
//!
//! Upstream kind decodes its config with go-yaml v3, a port of libyaml. We
//! read events from `unsafe-libyaml` (a port of the same C library, already
//! underneath serde_yaml) so that syntax errors, line numbers and scalar
//! styles are the ones go-yaml sees, and build the node tree the way go-yaml's
//! `parser` does (anchors, aliases, tags).

use std::collections::HashMap;
use std::mem::MaybeUninit;

use unsafe_libyaml as unsafe_yaml;

use super::resolve::{plain, short_tag, GoYaml, MAP, MERGE, NULL, SEQ, STR};

pub type NodeId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Scalar,
    Sequence,
    Mapping,
    Alias,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub kind: Kind,
    /// As go-yaml records it: an explicit tag in short form, else `!!str` for
    /// quoted/block scalars, `!!seq`/`!!map`, else the resolved tag of a
    /// plain scalar (`!!merge` for a plain `<<`). Empty for aliases.
    pub tag: String,
    /// Scalar text, or the anchor name of an alias.
    pub value: String,
    /// 1-based line of the node's first event.
    pub line: usize,
    /// Sequence items, or mapping keys and values interleaved.
    pub children: Vec<NodeId>,
    /// Target of an alias.
    pub alias: Option<NodeId>,
}

/// A parsed first document; `root` is `None` for an empty stream.
#[derive(Debug, Default)]
pub struct Document {
    pub nodes: Vec<Node>,
    pub root: Option<NodeId>,
}

impl Document {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// go-yaml's `Node.ShortTag`.
    pub fn short_tag(&self, id: NodeId) -> &str {
        let n = &self.nodes[id];
        match n.kind {
            Kind::Alias => n.alias.map_or("", |a| self.short_tag(a)),
            _ => &n.tag,
        }
    }

    pub fn is_null(&self, id: NodeId) -> bool {
        self.short_tag(id) == NULL
    }

    /// A scalar that is a string whatever its text (quoted, block, `!!str`).
    pub fn is_indicated_string(&self, id: NodeId) -> bool {
        let n = &self.nodes[id];
        n.kind == Kind::Scalar && n.tag == STR
    }

    /// A `<<` merge key.
    pub fn is_merge_key(&self, id: NodeId) -> bool {
        let n = &self.nodes[id];
        n.kind == Kind::Scalar && n.value == "<<" && n.tag == MERGE
    }
}

/// go-yaml's nesting limit, kept so hostile input cannot exhaust memory.
const MAX_DEPTH: usize = 10000;

/// Parse the first document of `input`. The error is go-yaml's text
/// (`yaml: line N: <problem>`); later documents are not looked at beyond
/// what the parser needs to see where the first one ends.
pub fn parse_first_document(input: &[u8]) -> Result<Document, String> {
    let lookahead = Lookahead::scan(input);
    match build_tree(input) {
        Ok((doc, end)) => match lookahead.error_at(end, None) {
            Some(scanner_error) => Err(scanner_error),
            None => Ok(doc),
        },
        Err(stop) => Err(lookahead
            .error_at(stop.token_start, Some(stop.message))
            .unwrap_or_default()),
    }
}

/// go-yaml's scanner keeps two tokens more in hand than libyaml's, so a
/// scanner error up to two tokens past the point where the parser stops
/// (with an error, or at the end of the first document) is the one go-yaml
/// reports. One token-only pass over the input tells us where, if anywhere,
/// the scanner fails.
struct Lookahead {
    /// Start offsets of the tokens scanned before any scanner error, and
    /// whether each is a zero-width STREAM-START or BLOCK-END.
    tokens: Vec<(u64, bool)>,
    scanner_error: Option<String>,
}

impl Lookahead {
    fn scan(input: &[u8]) -> Self {
        let mut reader = EventReader::new(input);
        let mut tokens = Vec::new();
        loop {
            match reader.next_token() {
                Ok(Some(token)) => tokens.push(token),
                Ok(None) => {
                    return Lookahead {
                        tokens,
                        scanner_error: None,
                    }
                }
                Err(e) => {
                    return Lookahead {
                        tokens,
                        scanner_error: Some(e.message),
                    }
                }
            }
        }
    }

    /// The error go-yaml reports when the parser stops at the token starting
    /// at `token_start`, having found `message` (`None`: the first document
    /// ended there without error).
    fn error_at(&self, token_start: u64, message: Option<String>) -> Option<String> {
        if let Some(scanner_error) = &self.scanner_error {
            // Zero-width tokens share offsets. STREAM-START and BLOCK-ENDs
            // among them were consumed by the time the parser stops; it stops
            // at the next one.
            let at_offset = |&&(start, _): &&(u64, bool)| start == token_start;
            let stopped_at = self
                .tokens
                .iter()
                .position(|t| at_offset(&t) && !t.1)
                .or_else(|| self.tokens.iter().rposition(|t| at_offset(&t)));
            let failed_token = self.tokens.len();
            if stopped_at.is_none_or(|t| failed_token <= t + 2) {
                return Some(scanner_error.clone());
            }
        }
        message
    }
}

/// Where and why building the tree failed.
struct Stop {
    token_start: u64,
    message: String,
}

impl From<ParseError> for Stop {
    fn from(e: ParseError) -> Self {
        Stop {
            token_start: e.token_start,
            message: e.message,
        }
    }
}

/// The tree of the first document, and the offset of the token that ended it.
fn build_tree(input: &[u8]) -> Result<(Document, u64), Stop> {
    let mut events = EventReader::new(input);
    let fail = |ev: &Event, message: String| Stop {
        token_start: ev.token_start,
        message,
    };
    match events.next()? {
        Event {
            kind: EventKind::StreamStart,
            ..
        } => {}
        ev => return Err(fail(&ev, "yaml: expected STREAM-START".into())),
    }
    let mut doc = Document::default();
    match events.next()? {
        Event {
            kind: EventKind::StreamEnd,
            token_start,
            ..
        } => return Ok((doc, token_start)),
        Event {
            kind: EventKind::DocumentStart,
            ..
        } => {}
        ev => return Err(fail(&ev, "yaml: expected DOCUMENT-START".into())),
    }

    let mut anchors: HashMap<String, NodeId> = HashMap::new();
    let mut open: Vec<NodeId> = Vec::new();
    loop {
        let ev = events.next()?;
        let (line, token_start) = (ev.line, ev.token_start);
        let fail = |message: String| Stop {
            token_start,
            message,
        };
        let (kind, tag, value, anchor) = match ev.kind {
            EventKind::Scalar {
                anchor,
                tag,
                value,
                quoted,
            } => {
                let tag = match explicit_tag(&tag) {
                    Some(t) => t,
                    None if quoted => STR.to_string(),
                    None if value == "<<" => MERGE.to_string(),
                    None => resolve_plain_tag(&value),
                };
                (Kind::Scalar, tag, value, anchor)
            }
            EventKind::SequenceStart { anchor, tag } => (
                Kind::Sequence,
                explicit_tag(&tag).unwrap_or_else(|| SEQ.into()),
                String::new(),
                anchor,
            ),
            EventKind::MappingStart { anchor, tag } => (
                Kind::Mapping,
                explicit_tag(&tag).unwrap_or_else(|| MAP.into()),
                String::new(),
                anchor,
            ),
            EventKind::Alias { anchor } => (Kind::Alias, String::new(), anchor, None),
            EventKind::SequenceEnd | EventKind::MappingEnd => {
                open.pop();
                if open.is_empty() {
                    break;
                }
                continue;
            }
            _ => return Err(fail("yaml: unexpected event inside a document".into())),
        };
        let alias = if kind == Kind::Alias {
            match anchors.get(&value) {
                Some(&target) => Some(target),
                None => return Err(fail(format!("yaml: unknown anchor '{value}' referenced"))),
            }
        } else {
            None
        };
        let id = doc.nodes.len();
        doc.nodes.push(Node {
            kind,
            tag,
            value,
            line,
            children: Vec::new(),
            alias,
        });
        // Anchors are visible from the moment their node starts, as in go-yaml
        // (so an alias inside its own anchor is a cycle the decoder reports).
        if let Some(a) = anchor {
            anchors.insert(a, id);
        }
        match open.last() {
            Some(&parent) => doc.nodes[parent].children.push(id),
            None => doc.root = Some(id),
        }
        if matches!(kind, Kind::Sequence | Kind::Mapping) {
            if open.len() >= MAX_DEPTH {
                return Err(fail(format!(
                    "yaml: line {line}: exceeded max depth of {MAX_DEPTH}"
                )));
            }
            open.push(id);
        } else if open.is_empty() {
            break;
        }
    }
    match events.next()? {
        Event {
            kind: EventKind::DocumentEnd,
            token_start,
            ..
        } => Ok((doc, token_start)),
        ev => Err(fail(&ev, "yaml: expected DOCUMENT-END".into())),
    }
}

/// An explicit tag, shortened; the non-specific `!` counts as none.
fn explicit_tag(tag: &Option<String>) -> Option<String> {
    match tag.as_deref() {
        None | Some("") | Some("!") => None,
        Some(t) => Some(short_tag(t).to_string()),
    }
}

fn resolve_plain_tag(value: &str) -> String {
    // Resolution without an explicit tag cannot fail.
    plain(value, GoYaml::V3).0.to_string()
}

// ---------------------------------------------------------------------------
// libyaml event reading

struct Event {
    kind: EventKind,
    line: usize,
    /// Offset of the token the event came from.
    token_start: u64,
}

/// A libyaml failure: go-yaml's text and the offset of the problem token.
struct ParseError {
    message: String,
    token_start: u64,
}

enum EventKind {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    Alias {
        anchor: String,
    },
    Scalar {
        anchor: Option<String>,
        tag: Option<String>,
        value: String,
        quoted: bool,
    },
    SequenceStart {
        anchor: Option<String>,
        tag: Option<String>,
    },
    SequenceEnd,
    MappingStart {
        anchor: Option<String>,
        tag: Option<String>,
    },
    MappingEnd,
}

/// Owns a libyaml parser reading from a borrowed buffer.
struct EventReader<'a> {
    parser: Box<MaybeUninit<unsafe_yaml::yaml_parser_t>>,
    _input: &'a [u8],
}

impl<'a> EventReader<'a> {
    fn new(input: &'a [u8]) -> Self {
        let mut parser = Box::new(MaybeUninit::<unsafe_yaml::yaml_parser_t>::uninit());
        // SAFETY: initialize fills the boxed (address-stable) parser; the
        // input outlives the reader, which is the only user of the parser.
        unsafe {
            let p = parser.as_mut_ptr();
            if unsafe_yaml::yaml_parser_initialize(p).fail {
                panic!("libyaml: out of memory initialising the parser");
            }
            unsafe_yaml::yaml_parser_set_input_string(p, input.as_ptr(), input.len() as u64);
        }
        EventReader {
            parser,
            _input: input,
        }
    }

    fn next(&mut self) -> Result<Event, ParseError> {
        let mut event = MaybeUninit::<unsafe_yaml::yaml_event_t>::uninit();
        // SAFETY: the parser was initialised in `new`; a successfully parsed
        // event is copied out and then released with yaml_event_delete.
        unsafe {
            let p = self.parser.as_mut_ptr();
            if (&*p).error != unsafe_yaml::YAML_NO_ERROR
                || unsafe_yaml::yaml_parser_parse(p, event.as_mut_ptr()).fail
            {
                return Err(self.error());
            }
            let ev = event.as_mut_ptr();
            let out = convert(&*ev);
            unsafe_yaml::yaml_event_delete(ev);
            Ok(out)
        }
    }

    /// The start offset of the next token and whether it is a STREAM-START
    /// or BLOCK-END; `None` at the end of the stream.
    fn next_token(&mut self) -> Result<Option<(u64, bool)>, ParseError> {
        let mut token = MaybeUninit::<unsafe_yaml::yaml_token_t>::uninit();
        // SAFETY: as in `next`; the token is released after reading its mark.
        unsafe {
            let p = self.parser.as_mut_ptr();
            if (&*p).error != unsafe_yaml::YAML_NO_ERROR
                || unsafe_yaml::yaml_parser_scan(p, token.as_mut_ptr()).fail
            {
                return Err(self.error());
            }
            let t = token.as_mut_ptr();
            let out = ((*t).type_ != unsafe_yaml::YAML_STREAM_END_TOKEN).then_some((
                (*t).start_mark.index,
                matches!(
                    (*t).type_,
                    unsafe_yaml::YAML_BLOCK_END_TOKEN | unsafe_yaml::YAML_STREAM_START_TOKEN
                ),
            ));
            unsafe_yaml::yaml_token_delete(t);
            Ok(out)
        }
    }

    /// go-yaml's `parser.fail`: the context line (else the problem line),
    /// 0-based but bumped by one for scanner errors, omitted when zero.
    fn error(&self) -> ParseError {
        // SAFETY: the parser is initialised; problem/context are C strings or null.
        let (scanner, problem, problem_line, context_line, token_start) = unsafe {
            let p = &*self.parser.as_ptr();
            (
                p.error == unsafe_yaml::YAML_SCANNER_ERROR,
                c_string(p.problem as *const u8),
                p.problem_mark.line as usize,
                p.context_mark.line as usize,
                p.problem_mark.index,
            )
        };
        let line = if context_line != 0 {
            context_line
        } else {
            problem_line
        };
        let line = if line != 0 && scanner { line + 1 } else { line };
        let where_ = if line != 0 {
            format!("line {line}: ")
        } else {
            String::new()
        };
        // go-yaml's port keeps a typo of an older libyaml.
        let problem = problem
            .filter(|p| !p.is_empty())
            .map(|p| p.replace("hexadecimal", "hexdecimal"));
        let message = format!(
            "yaml: {where_}{}",
            problem
                .as_deref()
                .unwrap_or("unknown problem parsing YAML content")
        );
        ParseError {
            message,
            token_start,
        }
    }
}

impl Drop for EventReader<'_> {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, deleted exactly once.
        unsafe { unsafe_yaml::yaml_parser_delete(self.parser.as_mut_ptr()) }
    }
}

/// SAFETY: `ptr` is null or a NUL-terminated string owned by libyaml.
unsafe fn c_string(ptr: *const u8) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    let cstr = unsafe { std::ffi::CStr::from_ptr(ptr as *const std::ffi::c_char) };
    Some(String::from_utf8_lossy(cstr.to_bytes()).into_owned())
}

/// SAFETY: `ev` is an event just produced by yaml_parser_parse.
unsafe fn convert(ev: &unsafe_yaml::yaml_event_t) -> Event {
    let line = ev.start_mark.line as usize + 1;
    let token_start = ev.start_mark.index;
    let kind = unsafe {
        match ev.type_ {
            unsafe_yaml::YAML_STREAM_START_EVENT => EventKind::StreamStart,
            unsafe_yaml::YAML_STREAM_END_EVENT => EventKind::StreamEnd,
            unsafe_yaml::YAML_DOCUMENT_START_EVENT => EventKind::DocumentStart,
            unsafe_yaml::YAML_DOCUMENT_END_EVENT => EventKind::DocumentEnd,
            unsafe_yaml::YAML_ALIAS_EVENT => EventKind::Alias {
                anchor: c_string(ev.data.alias.anchor).unwrap_or_default(),
            },
            unsafe_yaml::YAML_SCALAR_EVENT => {
                let s = &ev.data.scalar;
                let bytes = std::slice::from_raw_parts(s.value, s.length as usize);
                EventKind::Scalar {
                    anchor: c_string(s.anchor),
                    tag: c_string(s.tag),
                    value: String::from_utf8_lossy(bytes).into_owned(),
                    quoted: s.style != unsafe_yaml::YAML_PLAIN_SCALAR_STYLE,
                }
            }
            unsafe_yaml::YAML_SEQUENCE_START_EVENT => EventKind::SequenceStart {
                anchor: c_string(ev.data.sequence_start.anchor),
                tag: c_string(ev.data.sequence_start.tag),
            },
            unsafe_yaml::YAML_SEQUENCE_END_EVENT => EventKind::SequenceEnd,
            unsafe_yaml::YAML_MAPPING_START_EVENT => EventKind::MappingStart {
                anchor: c_string(ev.data.mapping_start.anchor),
                tag: c_string(ev.data.mapping_start.tag),
            },
            _ => EventKind::MappingEnd,
        }
    };
    Event {
        kind,
        line,
        token_start,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::resolve::INT;

    #[test]
    fn tree_records_lines_tags_and_aliases() {
        let doc = parse_first_document(b"a: &x 1\nb: \"2\"\nc: [*x]\n---\nd: 4\n").unwrap();
        let root = doc.node(doc.root.unwrap());
        assert_eq!(root.kind, Kind::Mapping);
        assert_eq!(root.children.len(), 6);
        let one = doc.node(root.children[1]);
        assert_eq!((one.tag.as_str(), one.line), (INT, 1));
        assert_eq!(doc.node(root.children[3]).tag, STR);
        let seq = doc.node(root.children[5]);
        assert_eq!(seq.line, 3);
        assert_eq!(doc.node(seq.children[0]).alias, Some(root.children[1]));
    }

    #[test]
    fn syntax_errors_use_go_yaml_text() {
        assert_eq!(
            parse_first_document(b"\":").unwrap_err(),
            "yaml: found unexpected end of stream"
        );
        assert_eq!(
            parse_first_document(b"a: b\nc: d: e\n").unwrap_err(),
            "yaml: line 2: mapping values are not allowed in this context"
        );
        assert_eq!(
            parse_first_document(b"a: *nope\n").unwrap_err(),
            "yaml: unknown anchor 'nope' referenced"
        );
    }

    #[test]
    fn empty_stream_has_no_root() {
        assert!(parse_first_document(b"").unwrap().root.is_none());
        assert!(parse_first_document(b"# only a comment\n")
            .unwrap()
            .root
            .is_none());
    }
}
