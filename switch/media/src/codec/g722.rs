//! G.722 (ITU-T, 1988) at 64 kbit/s: sub-band ADPCM of 16 kHz audio, one byte per two samples.
//!
//! A 24-tap quadrature mirror filter splits each pair of input samples into a lower band
//! (0-4 kHz) and an upper band (4-8 kHz) sample at 8 kHz. The lower band is coded with a 6-bit
//! adaptive quantizer, the upper with a 2-bit one; each band predicts its next sample with an
//! adaptive two-pole, six-zero filter and adapts its quantizer step from the codes it sent. A
//! byte carries the upper band's 2 bits above the lower band's 6. The decoder runs the same
//! adaptation on the codes it reads and rebuilds 16 kHz audio through the mirror filter; the
//! two filters together delay the audio by 22 samples (1.4 ms).
//!
//! Written from the algorithm's description in Recommendation G.722 (blocks QMF, 1L-4L, 1H-4H),
//! fixed-point as specified, so the bitstream interworks with every other implementation. The
//! decoder is mode 1 only: it always uses all 6 lower-band bits. Any payload length is valid.

use super::conceal::Concealer;
use super::{ensure_room, CodecDesc, CodecError, Decoder, Encoder};
use crate::frame::Frame;

/// G.722 encoder state (both bands and the analysis filter's memory).
#[derive(Debug, Clone)]
pub struct G722Encoder {
    /// The last 24 input samples, oldest first.
    history: [i32; 24],
    low: Band,
    high: Band,
}

/// G.722 decoder state, with fade-out concealment.
pub struct G722Decoder {
    /// Lower minus upper band, newest first: feeds the even taps of the synthesis filter.
    difference: [i32; 12],
    /// Lower plus upper band, newest first: feeds the odd taps.
    sum: [i32; 12],
    low: Band,
    high: Band,
    concealer: Concealer,
}

impl G722Encoder {
    /// An encoder in the reset state the Recommendation starts from.
    pub fn new() -> G722Encoder {
        G722Encoder {
            history: [0; 24],
            low: Band::new(LOW),
            high: Band::new(HIGH),
        }
    }

    /// Codes the input pair (`first`, `second`), `second` being the later sample, as one byte.
    pub fn encode_pair(&mut self, first: i16, second: i16) -> u8 {
        self.history.copy_within(2.., 0);
        self.history[22] = i32::from(first);
        self.history[23] = i32::from(second);
        // Analysis filter: the even taps on the newest sample and every second one before it,
        // the odd taps on the others. Their sum is the lower band, their difference the upper.
        let (mut even, mut odd) = (0i32, 0i32);
        for i in 0..12 {
            even += QMF_EVEN[i] * self.history[23 - 2 * i];
            odd += QMF_ODD[i] * self.history[22 - 2 * i];
        }
        let xl = (even + odd) >> 14;
        let xh = (even - odd) >> 14;

        // Lower band: 6-bit code; the predictor and the step adaptation use its 4 upper bits.
        let el = saturate(xl - self.low.predictor.estimate);
        let magnitude = if el >= 0 { el } else { -(el + 1) };
        let mut level = 1;
        while level < 30 && magnitude >= (Q6[level] * self.low.step) >> 12 {
            level += 1;
        }
        let il = if el < 0 { ILN[level] } else { ILP[level] };
        let il4 = (il >> 2) as usize;
        let dl = (self.low.step * QM4[il4]) >> 15;
        self.low.adapt(WL[RL42[il4]], dl);

        // Upper band: 2-bit code.
        let eh = saturate(xh - self.high.predictor.estimate);
        let magnitude = if eh >= 0 { eh } else { -(eh + 1) };
        let big = magnitude >= (564 * self.high.step) >> 12;
        let ih = match (eh < 0, big) {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (false, false) => 3,
        };
        let dh = (self.high.step * QM2[ih]) >> 15;
        self.high.adapt(WH[RH2[ih]], dh);

        ((ih as u8) << 6) | il as u8
    }
}

impl Default for G722Encoder {
    fn default() -> Self {
        G722Encoder::new()
    }
}

impl G722Decoder {
    /// A decoder in the reset state; it conceals from silence until it has decoded something.
    pub fn new() -> G722Decoder {
        G722Decoder {
            difference: [0; 12],
            sum: [0; 12],
            low: Band::new(LOW),
            high: Band::new(HIGH),
            concealer: Concealer::new(16000),
        }
    }

