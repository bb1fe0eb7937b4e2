//! Incremental UTF-8 validation that fails at the first invalid byte.
//!
//! A text message arrives in frames, and a frame arrives in reads; a
//! character may be cut anywhere. [`Utf8Validator`] keeps at most three
//! bytes of an unfinished character between pieces, so it reports an error
//! as soon as the bytes seen so far cannot start valid UTF-8, not at the end
//! of the message. The bulk of each piece goes through `simdutf8`.

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
        if is_short_ascii(data) || simdutf8::basic::from_utf8(data).is_ok() {
            return Ok(());
        }
        let e = simdutf8::compat::from_utf8(data).expect_err("basic and compat agree");
        if e.error_len().is_some() {
            return Err(InvalidUtf8);
        }
        let tail = &data[e.valid_up_to()..];
        self.pending[..tail.len()].copy_from_slice(tail);
        self.pending_len = tail.len() as u8;
        Ok(())
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
        fn valid_text_in_any_split_is_accepted(s in "\\PC{0,40}", cut in any::<prop::sample::Index>()) {
            let b = s.as_bytes();
            let c = cut.index(b.len() + 1);
            prop_assert_eq!(feed_all(&[&b[..c], &b[c..]]), Ok(()));
        }
    }
}
