//! Shamir secret sharing over GF(2^8), as sops (a fork of HashiCorp Vault's
//! implementation) combines key-group parts.
//!
//! A share is `y_0 ‖ … ‖ y_{n-1} ‖ x`: the x coordinate is the last byte, and
//! every secret byte has its own polynomial. The field is the AES field
//! (reduction polynomial x^8+x^4+x^3+x+1); combining is Lagrange interpolation
//! at x = 0 over all the parts that were recovered. Arithmetic is written
//! without data-dependent branches or table look-ups.

use zeroize::Zeroizing;

/// Multiplication in GF(2^8) modulo 0x11B, constant time.
fn mul(a: u8, b: u8) -> u8 {
    let mut a = a;
    let mut b = b;
    let mut p = 0u8;
    for _ in 0..8 {
        p ^= a & (0u8.wrapping_sub(b & 1));
        let carry = a >> 7;
        a = (a << 1) ^ (0x1B & 0u8.wrapping_sub(carry));
        b >>= 1;
    }
    p
}

/// Inverse as a^254 (0 maps to 0, which callers never pass).
fn inv(a: u8) -> u8 {
    let mut result = 1u8;
    let mut base = a;
    let mut e = 254u8;
    while e > 0 {
        if e & 1 == 1 {
            result = mul(result, base);
        }
        base = mul(base, base);
        e >>= 1;
    }
    result
}

fn div(a: u8, b: u8) -> u8 {
    mul(a, inv(b))
}

/// Combines shares into the secret. Needs at least two shares of equal
/// length (≥ 2) with distinct, non-zero x coordinates.
pub fn combine(parts: &[&[u8]]) -> Result<Zeroizing<Vec<u8>>, String> {
    if parts.len() < 2 {
        return Err("at least two parts are needed to combine a Shamir secret".into());
    }
    let len = parts[0].len();
    if len < 2 || parts.iter().any(|p| p.len() != len) {
        return Err("Shamir parts have different or too short lengths".into());
    }
    let xs: Vec<u8> = parts.iter().map(|p| p[len - 1]).collect();
    for (i, x) in xs.iter().enumerate() {
        if *x == 0 || xs[..i].contains(x) {
            return Err("Shamir parts have a zero or duplicate x coordinate".into());
        }
    }
    let mut secret = Zeroizing::new(vec![0u8; len - 1]);
    // Lagrange basis values at 0 do not depend on the byte index: compute once.
    let basis: Vec<u8> = (0..xs.len())
        .map(|k| {
            let mut l = 1u8;
            for (j, xj) in xs.iter().enumerate() {
                if j != k {
                    l = mul(l, div(*xj, xs[k] ^ *xj));
                }
            }
            l
        })
        .collect();
    for (i, s) in secret.iter_mut().enumerate() {
        let mut acc = 0u8;
        for (k, part) in parts.iter().enumerate() {
            acc ^= mul(part[i], basis[k]);
        }
        *s = acc;
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_vectors_from_sops() {
        // shamir_test.go: mult(3, 7) = 9, div(6, 3) = 2.
        assert_eq!(mul(3, 7), 9);
        assert_eq!(div(6, 3), 2);
        assert_eq!(mul(0, 200), 0);
        for a in 1..=255u8 {
            assert_eq!(mul(a, inv(a)), 1, "{a}");
        }
    }

    /// Splits by evaluating random-looking polynomials, to test combine.
    fn split(secret: &[u8], n: u8, k: usize, seed: u8) -> Vec<Vec<u8>> {
        let mut shares = vec![Vec::new(); n as usize];
        for (i, &s) in secret.iter().enumerate() {
            let coeffs: Vec<u8> = (0..k)
                .map(|c| {
                    if c == 0 {
                        s
                    } else {
                        seed.wrapping_mul(31).wrapping_add((i * 7 + c * 13) as u8) | 1
                    }
                })
                .collect();
            for x in 1..=n {
                let mut y = 0u8;
                for c in coeffs.iter().rev() {
                    y = mul(y, x) ^ c;
                }
                shares[(x - 1) as usize].push(y);
            }
        }
        for (i, sh) in shares.iter_mut().enumerate() {
            sh.push(i as u8 + 1);
        }
        shares
    }

    #[test]
    fn any_threshold_subset_recovers_the_secret() {
        let secret: Vec<u8> = (0..32).map(|i| i * 7 + 3).collect();
        let shares = split(&secret, 3, 2, 9);
        for pair in [[0, 1], [0, 2], [1, 2]] {
            let parts: Vec<&[u8]> = pair.iter().map(|&i| shares[i].as_slice()).collect();
            assert_eq!(combine(&parts).unwrap().as_slice(), secret.as_slice());
        }
        let all: Vec<&[u8]> = shares.iter().map(Vec::as_slice).collect();
        assert_eq!(combine(&all).unwrap().as_slice(), secret.as_slice());
    }

    #[test]
    fn bad_parts_are_refused() {
        assert!(combine(&[&[1, 2, 1]]).is_err());
        assert!(combine(&[&[1, 2, 1], &[1, 2, 1]]).is_err());
        assert!(combine(&[&[1, 2, 1], &[1, 2]]).is_err());
    }
}
