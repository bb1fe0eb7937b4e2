//! Unmasking and UTF-8 validation in one pass, for x86-64 CPUs with AVX2.
//!
//! Unmasking a text payload, then validating it, reads it twice. Here each
//! 64-byte chunk is loaded once, unmasked in registers, stored back, and
//! validated while it is still in registers.
//!
//! The validation is the lookup algorithm of simdjson and `simdutf8` (John
//! Keiser and Daniel Lemire, "Validating UTF-8 In Less Than One Instruction
//! Per Byte", 2021): every byte is classified by three 16-entry table
//! lookups (the high and low nibble of the byte before it, the high nibble
//! of the byte itself), whose bitwise AND is non-zero exactly where a
//! two-byte sequence is invalid (a missing or extra continuation byte, an
//! overlong form, a surrogate, a code point above U+10FFFF). What two bytes
//! cannot tell, that the third and fourth bytes of a 3- and 4-byte character
//! are continuation bytes, is checked against the bytes two and three
//! places back. A 32-byte half of ASCII only needs the check that no
//! character was left unfinished before it.
//!
//! Every byte is checked against the bytes before it, so the last
//! character of the buffer is left to the caller: that it is unfinished is
//! not an error (the caller carries it over to the next piece, and passes it
//! back as `carry`), and a last byte that can start no character (C0, C1,
//! F5 and up) only shows with the byte after it.
//!
//! Every function here is `unsafe` only because it is compiled for AVX2
//! (`#[target_feature]`); the loads and stores through raw pointers have
//! their own `unsafe` blocks. The entry point, [`unmask_and_check`], checks
//! the CPU first.

use std::arch::x86_64::{
    __m256i, _mm256_alignr_epi8, _mm256_and_si256, _mm256_loadu_si256, _mm256_movemask_epi8,
    _mm256_or_si256, _mm256_permute2x128_si256, _mm256_set1_epi32, _mm256_set1_epi8,
    _mm256_setr_epi8, _mm256_setzero_si256, _mm256_shuffle_epi8, _mm256_srli_epi16,
    _mm256_storeu_si256, _mm256_subs_epu8, _mm256_testz_si256, _mm256_xor_si256,
};

/// Bytes per step: two 32-byte vectors. The length of a buffer passed to
/// [`unmask_and_check`] is a multiple of it.
pub(super) const CHUNK: usize = 64;

/// Whether this CPU runs the kernel (checked once; the answer is cached).
#[inline]
pub(super) fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

/// XORs `buf` with `key` (rotated to the phase of `buf`'s first byte, as
/// `mask::apply_mask` would), and checks that `carry` followed by the
/// unmasked `buf` is valid UTF-8 but for its last character, which the
/// caller checks (see the module's documentation).
///
/// `carry` holds the bytes of a character cut before `buf` (at most 3, and
/// a valid start of a character: the caller validated them).
///
/// Returns `None` (and leaves `buf` untouched) if the CPU has no AVX2;
/// otherwise `buf` is unmasked whole, valid or not.
///
/// # Panics
///
/// If `buf.len()` is not a multiple of [`CHUNK`] or `carry` is longer than
/// 3 bytes.
pub(super) fn unmask_and_check(buf: &mut [u8], key: [u8; 4], carry: &[u8]) -> Option<bool> {
    assert!(buf.len() % CHUNK == 0, "whole chunks only");
    assert!(
        carry.len() <= 3,
        "a character has at most 3 bytes before its last"
    );
    if !available() {
        return None;
    }
    let mut before = [0u8; 32];
    before[32 - carry.len()..].copy_from_slice(carry);
    // SAFETY: `kernel` is only unsafe to call because it is compiled with
    // AVX2 enabled, and executing AVX2 instructions on a CPU without AVX2 is
    // undefined behaviour. The CPU was just checked to support AVX2.
    // `kernel` has no other precondition.
    let valid = unsafe { kernel(buf, key, &before) };
    #[cfg(test)]
    RUNS.with(|runs| runs.set(runs.get() + 1));
    Some(valid)
}

