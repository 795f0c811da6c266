//! Media anchoring.
