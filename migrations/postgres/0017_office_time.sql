-- Time control, continued (SIGNOFF.md): 展期 and 改列專案管制 are asked by the officer and
-- granted by a head whose level rises with the length; a 會辦 has its own deadline; people get
-- reminders by e-mail.

-- The open request of a case (at most one): extend (展期, asked_days working days) or project
-- (改列專案管制, until asked_day), to be granted at asked_level (1 首長, 2 一級單位主管,
-- 3 二級單位主管) or above; asked_seq is the signed step that asked.
ALTER TABLE office_cases ADD COLUMN asked_kind TEXT;
ALTER TABLE office_cases ADD COLUMN asked_days BIGINT;
ALTER TABLE office_cases ADD COLUMN asked_day TEXT;
ALTER TABLE office_cases ADD COLUMN asked_level BIGINT;
ALTER TABLE office_cases ADD COLUMN asked_by TEXT;
ALTER TABLE office_cases ADD COLUMN asked_seq BIGINT;
CREATE INDEX office_cases_asked ON office_cases (asked_level, unit);

-- A 會辦's deadline (Taipei day): the date the asking step names, or 速件 (3 working days) when
-- it names none; NULL when the calendar did not cover it when asked.
ALTER TABLE office_consults ADD COLUMN due_day TEXT;

-- Where a person's reminders go (稽催 by e-mail); NULL: only on the worklist.
ALTER TABLE office_people ADD COLUMN email TEXT;

-- Reminders sent: one per person and day, so a restart never mails twice.
CREATE TABLE office_reminders (
    day TEXT NOT NULL,
    person TEXT NOT NULL REFERENCES office_people(id),
    sent_at BIGINT NOT NULL,
    overdue BIGINT NOT NULL,
    due_soon BIGINT NOT NULL,
    -- sent, or failed with the SMTP server's answer (tried again next round).
    outcome TEXT NOT NULL,
    PRIMARY KEY (day, person)
);
