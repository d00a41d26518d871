//! DTD validation of a read file: content models, attributes, ENTITY/ENTITIES references to
//! declared unparsed entities, notations. Problems carry the element path and a zh-TW message.

use std::collections::HashSet;

use super::decl::{Dtd, EntityDecl};
use super::model::{AttrDecl, AttrDefault, AttrType, ContentSpec};
use crate::error::{DocError, Problem, ProblemKind};
use crate::xml::{Element, Node, XmlDoc, is_name, is_name_char};

/// The declarations in force for one file: its internal subset, then its external DTD.
#[derive(Default)]
pub struct Declarations {
    pub internal: Dtd,
    pub external: Option<&'static Dtd>,
    /// The DOCTYPE names a DTD we do not have.
    pub missing_external: Option<String>,
}

impl Declarations {
    /// Reads the DOCTYPE of `doc`. Fails only when the internal subset cannot be read or asks
    /// for something we refuse (parameter entities).
    pub fn of(doc: &XmlDoc) -> Result<Declarations, DocError> {
        let Some(dt) = &doc.doctype else {
            return Ok(Declarations::default());
        };
        let internal = match &dt.internal_subset {
            Some(s) => super::internal(s).map_err(|e| match e {
                DocError::Dtd { detail } => DocError::Dtd {
                    detail: format!("DOCTYPE 內部子集（自第 {} 行起）{detail}", dt.internal_line),
                },
                other => other,
            })?,
            None => Dtd::default(),
        };
        let (external, missing_external) = match &dt.system_id {
            Some(id) => match super::external(id) {
                Some(d) => (Some(d), None),
                None => (None, Some(id.clone())),
            },
            None => (None, None),
        };
        Ok(Declarations {
            internal,
            external,
            missing_external,
        })
    }

    fn layers(&self) -> impl Iterator<Item = &Dtd> {
        std::iter::once(&self.internal).chain(self.external)
    }

    pub fn element(&self, name: &str) -> Option<&ContentSpec> {
        self.layers().find_map(|d| d.elements.get(name))
    }

    /// An entity by name; the internal subset is read first, so its declarations bind.
    pub fn entity(&self, name: &str) -> Option<&EntityDecl> {
        self.layers().find_map(|d| d.entities.get(name))
    }

