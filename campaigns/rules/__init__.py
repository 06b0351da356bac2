"""Pure decisions of the domain: no ORM, no clock, no I/O (an import-linter contract keeps it so).

- `engine`: may a campaign or a customer be dialed now, how many calls fit, what a refusal means;
- `hours`: weekly calling windows in local time, DST included;
- `outcomes`: what a call's endedReason means and what follows for the customer;
- `reasons`: why someone is not being dialed, in codes and in words;
- `policy`: stored rows read into the plain values the engine decides on;
- `strategy`: a campaign's settings, their defaults and bounds, weekdays, HH:MM, retry outcomes.
"""