#[cfg(test)]
thread_local! {
    /// How many times the kernel ran on this thread (tests only).
    pub(super) static RUNS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The loop of [`unmask_and_check`]. `before` holds the 32 bytes that come
/// before `buf` as far as validation goes: zeros (ASCII), then the carry.
///
/// # Safety
///
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
unsafe fn kernel(buf: &mut [u8], key: [u8; 4], before: &[u8; 32]) -> bool {
    let key = _mm256_set1_epi32(i32::from_ne_bytes(key));
    // SAFETY: `before` is 32 readable bytes; the load has no alignment
    // requirement.
    let mut prev = unsafe { _mm256_loadu_si256(before.as_ptr().cast()) };
    let mut error = _mm256_setzero_si256();
    for chunk in buf.chunks_exact_mut(CHUNK) {
        // `__m256i` is 32-byte aligned, `lo` need not be: it is only ever
        // passed to `loadu` and `storeu`, which take unaligned pointers.
        #[allow(clippy::cast_ptr_alignment)]
        let lo = chunk.as_mut_ptr().cast::<__m256i>();
        // SAFETY: `chunk` is 64 bytes, valid for reads and writes through
        // `lo` (it is a `&mut [u8]`, not used otherwise in this iteration):
        // `lo` and `hi` address its two halves. `loadu` and `storeu` have no
        // alignment requirement.
        let hi = unsafe { lo.add(1) };
        // SAFETY: as above.
        let (a, b) = unsafe { (_mm256_loadu_si256(lo), _mm256_loadu_si256(hi)) };
        let a = _mm256_xor_si256(a, key);
        let b = _mm256_xor_si256(b, key);
        // SAFETY: as above.
        unsafe {
            _mm256_storeu_si256(lo, a);
            _mm256_storeu_si256(hi, b);
        }
        // Branches on which halves of the chunk are all ASCII, the whole
        // chunk first. In text that mixes ASCII and other scripts they go
        // either way, and are mispredicted often, but the checks they skip
        // cost more: on the text of `benches/decode.rs`, checking every
        // chunk in full took 70% longer, and skipping only chunks that are
        // all ASCII 40% longer.
        if _mm256_movemask_epi8(_mm256_or_si256(a, b)) == 0 {
            // ASCII: valid unless a character was left unfinished before
            // it, at the end of `prev`. `prev` stays: either that is an
            // error already, or its last bytes end a character and are as
            // good as ASCII to the next check.
            error = _mm256_or_si256(error, unfinished_at_end(prev));
        } else if _mm256_movemask_epi8(a) == 0 {
            // Likewise for `a`; `b` follows it.
            error = _mm256_or_si256(error, unfinished_at_end(prev));
            error = _mm256_or_si256(error, check(b, a));
            prev = b;
        } else if _mm256_movemask_epi8(b) == 0 {
            // `b` is valid unless `a` left a character unfinished.
            error = _mm256_or_si256(error, check(a, prev));
            error = _mm256_or_si256(error, unfinished_at_end(a));
            prev = b;
        } else {
            error = _mm256_or_si256(error, check(a, prev));
            error = _mm256_or_si256(error, check(b, a));
            prev = b;
        }
    }
    _mm256_testz_si256(error, error) == 1
}

/// The 32-byte vector repeating the 16-entry table `t` in both of its
/// 128-bit lanes, as `vpshufb` looks up each lane on its own.
#[target_feature(enable = "avx2")]
#[inline]
#[allow(clippy::cast_possible_wrap, clippy::too_many_arguments)]
unsafe fn table(t: [u8; 16]) -> __m256i {
    _mm256_setr_epi8(
        t[0] as i8,
        t[1] as i8,
        t[2] as i8,
        t[3] as i8,
        t[4] as i8,
        t[5] as i8,
        t[6] as i8,
        t[7] as i8,
        t[8] as i8,
        t[9] as i8,
        t[10] as i8,
        t[11] as i8,
        t[12] as i8,
        t[13] as i8,
        t[14] as i8,
        t[15] as i8,
        t[0] as i8,
        t[1] as i8,
        t[2] as i8,
        t[3] as i8,
        t[4] as i8,
        t[5] as i8,
        t[6] as i8,
        t[7] as i8,
        t[8] as i8,
        t[9] as i8,
        t[10] as i8,
        t[11] as i8,
        t[12] as i8,
        t[13] as i8,
        t[14] as i8,
        t[15] as i8,
    )
}

/// `x` with every byte set to `b`.
#[target_feature(enable = "avx2")]
#[inline]
#[allow(clippy::cast_possible_wrap)]
unsafe fn splat(b: u8) -> __m256i {
    _mm256_set1_epi8(b as i8)
}

/// The high nibble of every byte of `x`.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn high_nibbles(x: __m256i) -> __m256i {
    // The 16-bit shift brings bits of each byte's neighbour into its high
    // nibble; the mask clears them.
    _mm256_and_si256(_mm256_srli_epi16::<4>(x), splat(0x0f))
}

// The error classes of a pair of bytes (the first one, then the second):
// each table below gives, for one nibble, the classes that nibble allows,
// and the pair is invalid where all three agree on one class.

