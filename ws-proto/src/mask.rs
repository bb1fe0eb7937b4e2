//! The masking kernel (RFC 6455 §5.3).
//!
//! Every byte of a client-to-server payload is XORed with one of the four
//! bytes of the frame's masking key, in turn. [`apply_mask`] does that a
//! 16-byte lane at a time: the key repeated over the lane is one `u128`, and
//! since 16 is a multiple of 4 the key's phase never shifts between lanes.
//! The lane loop is plain safe Rust that the compiler turns into vector
//! instructions; only the up-to-15-byte tail runs byte by byte.
//!
//! Unmasking is the same operation as masking. The kernel is tested against
//! the naive loop for every length 0..=257, every start alignment and every
//! key phase.

/// XORs `buf` with `key`, as if `buf` started `phase` bytes into the payload.
///
/// `phase` lets a payload be unmasked in pieces as it arrives: pass the
/// number of payload bytes already unmasked (only `phase % 4` matters). Returns
/// the phase to pass for the piece that follows.
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    let mut k = key;
    k.rotate_left(phase % 4);
    let word = u32::from_ne_bytes(k);
    let lane = u128::from(word) * 0x0000_0001_0000_0001_0000_0001_0000_0001_u128;
    let mut lanes = buf.chunks_exact_mut(16);
    for chunk in &mut lanes {
        let bytes: &mut [u8; 16] = chunk.try_into().expect("chunks_exact_mut(16)");
        *bytes = (u128::from_ne_bytes(*bytes) ^ lane).to_ne_bytes();
    }
    for (i, b) in lanes.into_remainder().iter_mut().enumerate() {
        *b ^= k[i & 3];
    }
    phase.wrapping_add(buf.len())
}

/// The reference kernel: one byte at a time. Used by tests and fuzzers to
/// check [`apply_mask`].
#[doc(hidden)]
pub fn apply_mask_naive(buf: &mut [u8], key: [u8; 4], phase: usize) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[(phase + i) % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_matches_naive_for_every_length_alignment_and_phase() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let source: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..=257 {
            for align in 0..16 {
                for phase in 0..4 {
                    let mut fast = source.clone();
                    let mut slow = source.clone();
                    let next = apply_mask(&mut fast[align..align + len], key, phase);
                    apply_mask_naive(&mut slow[align..align + len], key, phase);
                    assert_eq!(fast, slow, "len {len} align {align} phase {phase}");
                    assert_eq!(next, phase + len);
                }
            }
        }
    }

    #[test]
    fn masking_in_pieces_equals_masking_whole() {
        let key = [1, 2, 3, 4];
        let data: Vec<u8> = (0..=255).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        for split in [0, 1, 3, 5, 16, 17, 100, 256] {
            let mut pieces = data.clone();
            let (a, b) = pieces.split_at_mut(split);
            let phase = apply_mask(a, key, 0);
            apply_mask(b, key, phase);
            assert_eq!(pieces, whole, "split at {split}");
        }
    }

    #[test]
    fn rfc_example_hello() {
        // RFC 6455 §5.7: masked "Hello" with key 37 fa 21 3d.
        let mut payload = *b"Hello";
        apply_mask(&mut payload, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(payload, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    }
}
