//! The ElGamal session-key unwrap rPGP lacks (OpenPGP algorithm 16/20).
//!
//! GnuPG 1.x-era keys (DSA primary + ElGamal encryption subkey) are still
//! common in long-lived pipelines. rPGP parses their secret parameters but
//! cannot decrypt with them, so this module does the arithmetic (RFC 4880
//! §5.1, §13.1): m = c2 · (c1^x)^-1 mod p, then EME-PKCS1-v1_5 decoding of m
//! into `sym_alg ‖ session key ‖ checksum`. The inverse uses Fermat (p is
//! prime), with num-bigint-dig's modular exponentiation, which rsa and so
//! rPGP already depend on. Intermediate secrets are zeroized.

use num_bigint_dig::BigUint;
use pgp::composed::PlainSessionKey;
use pgp::crypto::sym::SymmetricKeyAlgorithm;
use pgp::ser::Serialize;
use pgp::types::{ElgamalPublicParams, Mpi};
use zeroize::Zeroizing;

/// Reads the first MPI (the prime p) of serialized ElGamal public parameters.
fn prime(params: &ElgamalPublicParams) -> Result<BigUint, String> {
    let mut buf = Vec::new();
    params
        .to_writer(&mut buf)
        .map_err(|_| "cannot serialize ElGamal parameters".to_string())?;
    let p = Mpi::try_from_reader(&buf[..]).map_err(|_| "malformed ElGamal prime".to_string())?;
    Ok(BigUint::from_bytes_be(p.as_ref()))
}

/// Unwraps an ElGamal PKESK (`c1`, `c2`) with secret exponent `x`.
pub fn unwrap(
    params: &ElgamalPublicParams,
    x: &[u8],
    c1: &[u8],
    c2: &[u8],
) -> Result<PlainSessionKey, String> {
    let p = prime(params)?;
    let two = BigUint::from(2u8);
    if p <= two {
        return Err("malformed ElGamal prime".into());
    }
    let x = BigUint::from_bytes_be(x);
    let c1 = BigUint::from_bytes_be(c1);
    let c2 = BigUint::from_bytes_be(c2);
    if c1 >= p || c2 >= p || c1 < two {
        return Err("ElGamal ciphertext out of range".into());
    }
    let s = c1.modpow(&x, &p);
    let s_inv = s.modpow(&(&p - &two), &p);
    let m = (c2 * s_inv) % &p;
    let k = p.to_bytes_be().len();
    let raw = Zeroizing::new(m.to_bytes_be());
    if raw.len() > k {
        return Err("ElGamal decryption out of range".into());
    }
    // Left-pad to the modulus length: EM = 0x00 ‖ 0x02 ‖ PS ‖ 0x00 ‖ M.
    let mut em = Zeroizing::new(vec![0u8; k - raw.len()]);
    em.extend_from_slice(&raw);
    decode_eme_pkcs1(&em)
}

/// EME-PKCS1-v1_5 decoding and the OpenPGP session-key checksum.
fn decode_eme_pkcs1(em: &[u8]) -> Result<PlainSessionKey, String> {
    const BAD: &str = "ElGamal decryption failed (wrong key or corrupt message)";
    if em.len() < 11 || em[0] != 0 || em[1] != 2 {
        return Err(BAD.into());
    }
    let sep = em[2..].iter().position(|&b| b == 0).ok_or(BAD)? + 2;
    if sep < 10 {
        return Err(BAD.into());
    }
    let m = &em[sep + 1..];
    if m.len() < 3 {
        return Err(BAD.into());
    }
    let alg = SymmetricKeyAlgorithm::from(m[0]);
    let key = &m[1..m.len() - 2];
    if alg.key_size() == 0 || key.len() != alg.key_size() {
        return Err(BAD.into());
    }
    let want = u16::from_be_bytes([m[m.len() - 2], m[m.len() - 1]]);
    let sum = key.iter().fold(0u16, |a, &b| a.wrapping_add(u16::from(b)));
    if sum != want {
        return Err(BAD.into());
    }
    Ok(PlainSessionKey::V3_4 {
        sym_alg: alg,
        key: key.to_vec().into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs1_decoding_checks_padding_and_checksum() {
        let key = [7u8; 16];
        let sum: u16 = key.iter().map(|&b| u16::from(b)).sum();
        let mut em = vec![0u8, 2];
        em.extend_from_slice(&[0xAA; 20]);
        em.push(0);
        em.push(7); // AES-128
        em.extend_from_slice(&key);
        em.extend_from_slice(&sum.to_be_bytes());
        let sk = decode_eme_pkcs1(&em).unwrap();
        assert_eq!(sk.sym_algorithm(), Some(SymmetricKeyAlgorithm::AES128));

        let mut bad = em.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(decode_eme_pkcs1(&bad).is_err());
        let mut bad = em.clone();
        bad[1] = 1;
        assert!(decode_eme_pkcs1(&bad).is_err());
    }
}
