"""The ledger's figures of approved exceptions and of the filing's quality: concerns filed,
voided (作废), suspended (挂账) and overdue (超期, less the stages an approved appeal exempts),
and the rates built on them (suspension, void, accurate filing). projections/ledger_figures.py
puts them in its table, so the JSON, the exports and the drill-down read them like the rest.

A voided concern did not meet the filing conditions: it counts in `filed` and `voided` only
(`counts_voided`), and every other figure, numerator or denominator, leaves it out.
"""

from __future__ import annotations

from projections.ledger_facts import Figure

EXCEPTION_COUNTS: tuple[Figure, ...] = (
    Figure(
        "filed",
        "登记立案",
        "Filed",
        "当月登记的全部民情数，含之后作废的",
        "every concern raised in the month, those voided later included",
        "concerns",
        concern_test=lambda c, _: True,
        counts_voided=True,
    ),
    Figure(
        "voided",
        "作废",
        "Voided",
        "经督查批准作废（不符合立案条件）的民情数",
        "concerns voided with a supervisor's approval (they did not meet the filing conditions)",
        "concerns",
        concern_test=lambda c, _: c.voided,
        counts_voided=True,
    ),
    Figure(
        "suspended",
        "挂账",
        "Suspended",
        "曾获批挂账的民情数",
        "concerns with a suspension approved at least once",
        "concerns",
        concern_test=lambda c, _: c.suspended_count > 0,
    ),
    Figure(
        "overdue",
        "超期",
        "Overdue",
        "有环节超期且未经申诉豁免的民情数（超期事实仍留在记录中）",
        "concerns with a stage recorded overdue that no approved appeal exempts"
        " (the overdue fact stays in the history)",
        "concerns",
        concern_test=lambda c, _: c.overdue,
    ),
)

# (name, zh, en, numerator, denominator, what the numerator counts): made into rate figures
# by projections/ledger_figures.py's `_rate`, after the extension rate.
EXCEPTION_RATES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("suspension_rate", "挂账率", "Suspension rate", "suspended", "assigned", "suspended"),
    ("void_rate", "作废率", "Void rate", "voided", "filed", "voided"),
    (
        "accurate_filing_rate",
        "准确立案率",
        "Accurate-filing rate",
        "concerns_collected",
        "filed",
        "filed less voided",
    ),
)
