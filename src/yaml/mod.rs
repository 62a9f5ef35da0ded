//! YAML as upstream kind reads and writes it: `parse` (go-yaml v3's
//! positioned document tree, for decoding configs with upstream's errors),
//! `emit` (go-yaml v2's output style), `convert` (YAML to JSON, for
//! patching), and `resolve`, the scalar resolution the parser and the
//! emitter share.

pub mod convert;
pub mod emit;
pub mod parse;
pub mod resolve;