    /// Why `name` cannot be the value of an ENTITY attribute, which names an unparsed entity.
    fn not_unparsed(&self, name: &str) -> Option<&'static str> {
        match self.entity(name) {
            Some(EntityDecl::External {
                notation: Some(_), ..
            }) => None,
            Some(_) => Some("不是未剖析實體（應有 NDATA）"),
            None => Some("未在 DOCTYPE 中宣告"),
        }
    }

    fn notation_declared(&self, name: &str) -> bool {
        self.layers().any(|d| d.notations.contains_key(name))
    }

    /// Attribute declarations of an element, the first declaration of each name binding.
    fn attrs(&self, element: &str) -> Vec<&AttrDecl> {
        self.attrs_by_layer(element)
            .into_iter()
            .map(|(a, _)| a)
            .collect()
    }

    /// As [`Self::attrs`], each with whether its binding declaration is in the external DTD.
    fn attrs_by_layer(&self, element: &str) -> Vec<(&AttrDecl, bool)> {
        let mut out: Vec<(&AttrDecl, bool)> = Vec::new();
        for (i, d) in self.layers().enumerate() {
            if let Some(list) = d.attlists.get(element) {
                for a in list {
                    if !out.iter().any(|(o, _)| o.name == a.name) {
                        out.push((a, i > 0));
                    }
                }
            }
        }
        out
    }

    /// Whether an element's declaration comes from the external DTD.
    fn element_is_external(&self, name: &str) -> bool {
        !self.internal.elements.contains_key(name)
            && self.external.is_some_and(|e| e.elements.contains_key(name))
    }

    /// Every DTD problem in `doc`, in document order.
    pub fn validate(&self, doc: &XmlDoc) -> Vec<Problem> {
        let mut v = Validator {
            decls: self,
            problems: Vec::new(),
            ids: HashSet::new(),
            idrefs: Vec::new(),
            standalone: doc.standalone && self.external.is_some(),
            dropped: 0,
        };
        let root_path = format!("/{}", doc.root.name);
        let Some(dt) = &doc.doctype else {
            v.problem(&root_path, "缺少 DOCTYPE 宣告，無法依 DTD 驗證".to_string());
            return v.problems;
        };
        if let Some(id) = &self.missing_external {
            v.problem(
                &root_path,
                format!(
                    "找不到 DOCTYPE 指定的 DTD「{id}」（只接受不含路徑的正式 DTD 檔名，例如 104_2_utf8.dtd）"
                ),
            );
            return v.problems;
        }
        if dt.system_id.is_none() {
            let file = super::dtd_for_root(&doc.root.name).unwrap_or("104_2_utf8.dtd");
            v.problem(
                &root_path,
                format!(
                    "DOCTYPE 沒有指定 DTD 檔案；公文必須以正式 DTD 驗證（例如 <!DOCTYPE {} SYSTEM \"{file}\">），不接受只有內部子集的自訂 DTD",
                    doc.root.name
                ),
            );
            return v.problems;
        }
        if dt.name != doc.root.name {
            v.problem(
                &root_path,
                format!(
                    "根元素〈{}〉與 DOCTYPE 宣告的名稱〈{}〉不符",
                    doc.root.name, dt.name
                ),
            );
        }
        // Declared twice in one DTD, or in the internal subset and again in the external DTD.
        let in_both = self.internal.element_order.iter().filter(|name| {
            self.external
                .is_some_and(|e| e.elements.contains_key(name.as_str()))
        });
        for name in self.layers().flat_map(|d| &d.redeclared).chain(in_both) {
            v.problem("/", format!("元素〈{name}〉在 DTD 中重複宣告"));
        }
        for d in self.layers() {
            for name in &d.entity_order {
                if let Some(EntityDecl::External {
                    notation: Some(n), ..
                }) = d.entities.get(name)
                    && !self.notation_declared(n)
                {
                    v.problem(
                        "/",
                        format!("實體「{name}」使用的標記法（NOTATION）「{n}」未宣告"),
                    );
                }
            }
        }
        v.declarations();
        let mut path = root_path.clone();
        v.element(&doc.root, &mut path);
        let refs = std::mem::take(&mut v.idrefs);
        for (p, r) in refs {
            if !v.ids.contains(&r) {
                v.problem(&p, format!("IDREF「{r}」找不到對應的 ID"));
            }
        }
        v.finish(&root_path)
    }
}

struct Validator<'a> {
    decls: &'a Declarations,
    problems: Vec<Problem>,
    ids: HashSet<String>,
    idrefs: Vec<(String, String)>,
    /// `standalone="yes"` with an external DTD in force.
    standalone: bool,
    /// Problems beyond [`MAX_PROBLEMS`], counted but not kept.
    dropped: usize,
}

/// A hostile file can break a rule once per attribute; past this many, problems are only counted.
const MAX_PROBLEMS: usize = 1000;