    /// Decodes one byte into the pair of 16 kHz samples it stands for, earlier sample first.
    pub fn decode_byte(&mut self, code: u8) -> [i16; 2] {
        let il = usize::from(code & 0x3f);
        let ih = usize::from(code >> 6);

        // Lower band: the output uses all 6 bits, the adaptation only the upper 4 (as coded).
        let il4 = il >> 2;
        let rl =
            (self.low.predictor.estimate + ((self.low.step * QM6[il]) >> 15)).clamp(-16384, 16383);
        let dl = (self.low.step * QM4[il4]) >> 15;
        self.low.adapt(WL[RL42[il4]], dl);

        let dh = (self.high.step * QM2[ih]) >> 15;
        let rh = (self.high.predictor.estimate + dh).clamp(-16384, 16383);
        self.high.adapt(WH[RH2[ih]], dh);

        // Synthesis filter: even taps over (lower - upper) give the first output sample, odd
        // taps over (lower + upper) the second.
        self.difference.copy_within(..11, 1);
        self.sum.copy_within(..11, 1);
        self.difference[0] = rl - rh;
        self.sum[0] = rl + rh;
        let (mut first, mut second) = (0i32, 0i32);
        for i in 0..12 {
            first += QMF_EVEN[i] * self.difference[i];
            second += QMF_ODD[i] * self.sum[i];
        }
        [saturate(first >> 11) as i16, saturate(second >> 11) as i16]
    }
}

impl Default for G722Decoder {
    fn default() -> Self {
        G722Decoder::new()
    }
}

impl Encoder for G722Encoder {
    fn desc(&self) -> CodecDesc {
        CodecDesc::G722
    }

    fn encode_samples(&mut self, samples: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        let len = samples.len() / 2;
        ensure_room("G722", len, out.len())?;
        for (o, pair) in out.iter_mut().zip(samples.chunks_exact(2)) {
            *o = self.encode_pair(pair[0], pair[1]);
        }
        Ok(len)
    }
}

impl Decoder for G722Decoder {
    fn desc(&self) -> CodecDesc {
        CodecDesc::G722
    }

    fn payload_samples(&self, payload: &[u8]) -> Result<usize, CodecError> {
        Ok(payload.len() * 2)
    }

    fn decode_samples(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        let n = payload.len() * 2;
        ensure_room("G722", n, out.len())?;
        for (o, &code) in out.chunks_exact_mut(2).zip(payload) {
            o.copy_from_slice(&self.decode_byte(code));
        }
        self.concealer.remember(&out[..n]);
        Ok(n)
    }

    fn conceal(&mut self, out: &mut Frame) {
        self.concealer.conceal(out);
    }
}

/// The constants that differ between the two bands' step adaptation.
#[derive(Debug, Clone, Copy)]
struct BandShape {
    /// Step at reset.
    initial_step: i32,
    /// Upper limit of the log step.
    max_log_step: i32,
    /// The log step's exponent offset (8 lower, 10 upper).
    exponent: i32,
}

const LOW: BandShape = BandShape {
    initial_step: 32,
    max_log_step: 18432,
    exponent: 8,
};
const HIGH: BandShape = BandShape {
    initial_step: 8,
    max_log_step: 22528,
    exponent: 10,
};

/// One sub-band's ADPCM state: quantizer step and predictor.
#[derive(Debug, Clone)]
struct Band {
    shape: BandShape,
    /// Log-domain step (LOGSCL/LOGSCH's nabla).
    log_step: i32,
    /// Linear quantizer step (SCALEL/SCALEH's delta).
    step: i32,
    predictor: Predictor,
}

impl Band {
    fn new(shape: BandShape) -> Band {
        Band {
            shape,
            log_step: 0,
            step: shape.initial_step,
            predictor: Predictor::default(),
        }
    }

    /// After a code with log-step multiplier `weight` and quantized difference `dq`: adapts the
    /// step (leaky log with factor 127/128, then 2^x by table) and the predictor.
    fn adapt(&mut self, weight: i32, dq: i32) {
        self.log_step =
            (((self.log_step * 32512) >> 15) + weight).clamp(0, self.shape.max_log_step);
        let mantissa = ILB[((self.log_step >> 6) & 31) as usize];
        let shift = self.shape.exponent - (self.log_step >> 11);
        let linear = if shift < 0 {
            mantissa << -shift
        } else {
            mantissa >> shift
        };
        self.step = linear << 2;
        self.predictor.update(dq);
    }
}

/// The adaptive predictor of one band (block 4): two poles over the reconstructed signal, six
/// zeros over the quantized difference, coefficients in Q14 adapted by sign correlation.
#[derive(Debug, Clone, Default)]
struct Predictor {
    /// Pole coefficients a1, a2.
    a1: i32,
    a2: i32,
    /// Zero coefficients b1..b6 (index 0 unused).
    b: [i32; 7],
    /// Quantized differences d(n-1)..d(n-6) (index 0 unused).
    d: [i32; 7],
    /// Partially reconstructed signal p(n-1), p(n-2).
    p1: i32,
    p2: i32,
    /// Reconstructed signal r(n-1), r(n-2).
    r1: i32,
    r2: i32,
    /// The zero section's part of the estimate, sz(n).
    zero_part: i32,
    /// The signal estimate s(n) for the next sample.
    estimate: i32,
}

