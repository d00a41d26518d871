//! Reads DTD markup declarations (ELEMENT, ATTLIST, ENTITY, NOTATION) from the official DTD files
//! and from a DI's internal subset. Parameter entities are resolved only against the DTD files
//! built into this crate; nothing is ever loaded from disk or the network.

use std::collections::HashMap;

use super::model::{AttrDecl, AttrDefault, AttrType, ContentSpec, Cp, OCC_MARKS, Occ, Particle};
use crate::error::DocError;
use crate::xml::{Cursor as Cur, is_name_char, is_name_start, is_pubid_char};

/// A declared general entity.
#[derive(Debug, Clone, PartialEq)]
pub enum EntityDecl {
    /// `<!ENTITY n "text">`: declared, but never expanded by this crate.
    Internal(String),
    /// `<!ENTITY n SYSTEM "file">` (parsed) or `… NDATA notation` (unparsed: attachments, the SW).
    External {
        system_id: String,
        public_id: Option<String>,
        notation: Option<String>,
    },
}

/// The declarations of one DTD (external files, or one internal subset).
#[derive(Debug, Clone, Default)]
pub struct Dtd {
    pub elements: HashMap<String, ContentSpec>,
    /// Declaration order, for stable messages.
    pub element_order: Vec<String>,
    pub attlists: HashMap<String, Vec<AttrDecl>>,
    pub entities: HashMap<String, EntityDecl>,
    /// Unparsed entities in declaration order (attachments keep their order).
    pub entity_order: Vec<String>,
    pub notations: HashMap<String, Option<String>>,
    /// Elements declared twice: a validity error.
    pub redeclared: Vec<String>,
    param_entities: HashMap<String, EntityDecl>,
}

/// Where parameter entities come from.
pub(crate) enum Source<'a> {
    /// Built-in DTD files, looked up by bare file name.
    Library(&'a dyn Fn(&str) -> Option<&'static str>),
    /// A document's internal subset: no parameter entity is ever expanded.
    InternalSubset,
}

const MAX_PE_DEPTH: usize = 4;

impl Dtd {
    pub(crate) fn parse(text: &str, source: &Source<'_>) -> Result<Dtd, DocError> {
        let mut dtd = Dtd::default();
        dtd.read(text, source, 0)?;
        Ok(dtd)
    }

    fn read(&mut self, text: &str, source: &Source<'_>, depth: usize) -> Result<(), DocError> {
        let mut c = Cur { s: text, pos: 0 };
        loop {
            c.ws();
            if c.done() {
                return Ok(());
            }
            if c.eat("<!--") {
                match c.rest().find("-->") {
                    Some(i) => c.pos += i + 3,
                    None => return Err(c.err("註解未結束")),
                }
            } else if c.eat("<?") {
                match c.rest().find("?>") {
                    Some(i) => c.pos += i + 2,
                    None => return Err(c.err("處理指令未結束")),
                }
            } else if c.eat("<!ELEMENT") {
                self.element(&mut c)?;
            } else if c.eat("<!ATTLIST") {
                self.attlist(&mut c)?;
            } else if c.eat("<!ENTITY") {
                self.entity(&mut c)?;
            } else if c.eat("<!NOTATION") {
                self.notation(&mut c)?;
            } else if c.eat("%") {
                let name = c.name()?;
                c.expect(";")?;
                self.expand_pe(&name, source, depth)?;
            } else {
                return Err(c.err("無法辨識的宣告"));
            }
        }
    }

    fn expand_pe(&mut self, name: &str, source: &Source<'_>, depth: usize) -> Result<(), DocError> {
        let Source::Library(lookup) = source else {
            return Err(DocError::Entity {
                name: format!("%{name};"),
                detail: "內部子集中的參數實體不予展開".into(),
            });
        };
        let Some(EntityDecl::External { system_id, .. }) = self.param_entities.get(name).cloned()
        else {
            return Err(DocError::Dtd {
                detail: format!("參數實體 %{name}; 未宣告或不是外部檔案"),
            });
        };
        if depth >= MAX_PE_DEPTH {
            return Err(DocError::Dtd {
                detail: format!("參數實體 %{name}; 巢狀過深"),
            });
        }
        let Some(text) = lookup(&system_id) else {
            return Err(DocError::Dtd {
                detail: format!("找不到 DTD 檔案「{system_id}」"),
            });
        };
        self.read(text, source, depth + 1)
    }

    fn element(&mut self, c: &mut Cur<'_>) -> Result<(), DocError> {
        c.req_ws()?;
        let name = c.name()?;
        c.req_ws()?;
        let spec = if c.eat("EMPTY") {
            ContentSpec::Empty
        } else if c.eat("ANY") {
            ContentSpec::Any
        } else if c.eat("(") {
            c.ws();
            if c.eat("#PCDATA") {
                let mut names = Vec::new();
                loop {
                    c.ws();
                    if c.eat("|") {
                        c.ws();
                        names.push(c.name()?);
                    } else {
                        break;
                    }
                }
                c.expect(")")?;
                if !names.is_empty() && !c.eat("*") {
                    return Err(c.err("混合內容模型應以「)*」結尾"));
                }
                c.eat("*");
                ContentSpec::Mixed(names)
            } else {
                let cp = group(c, 0)?;
                ContentSpec::children(cp)
            }
        } else {
            return Err(c.err(format!("元素〈{name}〉的內容模型無法辨識")));
        };
        c.ws();
        c.expect(">")?;
        if self.elements.contains_key(&name) {
            self.redeclared.push(name);
        } else {
            self.element_order.push(name.clone());
            self.elements.insert(name, spec);
        }
        Ok(())
    }

