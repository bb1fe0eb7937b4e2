//! Helpers shared by the cross-crate tests in `tests/tests/`.

pub mod loopback;
pub mod stress;
