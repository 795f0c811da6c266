//! fuzz smoke (placeholder)
