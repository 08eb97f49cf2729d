"""Engagement analytics: queries over the collected snapshots, the figures reports show, and the
raw export (the PDF, XLSX and charts are drawn from them in `bot.reports`).

Definitions (the code in `metrics` and `queries` follows them; reports restate them):

- A publication's **latest snapshot** is its most recent one (by `collected_at`, then the later
  row). Its counts are copied onto the publication when stored (`latest.record_snapshot`).
- **Interactions** = reactions + comments + shares + saves, adding the parts the platform gives;
  n/a when it gives none of them (Telegram gives reactions only, Facebook Pages no saves).
- Every metric is n/a when unknown, never 0. A sum over many publications ignores the unknowns
  and says how many publications had the metric (`Total.known`); n/a when none had it.
- **Engagement rate** = interactions / reach, over the publications whose reach is known and
  above zero and whose interactions are known (the sums are divided, so large posts weigh more).
- A period's totals use the latest snapshot of each publication **sent** in that period; a month
  is a calendar month in the organisation's time zone. Days, weeks (from Monday), months and the
  weekday × hour grid are local to that zone too.
- The change against the previous period compares with the period of the same length just
  before (for a month: the previous calendar month).
- Every figure is of some organisations' channels: a library's report, digest and /stats are of
  its own channels only (`orgs={org.id}`); a network report (`network`) has a row per library
  of the network, each of its own channels, over the month in the network head's zone.
"""
