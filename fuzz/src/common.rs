//! Helpers shared by the targets: cutting input into the pieces a
//! transport would deliver, and deterministic masking keys.

/// Cuts `len` bytes into consecutive piece lengths, chosen by `seed`:
///
/// - `0`: one piece, the whole input;
/// - `1`: one byte at a time;
/// - `n >= 2`: pseudo-random lengths in `1..=n` (a fixed xorshift sequence
///   seeded by `n`, so a seed file always splits the same way).
///
/// Empty input gives one empty piece, so a target still polls once.
pub fn sizes(seed: u8, len: usize) -> Vec<usize> {
    if seed == 0 || len == 0 {
        return vec![len];
    }
    let mut state = u32::from(seed).wrapping_mul(0x9e37_79b9) | 1;
    let mut out = Vec::new();
    let mut left = len;
    while left > 0 {
        let size = if seed == 1 {
            1
        } else {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            1 + (state % u32::from(seed)) as usize
        };
        let size = size.min(left);
        out.push(size);
        left -= size;
    }
    out
}

/// The pieces of `data`, cut by [`sizes`].
pub fn split(seed: u8, data: &[u8]) -> Vec<&[u8]> {
    let mut rest = data;
    sizes(seed, data.len())
        .into_iter()
        .map(|n| {
            let (piece, tail) = rest.split_at(n);
            rest = tail;
            piece
        })
        .collect()
}

/// Where the first empty line in `buf` ends, if any: a line feed followed
/// by `\r\n` or by a bare `\n` (httparse accepts bare line feeds).
pub fn head_end(buf: &[u8]) -> Option<usize> {
    let lf_lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    let lf_crlf = buf.windows(3).position(|w| w == b"\n\r\n").map(|i| i + 3);
    match (lf_lf, lf_crlf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Whether a request line's method so far can still be a token: the bytes
/// of `line` (which starts after any empty lines) before its first space,
/// within the first `max` bytes, are all token characters (RFC 9110
/// §5.6.2: tchar). A server refuses the request as soon as they are not.
pub fn method_is_token_so_far(line: &[u8], max: usize) -> bool {
    const TCHAR_PUNCT: &[u8] = b"!#$%&'*+-.^_`|~";
    line[..line.len().min(max)]
        .split(|&b| b == b' ')
        .next()
        .unwrap_or_default()
        .iter()
        .all(|b| b.is_ascii_digit() || b.is_ascii_alphabetic() || TCHAR_PUNCT.contains(b))
}

/// Masking keys for a client: a fixed sequence, so runs are reproducible.
pub fn mask_keys(seed: u32) -> impl FnMut() -> [u8; 4] + Send + 'static {
    let mut state = seed;
    move || {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        state.to_le_bytes()
    }
}
