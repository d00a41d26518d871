//! Content models and attribute declarations, and the automaton that checks a sequence of child
//! elements against a content model in time linear in the number of children.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum ContentSpec {
    Empty,
    Any,
    /// `(#PCDATA)` when the list is empty, else `(#PCDATA | a | b)*`.
    Mixed(Vec<String>),
    Children(Cp, Nfa),
}

impl ContentSpec {
    pub fn children(cp: Cp) -> ContentSpec {
        let nfa = Nfa::compile(&cp);
        ContentSpec::Children(cp, nfa)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occ {
    One,
    Opt,
    Star,
    Plus,
}

/// The occurrence indicators as written; [`Occ::One`] has none.
pub(crate) const OCC_MARKS: [(&str, Occ); 3] =
    [("?", Occ::Opt), ("*", Occ::Star), ("+", Occ::Plus)];

#[derive(Debug, Clone, PartialEq)]
pub enum Particle {
    Name(String),
    Seq(Vec<Cp>),
    Choice(Vec<Cp>),
}

/// A content particle with its occurrence indicator.
#[derive(Debug, Clone, PartialEq)]
pub struct Cp {
    pub particle: Particle,
    pub occ: Occ,
}

impl fmt::Display for Cp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.particle {
            Particle::Name(n) => f.write_str(n)?,
            Particle::Seq(items) | Particle::Choice(items) => {
                let sep = if matches!(self.particle, Particle::Seq(_)) {
                    ", "
                } else {
                    " | "
                };
                f.write_str("(")?;
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    write!(f, "{it}")?;
                }
                f.write_str(")")?;
            }
        }
        let mark = OCC_MARKS.iter().find(|(_, o)| *o == self.occ);
        f.write_str(mark.map_or("", |(m, _)| m))
    }
}

impl fmt::Display for ContentSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContentSpec::Empty => f.write_str("EMPTY"),
            ContentSpec::Any => f.write_str("ANY"),
            ContentSpec::Mixed(names) if names.is_empty() => f.write_str("(#PCDATA)"),
            ContentSpec::Mixed(names) => write!(f, "(#PCDATA | {})*", names.join(" | ")),
            ContentSpec::Children(cp, _) => {
                // A top-level name is always shown in parentheses, as in the declaration.
                if matches!(cp.particle, Particle::Name(_)) {
                    write!(f, "({cp})")
                } else {
                    write!(f, "{cp}")
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum AttrType {
    Cdata,
    Id,
    IdRef,
    IdRefs,
    Entity,
    Entities,
    NmToken,
    NmTokens,
    Notation(Vec<String>),
    Enumeration(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum AttrDefault {
    Required,
    Implied,
    Fixed(String),
    Value(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttrDecl {
    pub name: String,
    pub ty: AttrType,
    pub default: AttrDefault,
}

/// Thompson automaton of a content model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Nfa {
    states: Vec<State>,
    start: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    /// Consumes one child element of this name.
    Match(String, usize),
    /// Moves without consuming to any of these states.
    Split(Vec<usize>),
    Accept,
}

impl Nfa {
    fn compile(cp: &Cp) -> Nfa {
        let mut nfa = Nfa::default();
        nfa.states.push(State::Accept);
        nfa.start = nfa.build(cp, 0);
        nfa
    }

    /// Builds `cp` so that a match continues at `next`; returns the entry state.
    fn build(&mut self, cp: &Cp, next: usize) -> usize {
        match cp.occ {
            Occ::One => self.build_once(&cp.particle, next),
            Occ::Opt => {
                let body = self.build_once(&cp.particle, next);
                self.push(State::Split(vec![body, next]))
            }
            Occ::Star | Occ::Plus => {
                let looper = self.push(State::Split(Vec::new()));
                let body = self.build_once(&cp.particle, looper);
                self.states[looper] = State::Split(vec![body, next]);
                if cp.occ == Occ::Star { looper } else { body }
            }
        }
    }

    fn build_once(&mut self, p: &Particle, next: usize) -> usize {
        match p {
            Particle::Name(n) => self.push(State::Match(n.clone(), next)),
            Particle::Seq(items) => items
                .iter()
                .rev()
                .fold(next, |cont, it| self.build(it, cont)),
            Particle::Choice(items) => {
                let alts = items.iter().map(|it| self.build(it, next)).collect();
                self.push(State::Split(alts))
            }
        }
    }

    fn push(&mut self, s: State) -> usize {
        self.states.push(s);
        self.states.len() - 1
    }

    fn closure(&self, set: &mut Vec<usize>, seen: &mut [bool], s: usize) {
        let mut todo = vec![s];
        while let Some(s) = todo.pop() {
            if seen[s] {
                continue;
            }
            seen[s] = true;
            match &self.states[s] {
                State::Split(alts) => todo.extend(alts.iter().copied()),
                _ => set.push(s),
            }
        }
    }

    /// Checks a sequence of child names. On failure returns the index of the first child that
    /// cannot be matched (`names.len()` when children are missing at the end).
    pub fn check<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Result<(), usize> {
        let n = self.states.len();
        let mut seen = vec![false; n];
        let mut cur = Vec::new();
        self.closure(&mut cur, &mut seen, self.start);
        let mut count = 0;
        for (i, name) in names.into_iter().enumerate() {
            seen.iter_mut().for_each(|b| *b = false);
            let mut next = Vec::new();
            for &s in &cur {
                if let State::Match(m, to) = &self.states[s]
                    && m == name
                {
                    self.closure(&mut next, &mut seen, *to);
                }
            }
            if next.is_empty() {
                return Err(i);
            }
            cur = next;
            count = i + 1;
        }
        if cur.iter().any(|&s| matches!(self.states[s], State::Accept)) {
            Ok(())
        } else {
            Err(count)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str, occ: Occ) -> Cp {
        Cp {
            particle: Particle::Name(n.into()),
            occ,
        }
    }

    #[test]
    fn sequence_with_occurrences() {
        let cp = Cp {
            particle: Particle::Seq(vec![
                name("a", Occ::Plus),
                name("b", Occ::One),
                name("c", Occ::Opt),
                Cp {
                    particle: Particle::Choice(vec![name("d", Occ::One), name("e", Occ::Star)]),
                    occ: Occ::Star,
                },
            ]),
            occ: Occ::One,
        };
        let nfa = Nfa::compile(&cp);
        assert_eq!(nfa.check(["a", "b"]), Ok(()));
        assert_eq!(nfa.check(["a", "a", "b", "c", "d", "e", "e", "d"]), Ok(()));
        assert_eq!(nfa.check(["b"]), Err(0));
        assert_eq!(nfa.check(["a", "c"]), Err(1));
        assert_eq!(nfa.check(["a"]), Err(1));
        assert_eq!(cp.to_string(), "(a+, b, c?, (d | e*)*)");
    }
}