/// A lead byte followed by a byte that is not a continuation byte.
const TOO_SHORT: u8 = 1 << 0;
/// An ASCII byte followed by a continuation byte.
const TOO_LONG: u8 = 1 << 1;
/// E0 followed by 80..9F: a 3-byte form of a character under U+0800.
const OVERLONG_3: u8 = 1 << 2;
/// F4 and up followed by 90..BF: above U+10FFFF.
const TOO_LARGE: u8 = 1 << 3;
/// ED followed by A0..BF: a surrogate.
const SURROGATE: u8 = 1 << 4;
/// C0 or C1 followed by a continuation byte: a 2-byte form of an ASCII
/// character.
const OVERLONG_2: u8 = 1 << 5;
/// F5 and up followed by 80..8F: above U+10FFFF too. (It shares its bit
/// with `OVERLONG_4`: no first byte is in both.)
const TOO_LARGE_1000: u8 = 1 << 6;
/// F0 followed by 80..8F: a 4-byte form of a character under U+10000.
const OVERLONG_4: u8 = 1 << 6;
/// Two continuation bytes in a row: an error unless the bytes two or three
/// places back start a 3- or 4-byte character (see `check`).
const TWO_CONTS: u8 = 1 << 7;
/// The classes that do not depend on the first byte's low nibble.
const CARRY: u8 = TOO_SHORT | TOO_LONG | TWO_CONTS;

/// Classes by the high nibble of the first byte.
const BYTE_1_HIGH: [u8; 16] = [
    // 0_______: ASCII.
    TOO_LONG,
    TOO_LONG,
    TOO_LONG,
    TOO_LONG,
    TOO_LONG,
    TOO_LONG,
    TOO_LONG,
    TOO_LONG,
    // 10______: a continuation byte.
    TWO_CONTS,
    TWO_CONTS,
    TWO_CONTS,
    TWO_CONTS,
    // 1100____: a 2-byte lead.
    TOO_SHORT | OVERLONG_2,
    // 1101____: a 2-byte lead.
    TOO_SHORT,
    // 1110____: a 3-byte lead.
    TOO_SHORT | OVERLONG_3 | SURROGATE,
    // 1111____: a 4-byte lead.
    TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4,
];

/// Classes by the low nibble of the first byte.
const BYTE_1_LOW: [u8; 16] = [
    // ____0000
    CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4,
    // ____0001
    CARRY | OVERLONG_2,
    // ____001_
    CARRY,
    CARRY,
    // ____0100
    CARRY | TOO_LARGE,
    // ____0101 to ____1111
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    // ____1101
    CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
];

/// Classes by the high nibble of the second byte.
const BYTE_2_HIGH: [u8; 16] = [
    // 0_______: ASCII.
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    // 1000____
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
    // 1001____
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
    // 101_____
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    // 11______: a lead byte.
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
];

/// Non-zero bytes where `input` is not valid UTF-8, given the vector that
/// came before it, `prev` (its last three bytes, really).
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn check(input: __m256i, prev: __m256i) -> __m256i {
    // The last 128-bit lane of `prev` and the first of `input`: with it,
    // `alignr` shifts `input` right by 1, 2 and 3 bytes across its lanes.
    let across = _mm256_permute2x128_si256::<0x21>(prev, input);
    let prev1 = _mm256_alignr_epi8::<15>(input, across);
    let prev2 = _mm256_alignr_epi8::<14>(input, across);
    let prev3 = _mm256_alignr_epi8::<13>(input, across);

    let byte_1_high = _mm256_shuffle_epi8(table(BYTE_1_HIGH), high_nibbles(prev1));
    let byte_1_low = _mm256_shuffle_epi8(table(BYTE_1_LOW), _mm256_and_si256(prev1, splat(0x0f)));
    let byte_2_high = _mm256_shuffle_epi8(table(BYTE_2_HIGH), high_nibbles(input));
    let special = _mm256_and_si256(_mm256_and_si256(byte_1_high, byte_1_low), byte_2_high);

    // The high bit set where the byte two places back is a 3- or 4-byte
    // lead (111_____), or the byte three places back a 4-byte lead
    // (11110___ and above): there, and only there, a continuation byte
    // after a continuation byte (`TWO_CONTS`, bit 7) is required.
    let third = _mm256_subs_epu8(prev2, splat(0xe0 - 0x80));
    let fourth = _mm256_subs_epu8(prev3, splat(0xf0 - 0x80));
    let must_continue = _mm256_and_si256(_mm256_or_si256(third, fourth), splat(0x80));
    _mm256_xor_si256(must_continue, special)
}

/// Non-zero if `x` ends with a character that needs more bytes: a lead byte
/// in the last byte (C0 and up), the last two (E0 and up) or the last three
/// (F0 and up).
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn unfinished_at_end(x: __m256i) -> __m256i {
    let mut max = [0xffu8; 32];
    max[29] = 0xf0 - 1;
    max[30] = 0xe0 - 1;
    max[31] = 0xc0 - 1;
    // SAFETY: `max` is 32 readable bytes; the load has no alignment
    // requirement.
    let max = unsafe { _mm256_loadu_si256(max.as_ptr().cast()) };
    _mm256_subs_epu8(x, max)
}