    fn attlist(&mut self, c: &mut Cur<'_>) -> Result<(), DocError> {
        c.req_ws()?;
        let element = c.name()?;
        let list = self.attlists.entry(element).or_default();
        loop {
            c.ws();
            if c.eat(">") {
                return Ok(());
            }
            let name = c.name()?;
            c.req_ws()?;
            // A keyword that starts a longer one comes after it.
            let keywords = [
                ("CDATA", AttrType::Cdata),
                ("IDREFS", AttrType::IdRefs),
                ("IDREF", AttrType::IdRef),
                ("ID", AttrType::Id),
                ("ENTITIES", AttrType::Entities),
                ("ENTITY", AttrType::Entity),
                ("NMTOKENS", AttrType::NmTokens),
                ("NMTOKEN", AttrType::NmToken),
            ];
            let ty = if let Some((_, ty)) = keywords.into_iter().find(|(k, _)| c.eat(k)) {
                ty
            } else if c.eat("NOTATION") {
                c.req_ws()?;
                c.expect("(")?;
                AttrType::Notation(token_list(c)?)
            } else if c.eat("(") {
                AttrType::Enumeration(token_list(c)?)
            } else {
                return Err(c.err(format!("屬性 {name} 的型別無法辨識")));
            };
            c.req_ws()?;
            let default = if c.eat("#REQUIRED") {
                AttrDefault::Required
            } else if c.eat("#IMPLIED") {
                AttrDefault::Implied
            } else if c.eat("#FIXED") {
                c.req_ws()?;
                AttrDefault::Fixed(c.literal()?.to_string())
            } else {
                AttrDefault::Value(c.literal()?.to_string())
            };
            // The first declaration of an attribute binds; later ones are ignored (XML 1.0 §3.3).
            if !list.iter().any(|a| a.name == name) {
                list.push(AttrDecl { name, ty, default });
            }
        }
    }

    fn entity(&mut self, c: &mut Cur<'_>) -> Result<(), DocError> {
        c.req_ws()?;
        let param = c.eat("%");
        if param {
            c.req_ws()?;
        }
        let name = c.name()?;
        c.req_ws()?;
        let decl = if c.starts("\"") || c.starts("'") {
            EntityDecl::Internal(c.literal()?.to_string())
        } else {
            let (public_id, system_id) = external_id(c, false)?;
            let system_id = system_id.unwrap_or_default();
            if has_uri_fragment(&system_id) {
                return Err(c.err(format!(
                    "實體「{name}」的系統識別「{system_id}」不可含片段識別「#」"
                )));
            }
            let had_ws = c.ws();
            let notation = if had_ws && c.eat("NDATA") {
                if param {
                    return Err(c.err("參數實體不可有 NDATA"));
                }
                c.req_ws()?;
                Some(c.name()?)
            } else {
                None
            };
            EntityDecl::External {
                system_id,
                public_id,
                notation,
            }
        };
        c.ws();
        c.expect(">")?;
        let map = if param {
            &mut self.param_entities
        } else {
            &mut self.entities
        };
        // The first declaration of an entity binds (XML 1.0 §4.2).
        if let std::collections::hash_map::Entry::Vacant(slot) = map.entry(name) {
            if !param {
                self.entity_order.push(slot.key().clone());
            }
            slot.insert(decl);
        }
        Ok(())
    }

    fn notation(&mut self, c: &mut Cur<'_>) -> Result<(), DocError> {
        c.req_ws()?;
        let name = c.name()?;
        c.req_ws()?;
        let (_, system_id) = external_id(c, true)?;
        c.ws();
        c.expect(">")?;
        self.notations.entry(name).or_insert(system_id);
        Ok(())
    }
}

/// `SYSTEM "x"` or `PUBLIC "p" "x"`; for notations the system literal after PUBLIC is optional.
fn external_id(
    c: &mut Cur<'_>,
    notation: bool,
) -> Result<(Option<String>, Option<String>), DocError> {
    if c.eat("SYSTEM") {
        c.req_ws()?;
        Ok((None, Some(c.literal()?.to_string())))
    } else if c.eat("PUBLIC") {
        c.req_ws()?;
        let public = c.literal()?.to_string();
        if let Some(ch) = public.chars().find(|&ch| !is_pubid_char(ch)) {
            return Err(c.err(format!("PUBLIC 識別中不可有字元「{ch}」")));
        }
        let save = c.pos;
        let had_ws = c.ws();
        if had_ws && (c.starts("\"") || c.starts("'")) {
            Ok((Some(public), Some(c.literal()?.to_string())))
        } else if notation {
            c.pos = save;
            Ok((Some(public), None))
        } else {
            Err(c.err("PUBLIC 之後應有系統識別"))
        }
    } else {
        Err(c.err("應為 SYSTEM 或 PUBLIC"))
    }
}

