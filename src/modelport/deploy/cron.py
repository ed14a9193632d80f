"""Check a cron schedule as a Kubernetes CronJob reads it, so a bad one is refused before it is applied.

Kubernetes parses ``spec.schedule`` with the standard five fields (minute, hour, day of month,
month, day of week), each ``*``, ``?`` (day fields), a value, a range ``a-b``, a step ``x/n`` or a
comma-separated list of those; months and weekdays also by their English names (``jan``, ``mon``);
or one of the macros below. Its schema says only "string", so kubernetes-validate cannot tell.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelport.errors import ConfigError

MACROS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


@dataclass(frozen=True)
class Field:
    """One of the five fields: its name, its range and the names its values may go by."""

    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    any_day: bool = False

    def value(self, text: str) -> int:
        lowered = text.lower()
        if lowered in self.names:
            return self.names.index(lowered) + self.low
        if not text.isdigit():
            raise ValueError(f"{text!r} is not a number")
        number = int(text)
        if not self.low <= number <= self.high:
            raise ValueError(f"{number} is outside {self.low}-{self.high}")
        return number

    def check(self, text: str) -> None:
        for part in text.split(","):
            self._check_part(part)

    def _check_part(self, part: str) -> None:
        span, slash, step = part.partition("/")
        if slash and (not step.isdigit() or int(step) < 1):
            raise ValueError(f"step {step!r} in {part!r} is not a whole number of at least 1")
        if span == "*" or (span == "?" and self.any_day):
            return
        first, dash, last = span.partition("-")
        start = self.value(first)
        if dash and self.value(last) < start:
            raise ValueError(f"range {span!r} ends before it starts")


FIELDS = (Field("minute", 0, 59), Field("hour", 0, 23), Field("day of month", 1, 31, any_day=True),
          Field("month", 1, 12, MONTHS), Field("day of week", 0, 6, WEEKDAYS, any_day=True))


def check_schedule(schedule: str) -> str:
    """``schedule`` stripped, when Kubernetes would accept it; else ConfigError naming the field."""
    text = " ".join(schedule.split())
    if text.lower() in MACROS:
        return text
    if text.upper().startswith(("TZ=", "CRON_TZ=")):
        raise ConfigError(f"schedule {schedule!r}: Kubernetes refuses a time zone in the schedule; "
                          "give it with --time-zone")
    parts = text.split(" ")
    if len(parts) != len(FIELDS):
        raise ConfigError(f"schedule {schedule!r} has {len(parts) if text else 0} fields; a cron "
                          "schedule has 5 (minute hour day-of-month month day-of-week, e.g. "
                          f"'0 2 * * *') or is one of {', '.join(sorted(MACROS))}")
    for field, part in zip(FIELDS, parts, strict=True):
        try:
            field.check(part)
        except ValueError as exc:
            raise ConfigError(f"schedule {schedule!r}: the {field.name} field {part!r} is not valid: "
                              f"{exc}") from None
    return text
