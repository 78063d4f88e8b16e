"""The behaviours of the win-lose ↔ win-win table (DESIGN.md) as signals over time.

`facts` turns one ticket's history into dated facts (an act counted for a partner, a reply
given in time, a pair of people from both sides talking); `months` buckets counts by month and
windows them; `shift` finds the month a pattern changed; `catalog` says what each signal
measures and how it is judged; `build` assembles the report entries from aggregated counts.
"""
