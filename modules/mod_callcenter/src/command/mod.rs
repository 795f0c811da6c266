//! placeholder
/// placeholder
pub fn execute(_e: &mut crate::Engine, _now: crate::Timestamp, _line: &str) -> String { String::new() }
