//! What forms need besides the template parts: the options of a select and the errors of a
//! submitted form, each tied to its field.

/// One option of a select, with whether it is the chosen one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    /// The options `(value, label)`, with `chosen` selected.
    pub fn list<V, L>(options: impl IntoIterator<Item = (V, L)>, chosen: &str) -> Vec<Choice>
    where
        V: Into<String>,
        L: Into<String>,
    {
        options
            .into_iter()
            .map(|(v, l)| {
                let value = v.into();
                Choice {
                    selected: value == chosen,
                    value,
                    label: l.into(),
                }
            })
            .collect()
    }
}

/// One error of a submitted form: of a field (its `name`, which is also the input's id), or
/// of the form as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Option<&'static str>,
    pub message: String,
}

/// The errors of a submitted form. The parts show them twice: once in the summary at the top
/// (role="alert", each linked to its field), once under the field (tied by `aria-describedby`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormErrors {
    items: Vec<FieldError>,
}

impl FormErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// The errors with one about `field` (`None`: the whole form).
    pub fn with(mut self, field: Option<&'static str>, message: impl Into<String>) -> Self {
        self.push(field, message);
        self
    }

    pub fn push(&mut self, field: Option<&'static str>, message: impl Into<String>) {
        self.items.push(FieldError {
            field,
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn items(&self) -> &[FieldError] {
        &self.items
    }

    /// The message about `field`, or "" (what the parts take as "no error").
    pub fn of(&self, field: &str) -> &str {
        self.items
            .iter()
            .find(|e| e.field == Some(field))
            .map_or("", |e| e.message.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_mark_the_chosen_one() {
        let c = Choice::list([("a", "甲"), ("b", "乙")], "b");
        assert_eq!(
            c.iter().map(|c| c.selected).collect::<Vec<_>>(),
            [false, true]
        );
    }

    #[test]
    fn errors_are_found_by_field() {
        let e = FormErrors::new()
            .with(Some("code"), "機關代碼不對")
            .with(None, "整張表");
        assert_eq!(e.of("code"), "機關代碼不對");
        assert_eq!(e.of("name"), "");
        assert_eq!(e.items().len(), 2);
    }
}
