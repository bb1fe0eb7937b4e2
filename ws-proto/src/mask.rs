//! The masking kernel (RFC 6455 §5.3).
//!
//! Every byte of a client-to-server payload is XORed with one of the four
//! bytes of the frame's masking key, in turn. [`apply_mask`] does that a
//! 64-byte lane at a time: the key repeated over the lane is one `[u8; 64]`,
//! and since 64 is a multiple of 4 the key's phase never shifts between
//! lanes. The lane loop is plain safe Rust, an element-wise XOR of two
//! fixed-size arrays, that the compiler turns into vector loads, XORs and
//! stores: four 16-byte vectors per lane with the SSE2 that every x86-64 has
//! (NEON on aarch64). In a buffer of two lanes or more, the bytes before the
//! first 64-byte boundary go first, so that the lanes are aligned (a payload
//! starts 2 to 14 bytes into the input buffer, after its header, and vector
//! stores that straddle cache lines are slow); those bytes and what is left
//! after the lanes go 8 bytes at a time, then byte by byte.
//!
//! On x86-64 CPUs with AVX2 (detected at run time, once; the answer is
//! cached), buffers of a lane or more run the same code compiled for AVX2,
//! two 32-byte vectors per lane. That is the one `unsafe` call in this
//! kernel: calling a function compiled for a CPU feature, right after
//! checking the CPU has it.
//!
//! (An earlier kernel XORed one `u128` per 16 bytes, which the compiler
//! lowered to two scalar 64-bit read-modify-writes, on unaligned lanes:
//! `benches/decode.rs` measures the difference.)
//!
//! Unmasking is the same operation as masking. Every kernel (the portable
//! one, the AVX2 one where the CPU has it, and the dispatching
//! [`apply_mask`]) is tested against the naive loop for every length
//! 0..=257, every start alignment and every key phase.

/// Bytes XORed per step of the main loop.
const LANE: usize = 64;

/// XORs `buf` with `key`, as if `buf` started `phase` bytes into the payload.
///
/// `phase` lets a payload be unmasked in pieces as it arrives: pass the
/// number of payload bytes already unmasked (only `phase % 4` matters). Returns
/// the phase to pass for the piece that follows.
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    if buf.len() >= LANE {
        if let Some(next) = avx2::apply_mask(buf, key, phase) {
            return next;
        }
    }
    apply_mask_portable(buf, key, phase)
}

/// `key` as seen from `phase` bytes into the payload.
#[inline]
pub(crate) fn key_at(key: [u8; 4], phase: usize) -> [u8; 4] {
    // Big-endian on every target, so rotating left by one byte turns
    // [k0, k1, k2, k3] into [k1, k2, k3, k0]. `phase % 4 < 4`: the rotation
    // is at most 24 bits.
    let bits = 8 * (phase % 4) as u32;
    u32::from_be_bytes(key).rotate_left(bits).to_be_bytes()
}

/// The kernel in portable safe Rust. `inline(always)` so that the AVX2
/// entry point surely gets its own copy, compiled for AVX2 (a call would run
/// the SSE2 copy).
#[allow(clippy::inline_always)]
#[inline(always)]
fn apply_mask_portable(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    let len = buf.len();
    let key = key_at(key, phase);
    // Lanes start on a 64-byte boundary: a payload follows its header, so it
    // starts 2 to 14 bytes past wherever the input buffer does, and with
    // vector stores that straddle cache lines the SSE2 loop ran about 40%
    // slower (AVX2: 5 to 15%).
    // Short buffers are not worth the detour.
    let head = if len >= 2 * LANE {
        // `align_offset` may answer `usize::MAX` ("not possible"); any
        // head is correct, the aligned one is only faster.
        let head = buf.as_ptr().align_offset(LANE);
        if head < LANE {
            head
        } else {
            0
        }
    } else {
        0
    };
    let (head_bytes, body) = buf.split_at_mut(head);
    mask_words(head_bytes, key);
    let key = key_at(key, head);
    let has_lanes = body.len() >= LANE;
    let mut lanes = body.chunks_exact_mut(LANE);
    if has_lanes {
        let mut lane = [0u8; LANE];
        for quad in lane.chunks_exact_mut(4) {
            quad.copy_from_slice(&key);
        }
        for chunk in &mut lanes {
            let chunk: &mut [u8; LANE] = chunk.try_into().expect("chunks_exact_mut(LANE)");
            for (b, k) in chunk.iter_mut().zip(&lane) {
                *b ^= k;
            }
        }
    }
    mask_words(lanes.into_remainder(), key);
    phase.wrapping_add(len)
}

