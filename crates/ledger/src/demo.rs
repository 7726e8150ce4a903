//! The deterministic demo bank (filled in below).
