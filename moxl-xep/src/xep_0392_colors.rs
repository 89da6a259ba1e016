//! XEP-0392: Consistent Color Generation (version 1.0). The same color for the same name on every client: a hue
//! angle from SHA-1 of the text (§5.1), optional corrections for color vision deficiencies (§5.2), RGB through
//! HSLuv (§5.4, the `hsluv` crate), adaptation to a background (§5.3), and mapping to a restricted palette
//! (§5.5, §5.6).
//!
//! In a group chat, the input SHOULD be the occupant's real bare JID, else the nickname (§3.2); a JID is used as
//! it would be compared, case-sensitively after preparation (§6.3).
//!
//! ```
//! use moxl_xep::xep_0392_colors::{Cvd, Rgb};
//! let rgb = Rgb::of("juliet@capulet.lit", Cvd::None);
//! assert_eq!(rgb.to_hex(), "#008392");
//! ```

use std::collections::BTreeMap;

use sha1::{Digest as _, Sha1};

/// A correction for a color vision deficiency (§5.2). The choice is the user's and is never shared (§4).
///
/// ```
/// use moxl_xep::xep_0392_colors::{hue, Cvd};
/// assert!((hue("Board", Cvd::RedGreen) - 351.430664).abs() < 1e-5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum Cvd {
    /// No correction.
    #[default]
    None,
    /// Red/green blindness (§5.2.1): the hue is folded into the range that stays distinguishable.
    RedGreen,
    /// Blue blindness (§5.2.2): the hue is taken modulo 180.
    Blue,
}

/// The hue angle of `text`, in degrees from 0 (inclusive) to 360 (exclusive): §5.1 (the first two bytes of the
/// SHA-1 of its UTF-8, little-endian, over 65536, times 360), then the correction of §5.2.
///
/// ```
/// use moxl_xep::xep_0392_colors::{hue, Cvd};
/// assert!((hue("Romeo", Cvd::None) - 327.255249).abs() < 1e-5);
/// assert!((hue("Romeo", Cvd::Blue) - 147.255249).abs() < 1e-5);
/// ```
pub fn hue(text: &str, cvd: Cvd) -> f64 {
    let digest: [u8; 20] = Sha1::digest(text.as_bytes()).into();
    let [low, high, ..] = digest;
    let angle = f64::from(u16::from_le_bytes([low, high])) / 65536.0 * 360.0;
    match cvd {
        Cvd::None => angle,
        // §5.2.1: add 90, modulo 180, subtract 90, modulo 360 (with non-negative modulo).
        Cvd::RedGreen => ((angle + 90.0).rem_euclid(180.0) - 90.0).rem_euclid(360.0),
        // §5.2.2: modulo 180.
        Cvd::Blue => angle.rem_euclid(180.0),
    }
}

/// An RGB color, each channel from 0 to 1.
///
/// ```
/// use moxl_xep::xep_0392_colors::Rgb;
/// assert_eq!(Rgb::new(1.0, 0.0, 0.8).to_hex(), "#ff00cc");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rgb {
    /// Red, 0 to 1.
    pub r: f64,
    /// Green, 0 to 1.
    pub g: f64,
    /// Blue, 0 to 1.
    pub b: f64,
}

impl Rgb {
    /// A color from its channels (each clamped to 0..=1).
    ///
    /// ```
    /// let c = moxl_xep::xep_0392_colors::Rgb::new(1.5, -1.0, 0.5);
    /// assert_eq!((c.r, c.g, c.b), (1.0, 0.0, 0.5));
    /// ```
    pub fn new(r: f64, g: f64, b: f64) -> Self {
        Rgb { r: r.clamp(0.0, 1.0), g: g.clamp(0.0, 1.0), b: b.clamp(0.0, 1.0) }
    }

    /// The color of `text` (§3.1): its [`hue`], then HSLuv with saturation 100 and lightness 50 (§5.4).
    ///
    /// ```
    /// use moxl_xep::xep_0392_colors::{Cvd, Rgb};
    /// let c = Rgb::of("Romeo", Cvd::None);
    /// assert_eq!(c.to_hex(), "#dd00af");
    /// ```
    pub fn of(text: &str, cvd: Cvd) -> Self {
        Self::from_hue(hue(text, cvd))
    }

    /// The color of a hue angle (§5.4: HSLuv, saturation 100, lightness 50).
    ///
    /// ```
    /// let c = moxl_xep::xep_0392_colors::Rgb::from_hue(171.430664);
    /// assert_eq!(c.to_hex(), "#008675");
    /// ```
    pub fn from_hue(hue: f64) -> Self {
        let (r, g, b) = hsluv::hsluv_to_rgb(hue, 100.0, 50.0);
        Rgb::new(r, g, b)
    }

    /// This color adapted to be read on `background` (§5.3): mixed 80/20 with the inverted background.
    ///
    /// ```
    /// use moxl_xep::xep_0392_colors::Rgb;
    /// let on_black = Rgb::new(0.0, 0.5, 1.0).on_background(Rgb::new(0.0, 0.0, 0.0));
    /// assert_eq!(on_black.to_hex(), "#3399ff");
    /// ```
    pub fn on_background(self, background: Rgb) -> Self {
        let mix = |c: f64, bg: f64| 0.2 * (1.0 - bg) + 0.8 * c;
        Rgb::new(mix(self.r, background.r), mix(self.g, background.g), mix(self.b, background.b))
    }

