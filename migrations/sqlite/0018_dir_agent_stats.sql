-- Statistics of the directory and the agent (issue 19): what their pages read by period.
-- The directory counts decisions, suspensions and terminations from its log by action and
-- time, and applications by when they arrived.
CREATE INDEX directory_log_action ON directory_log (action, at);
CREATE INDEX dir_applications_created ON dir_applications (created_at);

-- The agent counts what each agency sent and received by day, and reads the 簽收 times,
-- from the indexes alone.
CREATE INDEX agent_sent_created ON agent_sent (agency, created_at, state);
CREATE INDEX agent_received_stats ON agent_received (agency, received_at, state, handled_at);

-- Each time a sent document was printed to mail on paper (已電子交換未確認) to a recipient
-- that did not confirm: who printed it and when, so the statistics can show how much still
-- went on paper.
CREATE TABLE agent_paper_prints (
    agency TEXT NOT NULL,
    package_id TEXT NOT NULL,
    printed_at INTEGER NOT NULL,
    printed_by TEXT NOT NULL
);
CREATE INDEX agent_paper_prints_at ON agent_paper_prints (agency, printed_at);
