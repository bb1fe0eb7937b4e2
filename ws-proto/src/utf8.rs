//! Incremental UTF-8 validation that fails at the first invalid byte.
//!
//! A text message arrives in frames, and a frame arrives in reads; a
//! character may be cut anywhere. [`Utf8Validator`] keeps at most three
//! bytes of an unfinished character between pieces, so it reports an error
//! as soon as the bytes seen so far cannot start valid UTF-8, not at the end
//! of the message. The bulk of each piece goes through `simdutf8`.
//!
//! A masked piece (a client's frame, on the server) can be unmasked and
//! validated in one pass instead, [`Utf8Validator::unmask_and_feed`]: on
//! x86-64 CPUs with AVX2 each 64-byte chunk is read once, unmasked and
//! validated in registers and written back (see `avx2`); elsewhere the
//! piece is unmasked, then validated.

use crate::mask::apply_mask;
#[cfg(target_arch = "x86_64")]
use crate::mask::key_at;

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx2;

/// Validates a byte stream as UTF-8, piece by piece.
#[derive(Debug, Clone, Default)]
pub(crate) struct Utf8Validator {
    /// The bytes of a character cut by the end of the last piece.
    pending: [u8; 4],
    pending_len: u8,
}

/// The bytes seen so far are not a prefix of any valid UTF-8 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidUtf8;

impl Utf8Validator {
    /// Feeds the next piece.
    pub(crate) fn feed(&mut self, mut data: &[u8]) -> Result<(), InvalidUtf8> {
        if self.pending_len > 0 {
            let have = usize::from(self.pending_len);
            let width = char_width(self.pending[0]);
            let take = (width - have).min(data.len());
            self.pending[have..have + take].copy_from_slice(&data[..take]);
            let len = have + take;
            data = &data[take..];
            match std::str::from_utf8(&self.pending[..len]) {
                Ok(_) => self.pending_len = 0,
                Err(e) if e.error_len().is_some() => return Err(InvalidUtf8),
                Err(_) => {
                    self.pending_len = len as u8;
                    return Ok(());
                }
            }
        }
        // The fast path sees whole characters, and a character cut by the
        // end of the piece is held for the next one. (Validating the piece
        // whole would fail on a cut character, and finding out that it was
        // only cut would take a second pass.)
        let (whole, last) = data.split_at(last_char_start(data));
        if !(is_short_ascii(whole) || simdutf8::basic::from_utf8(whole).is_ok()) {
            return Err(InvalidUtf8);
        }
        self.hold(last)
    }

    /// Unmasks `buf` with `key` from `phase`, as [`apply_mask`] does, then
    /// feeds it; in one pass over `buf` where the CPU allows. On an error
    /// `buf` may be left partly unmasked.
    pub(crate) fn unmask_and_feed(
        &mut self,
        buf: &mut [u8],
        key: [u8; 4],
        phase: usize,
    ) -> Result<(), InvalidUtf8> {
        #[cfg(target_arch = "x86_64")]
        if buf.len() >= FUSED_MIN && avx2::available() {
            // The bytes before the first 32-byte boundary go the two-pass
            // way, so that the kernel's 32-byte stores do not straddle cache
            // lines (5 to 10% faster on a payload that starts just past its
            // header, wherever the input buffer starts).
            let head = match buf.as_ptr().align_offset(32) {
                head if head < 32 => head,
                _ => 0,
            };
            let (head_bytes, rest) = buf.split_at_mut(head);
            apply_mask(head_bytes, key, phase);
            self.feed(head_bytes)?;
            let phase = phase.wrapping_add(head);
            let body_len = rest.len() - rest.len() % avx2::CHUNK;
            let (body, tail) = rest.split_at_mut(body_len);
            let carry = &self.pending[..usize::from(self.pending_len)];
            let Some(valid) = avx2::unmask_and_check(body, key_at(key, phase), carry) else {
                unreachable!("AVX2 was detected");
            };
            if !valid {
                return Err(InvalidUtf8);
            }
            // `body` finished the carried character, if any, and is valid
            // but for its own last character: hold that one.
            self.pending_len = 0;
            let last = body_len - 3;
            self.hold(&body[last + last_char_start(&body[last..])..])?;
            apply_mask(tail, key, phase.wrapping_add(body_len));
            return self.feed(tail);
        }
        apply_mask(buf, key, phase);
        self.feed(buf)
    }