impl Predictor {
    /// Takes the new quantized difference `dq` and prepares the next estimate.
    fn update(&mut self, dq: i32) {
        let r0 = saturate(self.estimate + dq);
        let p0 = saturate(self.zero_part + dq);
        let s0 = p0 < 0;
        let s1 = self.p1 < 0;
        let s2 = self.p2 < 0;

        // Second pole: leak by 1 - 2^-7, step by 2^-7 on the sign agreement of p(n) and
        // p(n-2), pulled by f(a1) on that of p(n) and p(n-1); |a2| <= 0.75.
        let f_a1 = saturate(self.a1 << 2);
        let pull = (if s0 == s1 { -f_a1 } else { f_a1 }).min(32767);
        let toward = if s0 == s2 { 128 } else { -128 };
        let a2 = (toward + (pull >> 7) + ((self.a2 * 32512) >> 15)).clamp(-12288, 12288);

        // First pole: leak by 1 - 2^-8, step by 3 * 2^-8; |a1| <= 1 - 2^-4 - a2.
        let toward = if s0 == s1 { 192 } else { -192 };
        let a1 = saturate(toward + ((self.a1 * 32640) >> 15));
        let bound = saturate(15360 - a2);
        let a1 = a1.clamp(-bound, bound);

        // Zeros: leak by 1 - 2^-8, step by 2^-7 on the sign agreement of d(n) and d(n-i),
        // no step when d(n) is zero.
        let step = if dq == 0 { 0 } else { 128 };
        let sd = dq < 0;
        for i in 1..7 {
            let toward = if (self.d[i] < 0) == sd { step } else { -step };
            self.b[i] = saturate(toward + ((self.b[i] * 32640) >> 15));
        }

        // Delay line.
        self.d.copy_within(1..6, 2);
        self.d[1] = dq;
        self.r2 = self.r1;
        self.r1 = r0;
        self.p2 = self.p1;
        self.p1 = p0;
        self.a1 = a1;
        self.a2 = a2;

        // Next estimate: poles over r, zeros over d.
        let poles = saturate(
            ((self.a1 * saturate(self.r1 << 1)) >> 15) + ((self.a2 * saturate(self.r2 << 1)) >> 15),
        );
        let mut zeros = 0;
        for i in 1..7 {
            zeros += (self.b[i] * saturate(self.d[i] << 1)) >> 15;
        }
        self.zero_part = saturate(zeros);
        self.estimate = saturate(poles + self.zero_part);
    }
}

/// Clamps to the 16-bit range the Recommendation's arithmetic works in.
fn saturate(x: i32) -> i32 {
    x.clamp(i32::from(i16::MIN), i32::from(i16::MAX))
}

/// Mirror filter taps h(0), h(2), .., h(22); the filter is symmetric, so the odd taps h(1), ..,
/// h(23) are these reversed. Their sum over all 24 is 8192.
const QMF_EVEN: [i32; 12] = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11];
const QMF_ODD: [i32; 12] = [-11, 53, -156, 362, -805, 3876, 951, -210, 32, 12, -11, 3];

/// Lower band quantizer decision levels, in units of step / 4096 (the last two unused).
const Q6: [i32; 32] = [
    0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940,
    1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0,
];
/// Decision interval to 6-bit code, negative and positive differences.
const ILN: [i32; 32] = [
    0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11,
    10, 9, 8, 7, 6, 5, 4, 0,
];
const ILP: [i32; 32] = [
    0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39,
    38, 37, 36, 35, 34, 33, 32, 0,
];
/// 6-bit code to reconstruction level, in units of step / 32768.
const QM6: [i32; 64] = [
    -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232,
    -9360, -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776,
    -2400, -2032, -1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280,
    11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776,
    2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
];
/// 4-bit (upper bits of the 6-bit) code to reconstruction level, used for adaptation.
const QM4: [i32; 16] = [
    0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584,
    1200, 0,
];
/// 4-bit code to its magnitude class, and each class's log-step multiplier.
const RL42: [usize; 16] = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
const WL: [i32; 8] = [-60, -30, 58, 172, 334, 538, 1198, 3042];
/// 2^(i/32) scaled by 2048, rounded: the mantissa of the linear step.
const ILB: [i32; 32] = [
    2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
    2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
];
/// Upper band: 2-bit code to reconstruction level, magnitude class, log-step multiplier.
const QM2: [i32; 4] = [-7408, -1616, 7408, 1616];
const RH2: [usize; 4] = [2, 1, 2, 1];
const WH: [i32; 3] = [0, -214, 798];

#[cfg(test)]
mod tests;
