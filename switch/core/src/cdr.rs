//! CDR store.
