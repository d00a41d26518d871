-- The sign-off indicators (crates/office, indicators): each figure is counted over a bounded
-- range of months on a time column, never by scanning the whole history.

-- Cases registered or created in a month (收文, 創簽／創稿, 密件).
CREATE INDEX office_cases_created ON office_cases (created_at);
-- Cases closed in a month: their last 決行 or 發文 step.
CREATE INDEX office_steps_action ON office_steps (action, at);
-- Drafts sent through the exchange in a month (postage saved).
CREATE INDEX office_dispatches_sent ON office_dispatches (sent_at);