impl Validator<'_> {
    fn problem(&mut self, path: &str, message: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems
                .push(Problem::new(ProblemKind::Dtd, path, message));
        } else {
            self.dropped += 1;
        }
    }

    /// The problems found, with a last entry counting those left out.
    fn finish(mut self, root_path: &str) -> Vec<Problem> {
        if self.dropped > 0 {
            let message = format!(
                "另有 {} 個問題未列出（最多列出 {MAX_PROBLEMS} 個）",
                self.dropped
            );
            self.problems
                .push(Problem::new(ProblemKind::Dtd, root_path, message));
        }
        self.problems
    }

    /// The validity constraints on the declarations themselves (XML 1.0 §3.2.2, §3.3.1, §3.3.2),
    /// as xmllint reports them even when the declaration is never used.
    fn declarations(&mut self) {
        let decls = self.decls;
        for d in decls.layers() {
            for name in &d.element_order {
                if let Some(ContentSpec::Mixed(names)) = d.elements.get(name)
                    && let Some(dup) = first_duplicate(names)
                {
                    self.problem(
                        "/",
                        format!("元素〈{name}〉的混合內容模型重複列出〈{dup}〉"),
                    );
                }
            }
            let mut elements: Vec<&String> = d.attlists.keys().collect();
            elements.sort();
            for el in elements {
                let mut ids = 0;
                for a in &d.attlists[el] {
                    let label = format!("ATTLIST〈{el}〉的屬性 {}", a.name);
                    self.attr_decl(el, a, &label, &mut ids);
                }
            }
        }
    }

    fn attr_decl(&mut self, el: &str, a: &AttrDecl, label: &str, ids: &mut usize) {
        let decls = self.decls;
        if let AttrType::Enumeration(list) | AttrType::Notation(list) = &a.ty
            && let Some(dup) = first_duplicate(list)
        {
            self.problem("/", format!("{label} 的列舉值「{dup}」重複"));
        }
        if let AttrType::Notation(list) = &a.ty {
            for n in list {
                if !decls.notation_declared(n) {
                    self.problem("/", format!("{label} 所列的標記法「{n}」未宣告"));
                }
            }
            if matches!(decls.element(el), Some(ContentSpec::Empty)) {
                self.problem(
                    "/",
                    format!("{label} 為 NOTATION 型別，不可宣告在 EMPTY 元素上"),
                );
            }
        }
        if a.ty == AttrType::Id {
            *ids += 1;
            if *ids > 1 {
                self.problem("/", format!("{label}：元素〈{el}〉只能有一個 ID 屬性"));
            }
            if !matches!(a.default, AttrDefault::Required | AttrDefault::Implied) {
                self.problem(
                    "/",
                    format!("{label} 為 ID 型別，預設只能是 #IMPLIED 或 #REQUIRED"),
                );
            }
        }
        let (AttrDefault::Value(raw) | AttrDefault::Fixed(raw)) = &a.default else {
            return;
        };
        let value = normalize(&a.ty, raw);
        let tokens: Vec<&str> = value.split(' ').filter(|t| !t.is_empty()).collect();
        let ok = match &a.ty {
            AttrType::Cdata => true,
            AttrType::Enumeration(list) | AttrType::Notation(list) => list.contains(&value),
            AttrType::Id | AttrType::IdRef | AttrType::Entity => is_name(&value),
            AttrType::IdRefs | AttrType::Entities => {
                !tokens.is_empty() && tokens.iter().all(|t| is_name(t))
            }
            AttrType::NmToken => is_nmtoken(&value),
            AttrType::NmTokens => !tokens.is_empty() && tokens.iter().all(|t| is_nmtoken(t)),
        };
        if !ok {
            let msg = match &a.ty {
                AttrType::Enumeration(list) | AttrType::Notation(list) => format!(
                    "{label} 的預設值「{value}」不在允許的清單內（{}）",
                    list.join("|")
                ),
                _ => format!("{label} 的預設值「{value}」不符合其型別"),
            };
            self.problem("/", msg);
            return;
        }
        if matches!(a.ty, AttrType::Entity | AttrType::Entities) {
            for n in tokens {
                if let Some(why) = decls.not_unparsed(n) {
                    self.problem("/", format!("{label} 的預設值參照的實體「{n}」{why}"));
                }
            }
        }
    }

    fn element(&mut self, e: &Element, path: &mut String) {
        let spec = self.decls.element(&e.name);
        if spec.is_none() {
            self.problem(path, format!("元素〈{}〉未在 DTD 中宣告", e.name));
        }
        self.attributes(e, path);
        if let Some(spec) = spec {
            self.content(e, spec, path);
        }
        for (c, n) in e.elements().zip(e.ordinals()) {
            let len = path.len();
            path.push('/');
            path.push_str(&c.name);
            if n > 0 {
                path.push_str(&format!("[{n}]"));
            }
            self.element(c, path);
            path.truncate(len);
        }
    }

    fn content(&mut self, e: &Element, spec: &ContentSpec, path: &str) {
        match spec {
            ContentSpec::Any => {}
            ContentSpec::Empty => {
                if !e.children.is_empty() {
                    self.problem(
                        path,
                        format!(
                            "元素〈{}〉宣告為 EMPTY，不可有任何內容（包括空白、註解與處理指令）",
                            e.name
                        ),
                    );
                }
            }
            ContentSpec::Mixed(allowed) => {
                for c in e.elements() {
                    if !allowed.contains(&c.name) {
                        let msg = if allowed.is_empty() {
                            format!(
                                "元素〈{}〉只能包含文字，不可包含子元素〈{}〉",
                                e.name, c.name
                            )
                        } else {
                            format!(
                                "元素〈{}〉不可包含子元素〈{}〉（內容模型 {spec}）",
                                e.name, c.name
                            )
                        };
                        self.problem(path, msg);
                    }
                }
            }
            ContentSpec::Children(_, nfa) => {
                let mut reported_space = false;
                for n in &e.children {
                    match n {
                        Node::Text(t) if !t.trim_matches(is_xml_space).is_empty() => {
                            let shown = shown_text(t);
                            self.problem(
                                path,
                                format!("元素〈{}〉只能包含子元素，不可有文字「{shown}」", e.name),
                            );
                        }
                        Node::CData(_) => self.problem(
                            path,
                            format!("元素〈{}〉只能包含子元素，不可有 CDATA", e.name),
                        ),
                        Node::Text(_)
                            if self.standalone
                                && !reported_space
                                && self.decls.element_is_external(&e.name) =>
                        {
                            reported_space = true;
                            self.problem(
                                path,
                                format!(
                                    "文件宣告 standalone=\"yes\"，但元素〈{}〉宣告在外部 DTD 且只能包含子元素，其中不可有空白（請改為 standalone=\"no\" 或移除此宣告）",
                                    e.name
                                ),
                            );
                        }
                        _ => {}
                    }
                }
                if let Err(at) = nfa.check(e.elements().map(|c| c.name.as_str())) {
                    let got: Vec<&str> = e.elements().map(|c| c.name.as_str()).collect();
                    let hint = match got.get(at) {
                        Some(n) => format!("第 {} 個子元素〈{n}〉不應出現在此", at + 1),
                        None => "缺少必要的子元素".to_string(),
                    };
                    self.problem(
                        path,
                        format!(
                            "元素〈{}〉的子元素不符 DTD：{hint}；應為 {spec}，實際為 ({})",
                            e.name,
                            got.join(", ")
                        ),
                    );
                }
            }
        }
    }

    fn attributes(&mut self, e: &Element, path: &str) {
        if self.standalone {
            for (d, external) in self.decls.attrs_by_layer(&e.name) {
                if external
                    && matches!(d.default, AttrDefault::Value(_) | AttrDefault::Fixed(_))
                    && e.attr(&d.name).is_none()
                {
                    self.problem(
                        path,
                        format!(
                            "文件宣告 standalone=\"yes\"，元素〈{}〉的屬性 {} 不可省略而取用外部 DTD 的預設值",
                            e.name, d.name
                        ),
                    );
                }
            }
        }
        let decls = self.decls.attrs(&e.name);
        for a in &e.attrs {
            let Some(d) = decls.iter().find(|d| d.name == a.name) else {
                self.problem(
                    path,
                    format!("屬性 {} 未在 DTD 中宣告（元素〈{}〉）", a.name, e.name),
                );
                continue;
            };
            self.attribute(e, d, &a.value, path);
        }
        for d in &decls {
            if matches!(d.default, AttrDefault::Required) && e.attr(&d.name).is_none() {
                self.problem(path, format!("元素〈{}〉缺少必要屬性 {}", e.name, d.name));
            }
        }
    }

    fn attribute(&mut self, e: &Element, d: &AttrDecl, raw: &str, path: &str) {
        let value = normalize(&d.ty, raw);
        let label = format!("元素〈{}〉的屬性 {}", e.name, d.name);
        if let AttrDefault::Fixed(f) = &d.default
            && &value != f
        {
            self.problem(path, format!("{label} 固定為「{f}」，不可為「{value}」"));
        }
        match &d.ty {
            AttrType::Cdata => {}
            AttrType::Enumeration(list) | AttrType::Notation(list) => {
                if !list.contains(&value) {
                    self.problem(
                        path,
                        format!(
                            "{label} 的值「{value}」不在允許的清單內（{}）",
                            list.join("|")
                        ),
                    );
                } else if matches!(d.ty, AttrType::Notation(_))
                    && !self.decls.notation_declared(&value)
                {
                    self.problem(path, format!("{label} 所指的標記法「{value}」未宣告"));
                }
            }
            AttrType::Entity | AttrType::Entities => {
                let names: Vec<&str> = value.split(' ').filter(|s| !s.is_empty()).collect();
                if names.is_empty() || (d.ty == AttrType::Entity && names.len() != 1) {
                    self.problem(path, format!("{label} 應為實體名稱，實際為「{value}」"));
                }
                for n in names {
                    if let Some(why) = self.decls.not_unparsed(n) {
                        self.problem(path, format!("{label} 參照的實體「{n}」{why}"));
                    }
                }
            }
            AttrType::Id => {
                if !is_name(&value) {
                    self.problem(path, format!("{label} 的值「{value}」不是有效的名稱"));
                } else if !self.ids.insert(value.clone()) {
                    self.problem(path, format!("{label} 的 ID「{value}」重複"));
                }
            }
            AttrType::IdRef | AttrType::IdRefs => {
                for r in value.split(' ').filter(|s| !s.is_empty()) {
                    if is_name(r) {
                        self.idrefs.push((path.to_string(), r.to_string()));
                    } else {
                        self.problem(path, format!("{label} 的值「{r}」不是有效的名稱"));
                    }
                }
            }
            AttrType::NmToken | AttrType::NmTokens => {
                let ok = !value.is_empty()
                    && value
                        .split(' ')
                        .all(|t| !t.is_empty() && t.chars().all(is_name_char))
                    && (d.ty == AttrType::NmTokens || !value.contains(' '));
                if !ok {
                    self.problem(path, format!("{label} 的值「{value}」不是有效的名稱記號"));
                }
            }
        }
    }
}

/// Values of every type but CDATA are normalised before they are checked (XML 1.0 §3.3.3).
fn normalize(ty: &AttrType, raw: &str) -> String {
    if *ty == AttrType::Cdata {
        raw.to_string()
    } else {
        raw.split(' ')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn first_duplicate(list: &[String]) -> Option<&str> {
    let mut seen = HashSet::new();
    list.iter()
        .find(|n| !seen.insert(n.as_str()))
        .map(String::as_str)
}

fn is_nmtoken(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_name_char)
}

/// Up to 20 characters of stray text for a message; text that is only white space outside XML's
/// own (such as the full-width space U+3000) is shown by code point so it can be found.
fn shown_text(t: &str) -> String {
    let t = t.trim_matches(is_xml_space);
    if t.trim().is_empty() {
        let codes: Vec<String> = t
            .chars()
            .take(5)
            .map(|c| format!("U+{:04X}", c as u32))
            .collect();
        format!("空白字元 {}", codes.join(" "))
    } else {
        t.trim().chars().take(20).collect()
    }
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}
