//! The authorisation server's signing keys (ID tokens, JARM responses). Keys live in
//! `DATA_DIR/authz/keys/`, one PKCS#8 file each, named by creation time: the newest signs,
//! every key younger than the retention still verifies (it stays in the JWKS), so a rotation
//! never breaks tokens already issued. Keys are parsed once at start.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use bascule_jose::{Algorithm, Jwks, SigningKey};

use crate::AuthzError;

struct KeySet {
    /// Oldest first; the last one signs.
    keys: Vec<(i64, Arc<SigningKey>)>,
}

#[derive(Clone)]
pub struct ServerKeys {
    dir: PathBuf,
    set: Arc<RwLock<KeySet>>,
    /// How long a retired key stays published (seconds).
    retention: i64,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AuthzError + '_ {
    move |e| AuthzError::Internal(format!("{}: {e}", path.display()))
}

fn write_private(path: &Path, pem: &str) -> Result<(), AuthzError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io(path))?;
    file.write_all(pem.as_bytes()).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

impl ServerKeys {
    /// Loads the keys in `dir`, creating the first on first run.
    pub fn load_or_create(dir: &Path, now: i64, retention: i64) -> Result<ServerKeys, AuthzError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let mut keys = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            let Some(created) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("signing-"))
                .and_then(|n| n.strip_suffix(".key.pem"))
                .and_then(|n| n.parse::<i64>().ok())
            else {
                continue;
            };
            let pem = std::fs::read_to_string(&path).map_err(io(&path))?;
            let key = SigningKey::from_pkcs8_pem(&pem, Algorithm::PS256)
                .map_err(|e| AuthzError::Internal(format!("{}: {e}", path.display())))?;
            keys.push((created, Arc::new(key)));
        }
        keys.sort_by_key(|(created, _)| *created);
        let server = ServerKeys {
            dir: dir.to_path_buf(),
            set: Arc::new(RwLock::new(KeySet { keys })),
            retention,
        };
        if server.set.read().map(|s| s.keys.is_empty()).unwrap_or(true) {
            server.rotate(now)?;
        }
        Ok(server)
    }

    /// Adds a new signing key; older keys keep verifying until `retention` has passed.
    pub fn rotate(&self, now: i64) -> Result<String, AuthzError> {
        let key = SigningKey::generate(Algorithm::PS256)
            .map_err(|e| AuthzError::Internal(e.to_string()))?;
        let mut created = now;
        let path = loop {
            let p = self.dir.join(format!("signing-{created}.key.pem"));
            if !p.exists() {
                break p;
            }
            created += 1;
        };
        write_private(
            &path,
            &key.to_pkcs8_pem()
                .map_err(|e| AuthzError::Internal(e.to_string()))?,
        )?;
        let kid = key.kid().to_owned();
        let mut set = self
            .set
            .write()
            .map_err(|_| AuthzError::Internal("key set poisoned".into()))?;
        set.keys.push((created, Arc::new(key)));
        // A key retired (superseded) longer ago than the retention is no longer published.
        let retired_at: Vec<Option<i64>> = (0..set.keys.len())
            .map(|i| set.keys.get(i + 1).map(|(c, _)| *c))
            .collect();
        let mut i = 0;
        set.keys.retain(|_| {
            let keep = retired_at[i].is_none_or(|r| r >= now - self.retention);
            i += 1;
            keep
        });
        Ok(kid)
    }

    /// The key that signs now.
    pub fn current(&self) -> Result<Arc<SigningKey>, AuthzError> {
        self.set
            .read()
            .ok()
            .and_then(|s| s.keys.last().map(|(_, k)| k.clone()))
            .ok_or_else(|| AuthzError::Internal("no signing key".into()))
    }

    /// Every published key, for `jwks_uri`.
    pub fn jwks(&self) -> Jwks {
        let keys = self
            .set
            .read()
            .map(|s| s.keys.iter().map(|(_, k)| k.public_jwk()).collect())
            .unwrap_or_default();
        Jwks { keys }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bascule_jose::{VerifyingKeys, verify_jwt};

    #[test]
    fn a_rotated_key_keeps_verifying_until_its_retention_ends() {
        let dir = tempfile::tempdir().unwrap();
        let keys = ServerKeys::load_or_create(dir.path(), 1_000, 100).unwrap();
        let old = keys.current().unwrap();
        let token = old
            .sign_jwt(&serde_json::json!({"sub": "x"}), None)
            .unwrap();

        let new_kid = keys.rotate(1_050).unwrap();
        assert_ne!(new_kid, old.kid());
        assert_eq!(
            keys.current().unwrap().kid(),
            new_kid,
            "the newest key signs"
        );
        let published = VerifyingKeys::from_jwks(&keys.jwks()).unwrap();
        assert!(verify_jwt::<serde_json::Value>(&token, &published, &[Algorithm::PS256]).is_ok());

        // Reloaded from disk, the same keys in the same order.
        let reloaded = ServerKeys::load_or_create(dir.path(), 1_060, 100).unwrap();
        assert_eq!(reloaded.current().unwrap().kid(), new_kid);
        assert_eq!(reloaded.jwks().keys.len(), 2);

        // Retired at 1050: still published at 1140, gone after a rotation at 1200.
        keys.rotate(1_140).unwrap();
        assert!(
            keys.jwks()
                .keys
                .iter()
                .any(|k| k.kid.as_deref() == Some(old.kid()))
        );
        keys.rotate(1_200).unwrap();
        assert!(
            !keys
                .jwks()
                .keys
                .iter()
                .any(|k| k.kid.as_deref() == Some(old.kid()))
        );
    }
}
