//! Passwords: argon2id hashes as PHC strings, verification, generated passwords
//! and the rules a chosen password must meet. Pure: no database, no HTTP.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;

/// Shortest password a person may choose.
pub const MIN_LEN: usize = 10;
/// Longest accepted (hashing cost grows with the input).
pub const MAX_LEN: usize = 256;

/// argon2id with 19 MiB of memory, 2 passes, 1 lane: the OWASP baseline for
/// interactive sign-in (about 20–50 ms on one core).
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Why a chosen password is refused, in Chinese and English.
pub fn check_rules(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Err(format!(
            "密码至少 {MIN_LEN} 个字符 / the password needs at least {MIN_LEN} characters (it has {chars})"
        ));
    }
    if password.len() > MAX_LEN {
        return Err(format!(
            "密码最长 {MAX_LEN} 字节 / the password may have at most {MAX_LEN} bytes"
        ));
    }
    if password.trim() != password {
        return Err(
            "密码首尾不能是空格 / the password may not start or end with a space".to_string(),
        );
    }
    Ok(())
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) of a password
/// with a fresh random salt.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let phc = hasher()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?;
    Ok(phc.to_string())
}

/// Whether the password matches the PHC string (with the parameters the string
/// names). A malformed string never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of no one's password, verified against when the login is unknown so
/// that an unknown login and a wrong password take the same time.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("decoy password, never valid").unwrap_or_default())
}

/// A random password of 20 characters without look-alikes (no 0/O, 1/l/I).
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let phc = hash("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("correct horse batterY", &phc));
        assert!(!verify("correct horse battery", "not a phc string"));
        // A fresh salt each time.
        assert_ne!(phc, hash("correct horse battery").unwrap());
    }

    #[test]
    fn rules_refuse_short_and_padded_passwords() {
        assert!(check_rules("short").unwrap_err().contains("10"));
        assert!(check_rules(" padded password ").is_err());
        assert!(check_rules("十个汉字的密码真的很长").is_ok());
        let generated = generate();
        assert_eq!(generated.len(), 20);
        assert!(check_rules(&generated).is_ok());
    }
}
