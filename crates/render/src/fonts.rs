//! The Traditional Chinese fonts a printed 公文 is set in, and the widths the layout needs.
//!
//! The government's 全字庫 fonts (Debian `fonts-cns11643-kai` / `-sung`) come as one file for
//! the common plane and separate files for Extension B and the CNS "Plus" characters. Those are
//! 30–65 MB each, so only the first is read up front; the others are read the first time a
//! document uses a character the loaded ones lack.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::RenderError;

/// Where Debian installs the fonts we look for (under `/usr/share/fonts/`), best first:
/// 全字庫正楷體 (what agencies print in), its extension planes, then 全字庫正宋體 and Noto CJK TC
/// for characters Kai lacks.
const SYSTEM_FONTS: &[(&str, u32)] = &[
    ("truetype/cns11643/TW-Kai-98_1.ttf", 0),
    ("truetype/cns11643/TW-Kai-Ext-B-98_1.ttf", 0),
    ("truetype/cns11643/TW-Kai-Plus-98_1.ttf", 0),
    ("truetype/cns11643/TW-Sung-98_1.ttf", 0),
    ("truetype/cns11643/TW-Sung-Ext-B-98_1.ttf", 0),
    ("truetype/cns11643/TW-Sung-Plus-98_1.ttf", 0),
    // Noto Sans CJK: index 3 of the collection is the TC face.
    ("opentype/noto/NotoSansCJK-Regular.ttc", 3),
    ("opentype/noto/NotoSerifCJK-Regular.ttc", 3),
];

/// [`SYSTEM_FONTS`] with their full paths.
fn system_fonts() -> impl Iterator<Item = (PathBuf, u32)> {
    SYSTEM_FONTS
        .iter()
        .map(|(p, i)| (Path::new("/usr/share/fonts").join(p), *i))
}

/// Printed in place of a character that no font has (the customary 〓 "missing character").
pub(crate) const MISSING: char = '〓';

/// One font file, read when first needed.
struct Slot {
    path: Option<PathBuf>,
    index: u32,
    loaded: OnceLock<Option<Face>>,
}

pub(crate) struct Face {
    pub(crate) data: Arc<Vec<u8>>,
    pub(crate) index: u32,
    pub(crate) pdf: krilla::text::Font,
}

impl Face {
    fn new(data: Vec<u8>, index: u32) -> Option<Face> {
        let data = Arc::new(data);
        // Both readers must accept the file: ttf-parser measures, krilla embeds.
        ttf_parser::Face::parse(&data, index).ok()?;
        let pdf = krilla::text::Font::new(data.clone().into(), index)?;
        Some(Face { data, index, pdf })
    }
}

/// The fonts a document is printed in: the first is the main face, the rest are fallbacks for
/// characters it lacks. Load once and reuse across documents.
pub struct Fonts {
    slots: Vec<Slot>,
}

impl Fonts {
    /// The installed 全字庫 fonts (or Noto CJK TC). Fails with a message naming the package
    /// to install when none is there.
    pub fn system() -> Result<Fonts, RenderError> {
        let slots: Vec<Slot> = system_fonts()
            .filter(|(p, _)| p.is_file())
            .map(|(path, index)| Slot {
                path: Some(path),
                index,
                loaded: OnceLock::new(),
            })
            .collect();
        if slots.is_empty() {
            return Err(RenderError::FontMissing {
                tried: system_fonts()
                    .map(|(p, _)| p.display().to_string())
                    .collect(),
            });
        }
        let fonts = Fonts { slots };
        if fonts.face(0).is_none() {
            return Err(RenderError::FontInvalid {
                detail: format!(
                    "{} 無法讀取或不是 TrueType／OpenType 字型",
                    fonts.slots[0]
                        .path
                        .as_deref()
                        .unwrap_or(Path::new(""))
                        .display()
                ),
            });
        }
        Ok(fonts)
    }

    /// One font file given by the user (TrueType, OpenType or the first face of a collection).
    pub fn from_bytes(data: Vec<u8>) -> Result<Fonts, RenderError> {
        let face = Face::new(data, 0).ok_or_else(|| RenderError::FontInvalid {
            detail: "指定的字型檔無法讀取或不是 TrueType／OpenType 字型".into(),
        })?;
        let loaded = OnceLock::new();
        let _ = loaded.set(Some(face));
        Ok(Fonts {
            slots: vec![Slot {
                path: None,
                index: 0,
                loaded,
            }],
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// The face in slot `i`, reading its file the first time. A file that cannot be read is
    /// skipped as if it were not installed (the next fallback takes over).
    pub(crate) fn face(&self, i: usize) -> Option<&Face> {
        let slot = self.slots.get(i)?;
        slot.loaded
            .get_or_init(|| {
                let data = std::fs::read(slot.path.as_ref()?).ok()?;
                Face::new(data, slot.index)
            })
            .as_ref()
    }
}

/// Character widths for one layout, with each character's font chosen once.
pub(crate) struct Measure<'a> {
    fonts: &'a Fonts,
    parsed: Vec<Option<Option<ttf_parser::Face<'a>>>>,
    /// char → (font slot, advance in em).
    cache: HashMap<char, Option<(usize, f32)>>,
}

impl<'a> Measure<'a> {
    pub(crate) fn new(fonts: &'a Fonts) -> Self {
        Measure {
            fonts,
            parsed: (0..fonts.len()).map(|_| None).collect(),
            cache: HashMap::new(),
        }
    }

    fn parsed(&mut self, i: usize) -> Option<&ttf_parser::Face<'a>> {
        if self.parsed[i].is_none() {
            let fonts: &'a Fonts = self.fonts;
            let face = fonts
                .face(i)
                .and_then(|f| ttf_parser::Face::parse(&f.data, f.index).ok());
            self.parsed[i] = Some(face);
        }
        self.parsed[i].as_ref().and_then(Option::as_ref)
    }

    /// The slot of the first font that has `c`, and its advance in em.
    pub(crate) fn lookup(&mut self, c: char) -> Option<(usize, f32)> {
        if let Some(hit) = self.cache.get(&c) {
            return *hit;
        }
        let mut found = None;
        for i in 0..self.fonts.len() {
            let Some(face) = self.parsed(i) else { continue };
            if let Some(g) = face.glyph_index(c) {
                let upem = face.units_per_em() as f32;
                let adv = face.glyph_hor_advance(g).unwrap_or(face.units_per_em()) as f32;
                found = Some((i, adv / upem));
                break;
            }
        }
        self.cache.insert(c, found);
        found
    }

    /// The character as it will be printed (〓 when no font has it) with its slot and width.
    pub(crate) fn resolve(&mut self, c: char) -> (char, usize, f32) {
        if let Some((slot, em)) = self.lookup(c) {
            return (c, slot, em);
        }
        match self.lookup(MISSING) {
            Some((slot, em)) => (MISSING, slot, em),
            None => ('?', 0, 0.5),
        }
    }

    pub(crate) fn width(&mut self, s: &str, size: f32) -> f32 {
        s.chars().map(|c| self.resolve(c).2).sum::<f32>() * size
    }
}
