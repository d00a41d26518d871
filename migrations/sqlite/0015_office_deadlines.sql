-- Time control (時效管制, SIGNOFF.md): each case's deadline, set by its signed 登記 or 創簽 and
-- moved only by signed steps (改速別, 展期). Cases from before keep NULL and are computed from
-- their 速別 and creation time until a step sets it.

-- The last day (Taipei, YYYY-MM-DD) the case may take.
ALTER TABLE office_cases ADD COLUMN due_day TEXT;
-- urgency (by 速別), fixed (限期公文) or project (專案管制).
ALTER TABLE office_cases ADD COLUMN deadline_kind TEXT;
-- 展期 granted so far: how many, and working days in all (the agency's limits count them).
ALTER TABLE office_cases ADD COLUMN extensions BIGINT NOT NULL DEFAULT 0;
ALTER TABLE office_cases ADD COLUMN extension_days BIGINT NOT NULL DEFAULT 0;

-- 稽催: open cases by due day, for the agency, a unit and an officer.
CREATE INDEX office_cases_due ON office_cases (due_day, id);
CREATE INDEX office_cases_unit_due ON office_cases (unit, due_day);
CREATE INDEX office_cases_officer_due ON office_cases (officer, due_day);