    /// `#rrggbb`, each channel rounded to the nearest of 0..=255.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0392_colors::Rgb::new(0.0, 0.515, 0.573).to_hex(), "#008392");
    /// ```
    pub fn to_hex(self) -> String {
        let byte = |c: f64| (c * 255.0).round() as u8;
        format!("#{:02x}{:02x}{:02x}", byte(self.r), byte(self.g), byte(self.b))
    }
}

/// A restricted palette mapped by hue (§5.5), to pick the closest color for a hue (§5.6) on a device that can
/// show only a few colors.
///
/// ```
/// use moxl_xep::xep_0392_colors::{hue, Cvd, Palette, Rgb};
/// let palette = Palette::new([Rgb::new(1.0, 0.0, 0.0), Rgb::new(0.0, 0.0, 1.0), Rgb::new(0.5, 0.5, 0.5)]);
/// assert_eq!(palette.len(), 2, "grays have no hue and are left out");
/// assert_eq!(palette.closest(hue("Romeo", Cvd::None)).to_hex(), "#ff0000");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Palette {
    /// Integer hue angle → the palette color closest to the target lightness there.
    by_angle: BTreeMap<u16, Rgb>,
}

/// The HSLuv lightness §5.5 prefers when two palette colors have the same hue.
const PREFERRED_LIGHTNESS: f64 = 73.2;

impl Palette {
    /// The hue mapping of `colors` (§5.5): grays are skipped; each color goes to its hue rounded to an integer;
    /// of two colors on one angle, the one whose HSLuv lightness is closer to 73.2 stays.
    ///
    /// ```
    /// use moxl_xep::xep_0392_colors::{Palette, Rgb};
    /// assert!(Palette::new([Rgb::new(0.2, 0.2, 0.2)]).is_empty());
    /// ```
    pub fn new(colors: impl IntoIterator<Item = Rgb>) -> Self {
        let mut by_angle: BTreeMap<u16, (f64, Rgb)> = BTreeMap::new();
        for c in colors {
            if c.r == c.g && c.g == c.b {
                continue;
            }
            let (h, _s, l) = hsluv::rgb_to_hsluv(c.r, c.g, c.b);
            if !h.is_finite() {
                continue;
            }
            // A hue of 359.6 rounds to 360, the same angle as 0.
            let angle = (h.round() as u16) % 360;
            let better = by_angle
                .get(&angle)
                .is_none_or(|(kept, _)| (kept - PREFERRED_LIGHTNESS).abs() > (l - PREFERRED_LIGHTNESS).abs());
            if better {
                by_angle.insert(angle, (l, c));
            }
        }
        Palette { by_angle: by_angle.into_iter().map(|(a, (_, c))| (a, c)).collect() }
    }

