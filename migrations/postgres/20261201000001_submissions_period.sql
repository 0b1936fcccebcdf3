-- The accepted submissions of one month, for the reporting gauges on /metrics
-- (read at every scrape).
CREATE INDEX submissions_period_status ON submissions(period, status);
