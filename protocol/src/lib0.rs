//! The lib0 primitives the y-protocols are written in: variable-length unsigned integers and
//! length-prefixed byte strings.
//!
//! The reader never allocates on the strength of a length it has read: a prefix that claims more
//! bytes than the frame holds is an error, whatever it claims.

use crate::error::DecodeError;

/// A cursor over one frame.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    /// Reads a lib0 variable-length unsigned integer (7 bits a byte, least significant first).
    pub fn read_var_u64(&mut self) -> Result<u64, DecodeError> {
        let mut value: u64 = 0;
        let mut shift = 0u32;
        loop {
            let Some(&byte) = self.buf.get(self.pos) else {
                return Err(DecodeError::TruncatedVarint { at: self.pos });
            };
            self.pos += 1;
            let payload = u64::from(byte & 0x7f);
            if shift == 63 && payload > 1 || shift > 63 {
                return Err(DecodeError::VarintOverflow { at: self.pos - 1 });
            }
            value |= payload << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
        }
    }

    /// Reads a length-prefixed byte string, borrowing it from the frame.
    pub fn read_buf(&mut self) -> Result<&'a [u8], DecodeError> {
        let at = self.pos;
        let claimed = self.read_var_u64()?;
        let available = self.remaining();
        if claimed > available as u64 {
            return Err(DecodeError::LengthExceedsFrame {
                at,
                claimed,
                available,
            });
        }
        let start = self.pos;
        self.pos += claimed as usize;
        Ok(&self.buf[start..self.pos])
    }

    /// Reads exactly `len` raw bytes.
    pub fn read_raw(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        let available = self.remaining();
        if len > available {
            return Err(DecodeError::LengthExceedsFrame {
                at: self.pos,
                claimed: len as u64,
                available,
            });
        }
        let start = self.pos;
        self.pos += len;
        Ok(&self.buf[start..self.pos])
    }

    /// Reads a length-prefixed UTF-8 string.
    pub fn read_string(&mut self) -> Result<&'a str, DecodeError> {
        let at = self.pos;
        let bytes = self.read_buf()?;
        std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 { at })
    }
}

/// Appends a lib0 variable-length unsigned integer.
pub fn write_var_u64(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends a length-prefixed byte string.
pub fn write_buf(out: &mut Vec<u8>, bytes: &[u8]) {
    write_var_u64(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// How many bytes [`write_var_u64`] takes for `value`.
pub fn var_u64_len(value: u64) -> usize {
    let bits = 64 - value.max(1).leading_zeros() as usize;
    bits.div_ceil(7).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_every_width() {
        let samples = [
            0,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u32::MAX as u64,
            1 << 53,
            u64::MAX,
        ];
        for value in samples {
            let mut out = Vec::new();
            write_var_u64(&mut out, value);
            assert_eq!(out.len(), var_u64_len(value), "length of {value}");
            let mut reader = Reader::new(&out);
            assert_eq!(reader.read_var_u64(), Ok(value));
            assert!(reader.is_empty());
        }
    }

    #[test]
    fn a_varint_past_64_bits_is_refused() {
        let bytes = [0xff; 11];
        assert!(matches!(
            Reader::new(&bytes).read_var_u64(),
            Err(DecodeError::VarintOverflow { .. })
        ));
    }

    #[test]
    fn a_truncated_varint_is_refused() {
        assert_eq!(
            Reader::new(&[0x80, 0x80]).read_var_u64(),
            Err(DecodeError::TruncatedVarint { at: 2 })
        );
    }

    #[test]
    fn a_length_claiming_gigabytes_is_refused_without_allocating() {
        let mut frame = Vec::new();
        write_var_u64(&mut frame, 4 << 30);
        frame.extend_from_slice(b"abc");
        assert_eq!(
            Reader::new(&frame).read_buf(),
            Err(DecodeError::LengthExceedsFrame {
                at: 0,
                claimed: 4 << 30,
                available: 3
            })
        );
    }
}
