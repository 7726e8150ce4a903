use std::sync::Mutex;

use bascule_domain::IdSource;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use uuid::Uuid;

/// Identifiers from a seeded generator, so the demo bank gets the same ids on every machine.
pub struct SeededIds(Mutex<StdRng>);

impl SeededIds {
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(StdRng::seed_from_u64(seed)))
    }
}

impl IdSource for SeededIds {
    fn next_uuid(&self) -> Uuid {
        let mut rng = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let bytes: [u8; 16] = rng.random();
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}