/// The kernel for a few bytes (fewer than a lane): 8 at a time, then one
/// at a time. `key` is already rotated to the phase of `buf`.
#[allow(clippy::inline_always)]
#[inline(always)]
fn mask_words(buf: &mut [u8], key: [u8; 4]) {
    let word = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut words = buf.chunks_exact_mut(8);
    for chunk in &mut words {
        let bytes: &mut [u8; 8] = chunk.try_into().expect("chunks_exact_mut(8)");
        *bytes = (u64::from_ne_bytes(*bytes) ^ word).to_ne_bytes();
    }
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

/// The portable kernel compiled for AVX2, behind a run-time check.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    /// Masks `buf` as [`super::apply_mask`] does, if the CPU has AVX2;
    /// `None` (and `buf` untouched) if it has not.
    #[inline]
    pub(super) fn apply_mask(buf: &mut [u8], key: [u8; 4], phase: usize) -> Option<usize> {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return None;
        }
        // SAFETY: `kernel` is only unsafe to call because it is compiled with
        // AVX2 enabled, and executing AVX2 instructions on a CPU without AVX2
        // is undefined behaviour. The CPU was just checked to support AVX2.
        // `kernel` has no other precondition: its body is safe code.
        #[allow(unsafe_code)]
        let next = unsafe { kernel(buf, key, phase) };
        #[cfg(test)]
        RUNS.with(|runs| runs.set(runs.get() + 1));
        Some(next)
    }

    #[cfg(test)]
    thread_local! {
        /// How many times the kernel ran on this thread (tests only).
        pub(super) static RUNS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    /// [`super::apply_mask_portable`], inlined and compiled for AVX2.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX2.
    #[allow(unsafe_code)]
    #[target_feature(enable = "avx2")]
    unsafe fn kernel(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
        super::apply_mask_portable(buf, key, phase)
    }
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

    type Kernel = fn(&mut [u8], [u8; 4], usize) -> usize;

    /// Every kernel this CPU can run, by name.
    fn kernels() -> Vec<(&'static str, Kernel)> {
        let mut kernels: Vec<(&'static str, Kernel)> = vec![
            ("apply_mask", apply_mask),
            ("portable", apply_mask_portable),
        ];
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            kernels.push(("avx2", |buf, key, phase| {
                avx2::apply_mask(buf, key, phase).expect("AVX2 was detected")
            }));
        }
        kernels
    }

    #[test]
    fn kernel_matches_naive_for_every_length_alignment_and_phase() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let source: Vec<u8> = (0..400u32).map(|i| (i * 7 + 3) as u8).collect();
        for (name, kernel) in kernels() {
            for len in 0..=257 {
                // Every start address modulo 64, the kernel's alignment.
                for align in 0..64 {
                    for phase in 0..4 {
                        let mut fast = source.clone();
                        let mut slow = source.clone();
                        let next = kernel(&mut fast[align..align + len], key, phase);
                        apply_mask_naive(&mut slow[align..align + len], key, phase);
                        assert_eq!(fast, slow, "{name}: len {len} align {align} phase {phase}");
                        assert_eq!(next, phase + len, "{name}");
                    }
                }
            }
        }
    }

    #[test]
    fn only_the_phase_modulo_4_matters() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let source: Vec<u8> = (0..100u8).collect();
        for (name, kernel) in kernels() {
            for phase in [4, 5, 6, 7, 1001, usize::MAX - 3, usize::MAX] {
                let mut fast = source.clone();
                let mut slow = source.clone();
                let next = kernel(&mut fast, key, phase);
                apply_mask_naive(&mut slow, key, phase % 4);
                assert_eq!(fast, slow, "{name}: phase {phase}");
                assert_eq!(next, phase.wrapping_add(source.len()), "{name}");
            }
        }
    }

    #[test]
    fn masking_in_pieces_equals_masking_whole() {
        let key = [1, 2, 3, 4];
        let data: Vec<u8> = (0..=255).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        for split in [0, 1, 3, 5, 16, 17, 64, 65, 100, 256] {
            let mut pieces = data.clone();
            let (a, b) = pieces.split_at_mut(split);
            let phase = apply_mask(a, key, 0);
            apply_mask(b, key, phase);
            assert_eq!(pieces, whole, "split at {split}");
        }
    }

    /// Prints which kernel `apply_mask` ran (`scripts/test.sh` requires the
    /// AVX2 one on a CPU with AVX2), and checks it is the AVX2 one exactly
    /// when the CPU has AVX2.
    #[test]
    #[allow(clippy::print_stdout)]
    fn avx2_kernel_runs_where_the_cpu_has_it() {
        let mut buf = [0x5a_u8; 2 * LANE];
        #[cfg(target_arch = "x86_64")]
        let (has, ran) = {
            let before = avx2::RUNS.with(std::cell::Cell::get);
            apply_mask(&mut buf, [1, 2, 3, 4], 0);
            let ran = avx2::RUNS.with(std::cell::Cell::get) > before;
            (std::arch::is_x86_feature_detected!("avx2"), ran)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let (has, ran) = {
            apply_mask(&mut buf, [1, 2, 3, 4], 0);
            (false, false)
        };
        println!(
            "ws-proto kernels: mask={}",
            if ran { "avx2" } else { "portable" }
        );
        assert_eq!(
            ran, has,
            "the AVX2 kernel ran: {ran}; the CPU has AVX2: {has}"
        );
    }

    #[test]
    fn rfc_example_hello() {
        // RFC 6455 §5.7: masked "Hello" with key 37 fa 21 3d.
        let mut payload = *b"Hello";
        apply_mask(&mut payload, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(payload, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    }
}