    /// The 216 "web safe" colors less their six grays (six samples on each axis of the RGB cube), the palette of
    /// the XEP's test vectors and of 256-color terminals.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0392_colors::Palette::web_safe().len() > 100, true);
    /// ```
    pub fn web_safe() -> Self {
        let steps = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0];
        let mut cube = Vec::with_capacity(216);
        for r in steps {
            for g in steps {
                for b in steps {
                    cube.push(Rgb { r, g, b });
                }
            }
        }
        Self::new(cube)
    }

    /// How many hue angles the palette covers.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0392_colors::Palette::new([]).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.by_angle.len()
    }

    /// Whether the palette has no colored entry (then [`closest`](Self::closest) gives black).
    ///
    /// ```
    /// assert!(moxl_xep::xep_0392_colors::Palette::new([]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.by_angle.is_empty()
    }

    /// The palette color for `hue` (§5.6): the entry at the rounded angle if there is one, else the entry at the
    /// smallest circular distance (the lower angle on a tie). An empty palette gives black.
    ///
    /// ```
    /// use moxl_xep::xep_0392_colors::{hue, Cvd, Palette};
    /// let c = Palette::web_safe().closest(hue("juliet@capulet.lit", Cvd::None));
    /// assert_eq!(c.to_hex(), "#00ccff");
    /// ```
    pub fn closest(&self, hue: f64) -> Rgb {
        let rounded = (hue.round().rem_euclid(360.0)) as u16;
        if let Some(c) = self.by_angle.get(&rounded) {
            return *c;
        }
        let distance = |beta: u16| {
            let d = (hue - f64::from(beta)).rem_euclid(360.0);
            d.min(360.0 - d)
        };
        self.by_angle
            .iter()
            .min_by(|(a, _), (b, _)| distance(**a).total_cmp(&distance(**b)))
            .map(|(_, c)| *c)
            .unwrap_or(Rgb { r: 0.0, g: 0.0, b: 0.0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text, angle, corrected hue, and r, g, b.
    type Row = (&'static str, f64, f64, [f64; 3]);

    /// §8.1: the rows for each correction.
    const FULL_RANGE: [(Cvd, [Row; 5]); 3] = [
        (
            Cvd::None,
            [
                ("Romeo", 327.255249, 327.255249, [0.865, 0.000, 0.686]),
                ("juliet@capulet.lit", 209.410400, 209.410400, [0.000, 0.515, 0.573]),
                ("😺", 331.199341, 331.199341, [0.872, 0.000, 0.659]),
                ("council", 359.994507, 359.994507, [0.918, 0.000, 0.394]),
                ("Board", 171.430664, 171.430664, [0.000, 0.527, 0.457]),
            ],
        ),
        (
            Cvd::RedGreen,
            [
                ("Romeo", 327.255249, 327.255249, [0.865, 0.000, 0.686]),
                ("juliet@capulet.lit", 209.410400, 29.410400, [0.742, 0.359, 0.000]),
                ("😺", 331.199341, 331.199341, [0.872, 0.000, 0.659]),
                ("council", 359.994507, 359.994507, [0.918, 0.000, 0.394]),
                ("Board", 171.430664, 351.430664, [0.904, 0.000, 0.494]),
            ],
        ),
        (
            Cvd::Blue,
            [
                ("Romeo", 327.255249, 147.255249, [0.000, 0.535, 0.350]),
                ("juliet@capulet.lit", 209.410400, 29.410400, [0.742, 0.359, 0.000]),
                ("😺", 331.199341, 151.199341, [0.000, 0.533, 0.373]),
                ("council", 359.994507, 179.994507, [0.000, 0.524, 0.485]),
                ("Board", 171.430664, 171.430664, [0.000, 0.527, 0.457]),
            ],
        ),
    ];

    #[test]
    fn the_xeps_full_range_vectors() {
        for (cvd, rows) in FULL_RANGE {
            for (text, angle, expected_hue, [r, g, b]) in rows {
                assert!((hue(text, Cvd::None) - angle).abs() < 1e-5, "{text} angle");
                let h = hue(text, cvd);
                assert!((h - expected_hue).abs() < 1e-5, "{text} {cvd:?}: {h} ≠ {expected_hue}");
                let c = Rgb::of(text, cvd);
                for (got, want) in [(c.r, r), (c.g, g), (c.b, b)] {
                    assert!((got - want).abs() < 5e-4, "{text} {cvd:?}: {c:?} ≠ {r} {g} {b}");
                }
            }
        }
    }

    #[test]
    fn the_xeps_palette_vectors() {
        // §8.2: text, corrected hue, r, g, b of the closest web-safe color.
        type PaletteRow = (&'static str, [f64; 3]);
        let rows: [(Cvd, [PaletteRow; 5]); 3] = [
            (
                Cvd::None,
                [
                    ("Romeo", [1.0, 0.0, 0.8]),
                    ("juliet@capulet.lit", [0.0, 0.8, 1.0]),
                    ("😺", [1.0, 0.4, 0.8]),
                    ("council", [0.8, 0.2, 0.4]),
                    ("Board", [0.0, 1.0, 0.8]),
                ],
            ),
            (
                Cvd::RedGreen,
                [
                    ("Romeo", [1.0, 0.0, 0.8]),
                    ("juliet@capulet.lit", [1.0, 0.6, 0.4]),
                    ("😺", [1.0, 0.4, 0.8]),
                    ("council", [0.8, 0.2, 0.4]),
                    ("Board", [0.4, 0.0, 0.2]),
                ],
            ),
            (
                Cvd::Blue,
                [
                    ("Romeo", [0.4, 0.8, 0.6]),
                    ("juliet@capulet.lit", [1.0, 0.6, 0.4]),
                    ("😺", [0.2, 0.8, 0.6]),
                    ("council", [0.0, 0.8, 0.8]),
                    ("Board", [0.0, 1.0, 0.8]),
                ],
            ),
        ];
        let palette = Palette::web_safe();
        for (cvd, rows) in rows {
            for (text, [r, g, b]) in rows {
                let c = palette.closest(hue(text, cvd));
                assert!(
                    (c.r - r).abs() < 1e-9 && (c.g - g).abs() < 1e-9 && (c.b - b).abs() < 1e-9,
                    "{text} {cvd:?}: {c:?} ≠ {r} {g} {b}"
                );
            }
        }
    }

    #[test]
    fn hues_stay_in_range_and_backgrounds_mix() {
        for text in ["", "a", "€", "x".repeat(10_000).as_str()] {
            for cvd in [Cvd::None, Cvd::RedGreen, Cvd::Blue] {
                let h = hue(text, cvd);
                assert!((0.0..360.0).contains(&h), "{text:?} {cvd:?} {h}");
            }
        }
        let white = Rgb::new(1.0, 1.0, 1.0);
        assert_eq!(Rgb::new(1.0, 1.0, 1.0).on_background(white), Rgb::new(0.8, 0.8, 0.8));
        assert_eq!(Palette::new([]).closest(10.0), Rgb::new(0.0, 0.0, 0.0));
    }
}
