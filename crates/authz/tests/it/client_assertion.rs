//! Placeholder: filled by the token-endpoint tests.