    /// Takes the last character of a piece: nothing, or a lead byte and
    /// the continuation bytes after it (at most 3 bytes in all), the rest of
    /// the piece being valid. An unfinished character is held, if it can
    /// still be finished.
    fn hold(&mut self, last: &[u8]) -> Result<(), InvalidUtf8> {
        if last.is_empty() {
            return Ok(());
        }
        match std::str::from_utf8(last) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(InvalidUtf8),
            Err(e) => {
                let tail = &last[e.valid_up_to()..];
                self.pending[..tail.len()].copy_from_slice(tail);
                self.pending_len = tail.len() as u8;
                Ok(())
            }
        }
    }

    /// Ends the stream: an unfinished character is an error.
    pub(crate) fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let unfinished = self.pending_len > 0;
        self.pending_len = 0;
        if unfinished {
            Err(InvalidUtf8)
        } else {
            Ok(())
        }
    }
}

/// Pieces at least this long are unmasked and validated in one pass: after
/// the up to 31 bytes before a 32-byte boundary, at least a chunk is left.
#[cfg(target_arch = "x86_64")]
const FUSED_MIN: usize = 128;

/// Where `block` should be cut so that no character that starts in it is
/// cut: at the start of its last character if that is a multi-byte one that
/// starts in its last 3 bytes, else at its end.
fn last_char_start(block: &[u8]) -> usize {
    let len = block.len();
    for i in (len.saturating_sub(3)..len).rev() {
        match block[i] {
            // A continuation byte: the character started earlier.
            0x80..=0xbf => {}
            // A lead byte: cut before it.
            0xc0..=0xff => return i,
            // ASCII: nothing after it can belong to a character before it.
            _ => return len,
        }
    }
    len
}

/// The length of the character that `lead` starts, for a lead byte that
/// `simdutf8` left pending (so it is a valid lead of a multi-byte character).
fn char_width(lead: u8) -> usize {
    match lead {
        0xf0..=0xf4 => 4,
        0xe0..=0xef => 3,
        _ => 2,
    }
}

/// Below this length `simdutf8` hands the bytes to `std::str::from_utf8`,
/// which spends a hundred-odd instructions on a 16-byte string.
const SHORT: usize = 64;

/// A short piece of ASCII (the common small text message) is valid UTF-8,
/// and `is_ascii` tells it in a few word-sized steps.
#[inline]
fn is_short_ascii(data: &[u8]) -> bool {
    data.len() < SHORT && data.is_ascii()
}

