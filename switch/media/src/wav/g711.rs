//! G.711 expansion for WAV files in A-law or µ-law (the codec module has the encoders).

/// One µ-law byte to linear (ITU-T G.711, ±32124 at the extremes).
pub(super) fn ulaw_to_linear(byte: u8) -> i16 {
    let u = !byte;
    let exponent = (u >> 4) & 0x07;
    let mantissa = i32::from(u & 0x0f);
    // Bias of 0x84 (132) added when encoding, removed here.
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    // At most (0x0f << 3 + 0x84) << 7 - 0x84 = 32124: fits.
    if u & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// One A-law byte to linear (ITU-T G.711, ±32256 at the extremes).
pub(super) fn alaw_to_linear(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let exponent = (a >> 4) & 0x07;
    let mantissa = i32::from(a & 0x0f);
    let magnitude = match exponent {
        0 => (mantissa << 4) + 8,
        e => ((mantissa << 4) + 0x108) << (e - 1),
    };
    // At most (0xf0 + 0x108) << 6 = 32256: fits.
    if a & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(ulaw_to_linear(0xff), 0);
        assert_eq!(ulaw_to_linear(0x7f), 0);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(alaw_to_linear(0xd5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xaa), 32256);
        assert_eq!(alaw_to_linear(0x2a), -32256);
    }

    #[test]
    fn both_laws_are_monotonic_and_symmetric() {
        // µ-law: 0x80..=0xff descend from the largest positive value to zero.
        let pos: Vec<i16> = (0x80..=0xffu8).map(ulaw_to_linear).collect();
        assert!(pos.windows(2).all(|w| w[0] > w[1]));
        for b in 0..=0x7fu8 {
            assert_eq!(ulaw_to_linear(b), -ulaw_to_linear(b | 0x80));
        }
        // A-law: with the even bits inverted back, codes ascend in magnitude.
        let pos: Vec<i16> = (0x80..=0xffu8).map(|c| alaw_to_linear(c ^ 0x55)).collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "{pos:?}");
        for b in 0..=0x7fu8 {
            assert_eq!(alaw_to_linear(b), -alaw_to_linear(b | 0x80));
        }
    }
}