/// Whether a system identifier is a URI reference with a fragment (`plan.pdf#page=2`), which XML
/// forbids in entity declarations (§4.2.2). Like xmllint, only a well-formed URI counts: a
/// system identifier that is no URI at all (non-ASCII, spaces, a second `#`) is let through.
fn has_uri_fragment(id: &str) -> bool {
    if id.matches('#').count() != 1 {
        return false;
    }
    let b = id.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                if i + 2 >= b.len()
                    || !(b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit())
                {
                    return false;
                }
                i += 3;
                continue;
            }
            c if c.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?#".contains(&c) => {}
            _ => return false,
        }
        i += 1;
    }
    true
}

/// `a | b | c )` after the opening parenthesis of an enumerated type.
fn token_list(c: &mut Cur<'_>) -> Result<Vec<String>, DocError> {
    let mut out = Vec::new();
    loop {
        c.ws();
        out.push(c.nmtoken()?);
        c.ws();
        if c.eat(")") {
            return Ok(out);
        }
        c.expect("|")?;
    }
}

/// A content particle group after its opening parenthesis, with its occurrence suffix.
fn group(c: &mut Cur<'_>, depth: usize) -> Result<Cp, DocError> {
    if depth > 32 {
        return Err(c.err("內容模型巢狀過深"));
    }
    let mut items = vec![cp(c, depth)?];
    let mut sep: Option<char> = None;
    loop {
        c.ws();
        if c.eat(")") {
            break;
        }
        let s = if c.eat(",") {
            ','
        } else if c.eat("|") {
            '|'
        } else {
            return Err(c.err("內容模型應以「,」或「|」分隔"));
        };
        if sep.is_some_and(|p| p != s) {
            return Err(c.err("同一組內容模型不可混用「,」與「|」"));
        }
        sep = Some(s);
        items.push(cp(c, depth)?);
    }
    let particle = if sep == Some('|') {
        Particle::Choice(items)
    } else {
        Particle::Seq(items)
    };
    Ok(Cp {
        particle,
        occ: occ(c),
    })
}

fn cp(c: &mut Cur<'_>, depth: usize) -> Result<Cp, DocError> {
    c.ws();
    if c.eat("(") {
        c.ws();
        group(c, depth + 1)
    } else {
        let name = c.name()?;
        Ok(Cp {
            particle: Particle::Name(name),
            occ: occ(c),
        })
    }
}

fn occ(c: &mut Cur<'_>) -> Occ {
    let mark = OCC_MARKS.into_iter().find(|(m, _)| c.eat(m));
    mark.map_or(Occ::One, |(_, o)| o)
}

impl<'a> Cur<'a> {
    fn err(&self, msg: impl Into<String>) -> DocError {
        // A parameter entity reference inside a declaration is what made it unreadable.
        if let Some(rest) = self.rest().strip_prefix('%')
            && rest.starts_with(is_name_start)
        {
            let name: String = rest
                .chars()
                .take_while(|&c| is_name_char(c))
                .take(64)
                .collect();
            return DocError::Entity {
                name: format!("%{name};"),
                detail: "宣告內的參數實體參照不予展開".into(),
            };
        }
        let (line, column) = crate::xml::line_col(self.s, self.pos);
        DocError::Dtd {
            detail: format!("第 {line} 行第 {column} 字：{}", msg.into()),
        }
    }
    fn expect(&mut self, t: &str) -> Result<(), DocError> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(self.err(format!("應為「{t}」")))
        }
    }
    fn req_ws(&mut self) -> Result<(), DocError> {
        if self.ws() {
            Ok(())
        } else if self.starts("%") {
            Err(DocError::Entity {
                name: "%".into(),
                detail: "宣告內的參數實體參照不予展開".into(),
            })
        } else {
            Err(self.err("應有空白"))
        }
    }
    fn name(&mut self) -> Result<String, DocError> {
        match self.rest().chars().next() {
            Some(c) if is_name_start(c) => {}
            _ => return Err(self.err("應為名稱")),
        }
        self.nmtoken()
    }
    fn nmtoken(&mut self) -> Result<String, DocError> {
        let len = self
            .rest()
            .char_indices()
            .find(|&(_, c)| !is_name_char(c))
            .map(|(i, _)| i)
            .unwrap_or(self.rest().len());
        if len == 0 {
            return Err(self.err("應為名稱記號"));
        }
        let n = self.rest()[..len].to_string();
        self.pos += len;
        Ok(n)
    }
    fn literal(&mut self) -> Result<&'a str, DocError> {
        let q = match self.rest().chars().next() {
            Some(q @ ('"' | '\'')) => q,
            _ => return Err(self.err("應為以引號括住的字串")),
        };
        self.pos += 1;
        let Some(end) = self.rest().find(q) else {
            return Err(self.err("字串的引號未結束"));
        };
        let v = &self.rest()[..end];
        self.pos += end + 1;
        Ok(v)
    }
}