/// Validates a complete buffer.
pub(crate) fn validate(data: &[u8]) -> Result<(), InvalidUtf8> {
    if is_short_ascii(data) {
        return Ok(());
    }
    simdutf8::basic::from_utf8(data)
        .map(drop)
        .map_err(|_| InvalidUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn feed_all(pieces: &[&[u8]]) -> Result<(), InvalidUtf8> {
        let mut v = Utf8Validator::default();
        for p in pieces {
            v.feed(p)?;
        }
        v.finish()
    }

    /// Whether `bytes` can start a valid UTF-8 text: valid, or valid but
    /// for a character that the next bytes could finish.
    fn valid_prefix(bytes: &[u8]) -> bool {
        match std::str::from_utf8(bytes) {
            Ok(_) => true,
            Err(e) => e.error_len().is_none(),
        }
    }

    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    /// Text of exactly `len` bytes: ASCII runs and 2-, 3- and 4-byte
    /// characters, starting `shift` (below 64) bytes into the pattern, and
    /// cut at the end if `len` falls inside a character. Some 64-byte
    /// chunks are all ASCII, some are not.
    fn text(len: usize, shift: usize) -> Vec<u8> {
        let unit = "ascii text, then some more ascii text: 64 bytes and more of it. \
                    a\u{e9}\u{20ac}\u{1d11e} \u{e9}t\u{e9} \u{4e86}\u{89e3} \u{1f44d}!";
        unit.bytes().cycle().skip(shift).take(len).collect()
    }

    /// `data` with `bad` written at `at` (clipped to its end).
    fn with_error(mut data: Vec<u8>, at: usize, bad: &[u8]) -> Vec<u8> {
        for (i, b) in bad.iter().enumerate() {
            if let Some(slot) = data.get_mut(at + i) {
                *slot = *b;
            }
        }
        data
    }

    /// The lengths of the pieces that `cuts` cut `len` bytes into (the
    /// last piece, up to `len`, is left out).
    fn pieces(len: usize, cuts: &[prop::sample::Index]) -> Vec<usize> {
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(len + 1)).collect();
        points.sort_unstable();
        let mut prev = 0;
        points
            .into_iter()
            .map(|p| {
                let piece = p - prev;
                prev = p;
                piece
            })
            .collect()
    }

    /// Errors that two bytes can show, and that only three or four can.
    const ERRORS: [&[u8]; 9] = [
        &[0x80],
        &[0xff],
        &[0xc0, 0xaf],
        &[0xc3, b'a'],
        &[0xe2, 0x82, b'a'],
        &[0xe0, 0x80, 0x80],
        &[0xed, 0xa0, 0x80],
        &[0xf0, 0x9d, 0x84, b'a'],
        &[0xf4, 0x90, 0x80, 0x80],
    ];

    /// Unmasks and feeds `plain` (masked with `KEY` from `phase`) in
    /// `pieces` (their lengths), placed `align` bytes past a 64-byte
    /// boundary, after feeding `before` unmasked; checks every step against
    /// unmasking then validating with `std`, byte by byte. Feeding the
    /// plain pieces (the path without the one-pass kernel) must agree.
    fn check_unmask_and_feed(
        before: &[u8],
        plain: &[u8],
        pieces: &[usize],
        align: usize,
        phase: usize,
    ) {
        let mut storage = vec![0u8; plain.len() + 128];
        let start = align + storage.as_ptr().align_offset(64);
        let buf = &mut storage[start..start + plain.len()];
        buf.copy_from_slice(plain);
        crate::mask::apply_mask_naive(buf, KEY, phase);
        let mut v = Utf8Validator::default();
        let mut two_pass = Utf8Validator::default();
        let mut seen = before.to_vec();
        if v.feed(before).is_err() {
            assert!(!valid_prefix(before));
            return;
        }
        assert_eq!(two_pass.feed(before), Ok(()));
        let mut at = 0;
        for &len in pieces.iter().chain(std::iter::once(
            &(plain.len() - pieces.iter().sum::<usize>()),
        )) {
            let piece = &mut buf[at..at + len];
            let result = v.unmask_and_feed(piece, KEY, phase + at);
            assert_eq!(two_pass.feed(&plain[at..at + len]), result, "feed, at {at}");
            seen.extend_from_slice(&plain[at..at + len]);
            let expected = valid_prefix(&seen);
            assert_eq!(
                result.is_ok(),
                expected,
                "before {before:x?} plain {plain:x?} pieces {pieces:?} align {align} phase {phase}: \
                 at {at}, piece of {len}"
            );
            if !expected {
                return;
            }
            assert_eq!(
                piece,
                &plain[at..at + len],
                "unmasked, align {align} phase {phase} at {at}"
            );
            at += len;
        }
        assert_eq!(v.finish().is_ok(), std::str::from_utf8(&seen).is_ok());
    }

    #[test]
    fn unmask_and_feed_matches_unmask_then_validate_for_every_length_alignment_and_phase() {
        for len in 0..=257 {
            let mut inputs = vec![text(len, 0), text(len, 3), vec![b'a'; len]];
            for at in [len / 2, len.saturating_sub(1), 64] {
                for bad in [&ERRORS[0], &ERRORS[4]] {
                    if at < len {
                        inputs.push(with_error(text(len, 1), at, bad));
                    }
                }
            }
            for input in &inputs {
                for align in 0..64 {
                    for phase in 0..4 {
                        check_unmask_and_feed(&[], input, &[], align, phase);
                    }
                }
            }
        }
    }

    #[test]
    fn every_short_sequence_agrees_with_std_across_vector_and_chunk_boundaries() {
        // The bytes where a class of UTF-8 changes, and a few between.
        let edges = [
            0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xd0, 0xdf,
            0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf7, 0xf8, 0xff,
        ];
        let mut sequences: Vec<Vec<u8>> = Vec::new();
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                sequences.push(vec![a, b]);
            }
        }
        for &a in &edges {
            for &b in &edges {
                for &c in &edges {
                    sequences.push(vec![a, b, c]);
                    if a < 0xe0 {
                        // The fourth byte after a byte that starts no
                        // 3- or 4-byte character is the second one after
                        // another.
                        continue;
                    }
                    for &d in &[0x41, 0x80, 0x8f, 0x90, 0xbf, 0xc3, 0xf0] {
                        sequences.push(vec![a, b, c, d]);
                    }
                }
            }
        }
        // In a 128-byte piece starting on a 64-byte boundary: across the
        // two vectors of the first chunk, across the two chunks, and cut by
        // the end of the piece.
        for sequence in &sequences {
            for at in [30, 62, 126] {
                let plain = with_error(vec![b'a'; 128], at, sequence);
                check_unmask_and_feed(&[], &plain, &[], 0, 0);
            }
        }
    }

    /// Every 3- and 4-byte lead (E0 to FF, each low nibble has its own
    /// table entry) followed by continuation bytes at the edges of their
    /// classes: the sequences the edge bytes above leave out.
    #[test]
    fn every_multibyte_lead_followed_by_continuations_agrees_with_std() {
        let conts = [0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf];
        for lead in 0xe0..=0xffu8 {
            for &b in &conts {
                for &c in &[0x80, 0xbf] {
                    for sequence in [
                        vec![lead, b, c],
                        vec![lead, b, c, 0x80],
                        vec![lead, b, c, 0xbf],
                    ] {
                        for at in [30, 62, 126] {
                            let plain = with_error(vec![b'a'; 128], at, &sequence);
                            check_unmask_and_feed(&[], &plain, &[], 0, 0);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn unmask_and_feed_carries_a_cut_character_into_the_kernel() {
        // Every unfinished start of a character, then a piece that finishes
        // it (or does not), long enough for the one-pass path.
        let ends: [&[u8]; 9] = [
            &[0xc3],
            &[0xe2],
            &[0xe2, 0x82],
            &[0xed],
            &[0xf0],
            &[0xf0, 0x9d],
            &[0xf0, 0x9d, 0x84],
            &[0xf4, 0x8f],
            &[0xf4, 0x8f, 0xbf],
        ];
        for before in ends {
            assert!(valid_prefix(before) && std::str::from_utf8(before).is_err());
            for rest in [
                &[0x80u8][..],
                &[0x9e],
                &[0xbf, 0xbf],
                &[0x80, 0x80, 0x80],
                b"a",
                &[0xc3, 0xa9],
            ] {
                for len in [128, 191, 200, 256, 300] {
                    for fill in [0, 1, 2] {
                        let mut plain = rest.to_vec();
                        let body = match fill {
                            0 => vec![b'a'; len],
                            1 => text(len, 5),
                            _ => "\u{4e86}".repeat(len / 3 + 1).into_bytes(),
                        };
                        plain.extend_from_slice(&body);
                        plain.truncate(len);
                        for align in [0, 1, 31, 32, 63] {
                            check_unmask_and_feed(before, &plain, &[], align, 1);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_bad_byte_at_the_end_of_a_chunk_fails_at_once() {
        // A lead byte that can never start a character (C0, C1, F5 and
        // up), or a short one, as the last byte the kernel sees: the
        // kernel only finds such a byte from the byte after it.
        for bad in [0xc0, 0xc1, 0xf5, 0xf8, 0xff] {
            for len in [128, 160, 191, 192, 193, 256] {
                for at in [len - 1, len - 2, len - 3, 63, 64, 95, 127] {
                    let plain = with_error(vec![b'a'; len], at, &[bad]);
                    for align in [0, 8, 14, 32] {
                        check_unmask_and_feed(&[], &plain, &[], align, 0);
                        check_unmask_and_feed(&[], &plain, &[at.min(len)], align, 0);
                    }
                }
            }
        }
    }

    #[test]
    fn unmask_and_feed_fails_on_the_piece_with_the_first_invalid_byte() {
        let len = 1000;
        let plain = with_error(text(len, 0), 700, &[0xff]);
        let mut buf = plain.clone();
        crate::mask::apply_mask_naive(&mut buf, KEY, 0);
        let mut v = Utf8Validator::default();
        assert_eq!(v.unmask_and_feed(&mut buf[..300], KEY, 0), Ok(()));
        assert_eq!(v.unmask_and_feed(&mut buf[300..650], KEY, 300), Ok(()));
        assert_eq!(
            v.unmask_and_feed(&mut buf[650..701], KEY, 650),
            Err(InvalidUtf8)
        );
    }

    #[test]
    fn last_char_start_cuts_before_a_trailing_multi_byte_character_only() {
        assert_eq!(last_char_start(b""), 0);
        assert_eq!(last_char_start(b"abc"), 3);
        assert_eq!(last_char_start("ab\u{e9}".as_bytes()), 2);
        assert_eq!(last_char_start(&[b'a', 0xc3]), 1);
        assert_eq!(last_char_start(&[b'a', 0xe2, 0x82]), 1);
        assert_eq!(last_char_start(&[b'a', 0xf0, 0x9d, 0x84]), 1);
        assert_eq!(last_char_start(&[0xf0, 0x9d, 0x84, 0x9e]), 4);
        assert_eq!(last_char_start(&[b'a', 0x80, 0x80]), 3);
        assert_eq!(last_char_start(&[0x80, 0x80, 0x80]), 3);
    }

    #[test]
    fn a_character_cut_anywhere_is_accepted() {
        let text = "κόσμε €𝄞 ascii";
        let bytes = text.as_bytes();
        for i in 0..=bytes.len() {
            for j in i..=bytes.len() {
                assert_eq!(
                    feed_all(&[&bytes[..i], &bytes[i..j], &bytes[j..]]),
                    Ok(()),
                    "{i} {j}"
                );
            }
        }
    }

    #[test]
    fn fails_at_the_first_invalid_byte_before_the_end() {
        // A valid prefix, then 0xf5 which can never appear in UTF-8.
        let mut v = Utf8Validator::default();
        assert_eq!(v.feed(b"Hello-"), Ok(()));
        assert_eq!(v.feed(&[0xce, 0xba, 0xf5]), Err(InvalidUtf8));
    }

    #[test]
    fn an_invalid_continuation_across_pieces_fails_on_the_piece_that_shows_it() {
        let mut v = Utf8Validator::default();
        assert_eq!(v.feed(&[0xf0]), Ok(()));
        assert_eq!(v.feed(&[0x90]), Ok(()));
        // 0x41 is not a continuation byte.
        assert_eq!(v.feed(&[0x41]), Err(InvalidUtf8));
    }

    #[test]
    fn surrogates_and_overlongs_fail_early() {
        let mut v = Utf8Validator::default();
        // U+D800 encoded: ed a0 80 - invalid as soon as a0 follows ed.
        assert_eq!(v.feed(&[0xed]), Ok(()));
        assert_eq!(v.feed(&[0xa0]), Err(InvalidUtf8));
        let mut v = Utf8Validator::default();
        assert_eq!(v.feed(&[0xc0]), Err(InvalidUtf8));
    }

    #[test]
    fn unfinished_character_at_the_end_fails() {
        assert_eq!(feed_all(&[&[0xe2, 0x82]]), Err(InvalidUtf8));
    }

    /// Prints which path `unmask_and_feed` took (`scripts/test.sh` requires
    /// the AVX2 kernel on a CPU with AVX2), and checks it is the AVX2
    /// kernel exactly when the CPU has AVX2.
    #[test]
    #[allow(clippy::print_stdout)]
    fn avx2_kernel_runs_where_the_cpu_has_it() {
        let key = [1, 2, 3, 4];
        let mut buf = vec![b'a'; 4 * FUSED_MIN];
        apply_mask(&mut buf, key, 0);
        #[cfg(target_arch = "x86_64")]
        let (has, ran) = {
            let before = avx2::RUNS.with(std::cell::Cell::get);
            assert_eq!(
                Utf8Validator::default().unmask_and_feed(&mut buf, key, 0),
                Ok(())
            );
            let ran = avx2::RUNS.with(std::cell::Cell::get) > before;
            (std::arch::is_x86_feature_detected!("avx2"), ran)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let (has, ran) = {
            assert_eq!(
                Utf8Validator::default().unmask_and_feed(&mut buf, key, 0),
                Ok(())
            );
            (false, false)
        };
        assert!(buf.iter().all(|&b| b == b'a'), "unmasked");
        println!(
            "ws-proto kernels: utf8={}",
            if ran { "avx2" } else { "two-pass" }
        );
        assert_eq!(
            ran, has,
            "the AVX2 kernel ran: {ran}; the CPU has AVX2: {has}"
        );
    }

    proptest! {
        #[test]
        fn agrees_with_std_for_any_bytes_and_split(
            data in proptest::collection::vec(any::<u8>(), 0..64),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..5),
        ) {
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(data.len() + 1)).collect();
            points.sort_unstable();
            let mut v = Utf8Validator::default();
            let mut prev = 0;
            let mut result = Ok(());
            for p in points.into_iter().chain(std::iter::once(data.len())) {
                result = v.feed(&data[prev..p]);
                if result.is_err() { break; }
                prev = p;
            }
            if result.is_ok() { result = v.finish(); }
            prop_assert_eq!(result.is_ok(), std::str::from_utf8(&data).is_ok());
        }

        #[test]
        fn unmask_and_feed_agrees_with_std_for_any_bytes_pieces_and_placement(
            data in proptest::collection::vec(any::<u8>(), 0..600),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..5),
            align in 0..64usize,
            phase in 0..4usize,
        ) {
            check_unmask_and_feed(&[], &data, &pieces(data.len(), &cuts), align, phase);
        }

        #[test]
        fn unmask_and_feed_agrees_with_std_on_text_with_an_error_anywhere(
            parts in proptest::collection::vec(
                prop_oneof!["[ -~]{0,100}", "\\PC{0,8}"], 0..12),
            error in proptest::option::of((any::<prop::sample::Index>(), 0..ERRORS.len())),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..5),
            align in 0..64usize,
            phase in 0..4usize,
        ) {
            let mut data = parts.concat().into_bytes();
            if let Some((at, which)) = error {
                let at = at.index(data.len() + 1);
                data.splice(at..at, ERRORS[which].iter().copied());
            }
            check_unmask_and_feed(&[], &data, &pieces(data.len(), &cuts), align, phase);
        }

        #[test]
        fn valid_text_in_any_split_is_accepted(s in "\\PC{0,40}", cut in any::<prop::sample::Index>()) {
            let b = s.as_bytes();
            let c = cut.index(b.len() + 1);
            prop_assert_eq!(feed_all(&[&b[..c], &b[c..]]), Ok(()));
        }
    }
}
